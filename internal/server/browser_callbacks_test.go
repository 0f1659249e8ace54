package server

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/store"
)

// TestBrowserCallbacks: the Callbacks page in a real browser lists a
// request with its context; "Call back" with an agent's number places one
// call through the (fake) provider API and the row shows it calling; a
// provider API that fails leaves the row open with the error shown.
func TestBrowserCallbacks(t *testing.T) {
	chrome := needChrome(t, "the Callbacks page")
	e := newHandoffEnvWith(t, map[string]string{"IVR_PUBLIC_URL": ""})
	ctx0 := context.Background()
	failing, _, err := e.db.AddCallback(ctx0, store.Callback{Provider: "plivo", CallID: "plivo-call-1", Number: "+14155550111", To: "+14155550199"})
	if err != nil {
		t.Fatal(err)
	}
	cb, _, err := e.db.AddCallback(ctx0, store.Callback{Provider: "twilio", CallID: "CA-browser-1", Number: "+14155550100", To: "+14155550199",
		Context: []ivr.ContextValue{{Name: "account", Value: "123456"}}})
	if err != nil {
		t.Fatal(err)
	}
	e.plivoAPI.Answer(http.StatusInternalServerError, `{"error": "plivo is down"}`, 0)

	base := serveT(t, e.h)
	shots := artifactsDir(t)
	ctx, problems := startChrome(t, chrome)
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			buf, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, "callbacks-"+name+".png"), buf, 0o644)
		})
	}
	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	row := func(id int64) string { return `#callbacks tr[data-callback="` + itoa(id) + `"]` }

	do("log in", append(logIn(base+"/admin/callbacks", "callbacks"), shot("1-list"))...)
	if s := text(row(cb.ID)); !strings.Contains(s, "+14155550100") || !strings.Contains(s, "account: 123456") || !strings.Contains(s, "open") {
		t.Fatalf("the row of the request: %q", s)
	}

	// "Call back": one call through Twilio's API, the row now calling.
	do("call back",
		chromedp.SendKeys(chromedp.CSS(row(cb.ID)+` input[name="agent"]`), "+15550001111"),
		chromedp.Click(chromedp.CSS(row(cb.ID)+` button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(row(cb.ID)+`[data-state="calling"]`)),
		shot("2-calling"),
	)
	if s := text(row(cb.ID)); !strings.Contains(s, "agent +15550001111") || !strings.Contains(s, "CA99990000111122223333444455556666") {
		t.Errorf("the calling row: %q", s)
	}
	reqs := e.twilioAPI.Requests()
	if len(reqs) != 1 || reqs[0].User != handoffSID || reqs[0].Password != handoffToken {
		t.Fatalf("Twilio API requests: %+v", reqs)
	}

	// A provider API that fails: the row stays open with the error.
	// The agent's number stays filled in from the last call back.
	do("call back, failing",
		chromedp.Click(chromedp.CSS(row(failing.ID)+` button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("callback-error")),
		shot("3-failed"),
	)
	if s := text(row(failing.ID)); !strings.Contains(s, "open") || !strings.Contains(s, "plivo is down") {
		t.Errorf("the failed row: %q", s)
	}
	if s := text("#callback-error"); !strings.Contains(s, "stays open") {
		t.Errorf("the error shown: %q", s)
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("browser console errors: %v", p)
	}
}
