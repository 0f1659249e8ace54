package server

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ivr-project/ivr/internal/httpobs"
	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/publish"
	"github.com/ivr-project/ivr/internal/testutil"
)

// serveT serves h on a loopback listener until the test ends.
func serveT(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return "http://" + ln.Addr().String()
}

// secondInstance is another server on e's store, with its own flow source
// that only learns of publishes by polling the revisions table.
func secondInstance(t *testing.T, e *adminEnv) (*publish.Source, *publish.Service) {
	t.Helper()
	src, err := publish.NewSource("", nil)
	if err != nil {
		t.Fatal(err)
	}
	pub := publish.New(src, e.db, nil)
	d := e.deps
	d.Flows, d.Publisher, d.Metrics, d.Failures = src, pub, httpobs.NewMetrics(nil, nil), nil
	h, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	serveT(t, h)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { pub.Follow(ctx, 50*time.Millisecond); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return src, pub
}

// TestBrowserFlowEditor drives the flow editor in headless Chromium: a
// mistake is flagged on its line, fixed; the draft is tried on the keypad;
// replay lists the recorded call the change reroutes; publish; a second
// server on the same store serves it; roll back.
func TestBrowserFlowEditor(t *testing.T) {
	chrome := needChrome(t, "the flow editor")
	e := newAdminEnv(t, "", nil)
	base := serveT(t, e.h)
	otherSrc, otherPub := secondInstance(t, e)
	shots := artifactsDir(t)
	ctx, problems := startChrome(t, chrome)

	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			buf, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return fmt.Errorf("screenshot %s: %w", name, err)
			}
			return os.WriteFile(filepath.Join(shots, "editor-"+name+".png"), buf, 0o644)
		})
	}
	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	poll := func(js string) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(20*time.Second))
	}
	key, transcript := tryKey, transcriptShows
	// replaceInEditor selects the first occurrence of old in the editor
	// and types new over it, as a person would.
	replaceInEditor := func(old, new string) chromedp.Action[chromedp.Void] {
		return chromedp.Steps(
			chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const e = document.getElementById("editor"); const i = e.value.indexOf(%q); if (i < 0) throw new Error("not in the editor: " + %q); e.focus(); e.setSelectionRange(i, i + %d); })()`, old, old, len(old))),
			chromedp.KeyEvent(new),
		)
	}

	// A recorded call on the live flow: main, 2 (support), 1 (transfer).
	do("log in", logIn(base+"/admin/login", "flow-diagram")...)
	do("a call on the live flow",
		chromedp.Navigate(base+"/admin/try"),
		chromedp.WaitVisible(chromedp.CSS(`#start:not([disabled])`)),
		chromedp.Click(chromedp.ID("start")),
		transcript("For billing, press 1"), key("2"), transcript("Support."), key("1"),
		chromedp.WaitVisible(chromedp.CSS(".end-transfer")),
		chromedp.Click(chromedp.ID("hangup")), transcript("You hung up"),
	)
	attr, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("callstate"), "data-call-id"))
	callID := attr.Value
	if err != nil || callID == "" {
		t.Fatalf("no call id on the try page (%v)", err)
	}
	testutil.WaitFor(t, "the call's events to be stored", func() bool {
		c, err := e.db.GetCall(context.Background(), "twilio", callID)
		return err == nil && len(c.Events) >= 4
	})

	// 1. A mistake is flagged on its line; fixing it clears it and draws the map.
	example := string(ivr.Example())
	line := strings.Count(example[:strings.Index(example, "do: {goto: support}")], "\n") + 1
	do("open the editor",
		chromedp.Navigate(base+"/admin/flow/edit"),
		chromedp.WaitVisible(chromedp.ID("editor")),
		poll(`document.getElementById("check-state").textContent === "passes check"`),
		poll(`document.querySelector('#draft-map svg g[data-node="m:main"]') !== null`),
	)
	do("type a mistake",
		replaceInEditor("do: {goto: support}", "do: {goto: suport}"),
		poll(fmt.Sprintf(`(() => { const b = document.querySelectorAll("#gutter span.bad"); return b.length === 1 && b[0].dataset.line === "%d"; })()`, line)),
		shot("1-mistake"),
	)
	if p, _ := chromedp.Run(ctx, chromedp.TextContent(chromedp.ID("problems"))); !strings.Contains(p, fmt.Sprintf("flow.yaml:%d:", line)) || !strings.Contains(p, "suport") {
		t.Errorf("problems list = %q, want flow.yaml:%d:... naming suport", p, line)
	}
	do("fix it",
		replaceInEditor("do: {goto: suport}", "do: {goto: billing}"),
		poll(`document.getElementById("check-state").textContent === "passes check" && document.querySelectorAll("#gutter span.bad").length === 0`),
		poll(`document.querySelector('#draft-map svg [data-edge="m:main/2"], #draft-map svg g[data-node="m:billing"]') !== null`),
	)

	// 2. Try the draft: 2 now leads to billing.
	do("try the draft",
		chromedp.Click(chromedp.ID("start")),
		transcript("For billing, press 1"), key("2"), transcript("Billing. We see you are calling"),
		shot("2-try-draft"),
		chromedp.Click(chromedp.ID("hangup")),
	)

	// 3. Replay: the recorded call would now go to billing.
	do("replay",
		chromedp.Click(chromedp.ID("replay")),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`tr.changed-call[data-call-id="%s"]`, callID))),
		shot("3-replay"),
	)
	if r, _ := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(fmt.Sprintf(`tr.changed-call[data-call-id="%s"]`, callID)))); !strings.Contains(r, "support") || !strings.Contains(r, "billing") {
		t.Errorf("replayed call row = %q, want support (live) and billing (draft)", r)
	}
	if d, _ := chromedp.Run(ctx, chromedp.TextContent(chromedp.ID("replay-diff"))); !strings.Contains(d, "+        do: {goto: billing}") {
		t.Errorf("replay diff = %q", d)
	}

	// 4. Publish; the second server serves it.
	do("publish",
		chromedp.SendKeys(chromedp.ID("note"), "support callers go to billing"),
		chromedp.Click(chromedp.ID("publish")),
		poll(`document.getElementById("publish-result").textContent.includes("Published as revision 2")`),
		poll(`document.querySelector('#revisions tr.live[data-revision="2"]') !== null`),
		shot("4-published"),
	)
	draftHash := e.flows.Flow().Revision()
	testutil.WaitFor(t, "the second server to serve revision 2", func() bool {
		return otherSrc.Flow().Revision() == draftHash && strings.Contains(string(otherSrc.Text()), "do: {goto: billing}")
	})
	if rev, err := otherPub.Live(context.Background()); err != nil || rev.ID != 2 || rev.Note != "support callers go to billing" {
		t.Errorf("second server's live revision = %+v, %v", rev, err)
	}

	// 5. Roll back to revision 1: both servers serve the example again.
	do("roll back",
		chromedp.Click(chromedp.CSS(`#revisions tr[data-revision="1"] button.rollback`)),
		poll(`document.getElementById("publish-result").textContent.includes("Rolled back")`),
		poll(`document.querySelector('#revisions tr.live[data-revision="3"]') !== null`),
		poll(`document.getElementById("editor").value.includes("do: {goto: support}")`),
		chromedp.Click(chromedp.CSS(`#revisions tr[data-revision="3"] button.diff-prev`)),
		poll(`document.getElementById("revision-diff").textContent.includes("-        do: {goto: billing}")`),
		// Any two revisions: 1 to 2 is the change published above.
		chromedp.SendKeys(chromedp.ID("diff-from"), "1"),
		chromedp.SendKeys(chromedp.ID("diff-to"), "2"),
		chromedp.Click(chromedp.ID("diff-show")),
		poll(`document.getElementById("revision-diff").textContent.includes("+        do: {goto: billing}")`),
		shot("5-rolled-back"),
	)
	testutil.WaitFor(t, "the second server to serve the rollback", func() bool {
		return otherSrc.Flow().Revision() == ivrExampleHash(t)
	})
	if got, err := e.db.FlowRevisionByID(context.Background(), 3); err != nil || got.Note != "rollback to revision 1" {
		t.Errorf("revision 3 = %+v, %v", got, err)
	}
	for _, p := range problems() {
		t.Errorf("browser: %s", p)
	}

	// 6. Someone publishes meanwhile: the editor's publish is refused with
	// 409 (which Chromium logs as a failed resource, the only error allowed).
	before := len(problems())
	if _, err := otherPub.Publish(context.Background(), 3, []byte(apiFlowV1), "someone", "elsewhere"); err != nil {
		t.Fatal(err)
	}
	do("a conflicting publish",
		chromedp.Click(chromedp.ID("publish")),
		poll(`document.getElementById("publish-result").textContent.includes("Not published (409)") && document.getElementById("publish-result").textContent.includes("someone published the flow since this draft was opened")`),
		shot("6-conflict"),
	)
	for _, p := range problems()[before:] {
		if !strings.Contains(p, "status of 409") {
			t.Errorf("browser: %s", p)
		}
	}
}

func ivrExampleHash(t *testing.T) string {
	f, err := ivr.Parse("x", ivr.Example())
	if err != nil {
		t.Fatal(err)
	}
	return f.Revision()
}
