package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserTryWhisper plays a transfer with a whisper on the Try page in
// a real browser, as the agent: on Twilio the agent hears the whisper and
// presses the accept key on the keypad, and the call is taken; on Plivo the
// agent declines with the page's button, the transfer goes on to the next
// number, and that agent takes the call.
func TestBrowserTryWhisper(t *testing.T) {
	chrome := needChrome(t, "the Try page's whisper buttons")
	e := newHandoffEnvWith(t, map[string]string{"IVR_PUBLIC_URL": ""})
	base := serveT(t, e.h)
	ctx, problems := startChrome(t, chrome)
	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v\ntranscript: %s", step, err, transcriptText(ctx))
		}
	}
	key, waitText := tryKey, transcriptShows
	// toTransfer calls on provider and asks for an agent: the transfer
	// with its whisper ends the caller's document.
	toTransfer := func(provider string) chromedp.Action[chromedp.Void] {
		return chromedp.Steps(
			chromedp.WaitVisible(chromedp.CSS(`#start:not([disabled])`)),
			chromedp.Click(chromedp.ID("provider-"+provider)),
			chromedp.Click(chromedp.ID("start")),
			waitText("Enter your account number."),
			key("1"), key("2"), key("3"), key("4"), key("5"), key("6"),
			waitText("Press 0 for an agent"),
			key("0"),
			chromedp.WaitVisible(chromedp.CSS(".end-transfer")),
			chromedp.WaitVisible(chromedp.ID("agent-answers")),
		)
	}

	do("log in", logIn(base+"/admin/try", "transcript")...)

	// Twilio: the whisper's own gather asks the agent for the key.
	do("twilio: to the transfer", toTransfer("twilio"))
	do("twilio: the agent answers",
		chromedp.Click(chromedp.ID("agent-answers")),
		waitText("The agent answers and hears the whisper"),
		waitText("Billing call, account 1 2 3 4 5 6"),
		key("1"),
		waitText("The agent pressed 1"),
		waitText("The agent took the call"),
	)
	if s := transcriptText(ctx); strings.Contains(s, "The agent declined") {
		t.Errorf("twilio: the agent pressed the accept key, yet the transcript says declined:\n%s", s)
	}
	// The dial's action after a taken transfer ends the caller's call.
	do("twilio: the call ends", waitText("The call was hung up"))

	// Plivo: the dial's confirm key; the page offers take or decline.
	do("plivo: to the transfer", toTransfer("plivo"))
	do("plivo: the agent answers and declines",
		chromedp.Click(chromedp.ID("agent-answers")),
		chromedp.WaitVisible(chromedp.ID("agent-decline")),
		chromedp.Poll[chromedp.Void](`document.getElementById("callstate").innerText.includes("press 1 to take the call")`,
			chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Click(chromedp.ID("agent-decline")),
		waitText("The agent declined: the transfer goes on"),
	)
	if s := transcriptText(ctx); strings.Contains(s, "The agent took the call") {
		t.Errorf("plivo: the agent declined, yet the transcript says taken:\n%s", s)
	}
	// The transfer goes on to the SIP desk, whose agent takes the call.
	do("plivo: the next agent takes it",
		waitText("Transferred to client sip:sales@pbx.example.com"),
		chromedp.WaitVisible(chromedp.ID("agent-answers")),
		chromedp.Click(chromedp.ID("agent-answers")),
		chromedp.WaitVisible(chromedp.ID("agent-accept")),
		chromedp.Click(chromedp.ID("agent-accept")),
		waitText("The agent took the call"),
	)
	for _, p := range problems() {
		t.Errorf("browser: %s", p)
	}
}

// transcriptText is the Try page's transcript, for failure messages.
func transcriptText(ctx context.Context) string {
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.ID("transcript")))
	if err != nil {
		return "(no transcript: " + err.Error() + ")"
	}
	return s
}
