package server

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ivr-project/ivr/internal/testutil"
)

// findChrome returns the Chromium to drive: $IVR_TEST_CHROME, else the
// first of chromium, chromium-browser, google-chrome on PATH.
func findChrome() string {
	if p := os.Getenv("IVR_TEST_CHROME"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// needChrome returns the Chromium to drive, or skips the test (what names
// it) loudly (a failure with CI=true) when there is none, or in -short mode.
func needChrome(t *testing.T, what string) string {
	t.Helper()
	chrome := findChrome()
	if chrome == "" {
		testutil.SkipOrFail(t, "NO CHROMIUM FOUND: "+what+"'s browser test did NOT run. "+
			"Install it (apt-get install -y chromium) or set IVR_TEST_CHROME to a Chrome/Chromium binary.")
	}
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	return chrome
}

// artifactsDir is where screenshots go: $IVR_TEST_ARTIFACTS when set (to
// look at them), else a temporary directory removed with the test.
func artifactsDir(t *testing.T) string {
	dir := os.Getenv("IVR_TEST_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifacts dir: %v", err)
	}
	return dir
}

// TestBrowserAdmin drives the admin UI in headless Chromium against the real
// server on a real listener: log in, see the flow map, play a call on the
// keypad to a transfer, find the call in the list.
func TestBrowserAdmin(t *testing.T) {
	chrome := needChrome(t, "the admin UI")

	e := newAdminEnv(t, "", nil)
	e.db.EnableOutbox() // the call's end becomes a call.completed event (step 6)
	base := serveT(t, e.h)
	shots := artifactsDir(t)

	ctx, problems := startChrome(t, chrome)

	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			buf, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return fmt.Errorf("screenshot %s: %w", name, err)
			}
			return os.WriteFile(filepath.Join(shots, "admin-"+name+".png"), buf, 0o644)
		})
	}
	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	text := func(sel chromedp.CSS) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.TextContent(sel))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}

	// 1. Log in through the form.
	do("open the admin",
		chromedp.Navigate(base+"/admin/flow"),
		chromedp.WaitVisible(chromedp.ID("login-form")),
		shot("1-login"),
	)
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.Contains(loc, "/admin/login") {
		t.Fatalf("not sent to the login form: %s", loc)
	}
	do("log in",
		chromedp.SendKeys(chromedp.ID("token"), adminTestToken),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("flow-diagram")),
	)

	// 2. The flow map shows menu main (a card and a box in the diagram).
	do("flow map", shot("2-flow-map"), chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		buf, err := chromedp.Screenshot(chromedp.ID("flow-diagram"))(ctx, tg)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(shots, "admin-2-flow-diagram.png"), buf, 0o644); err != nil {
			return err
		}
		buf, err = chromedp.Screenshot(chromedp.ID("menu-main"))(ctx, tg)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(shots, "admin-2-menu-main.png"), buf, 0o644)
	}))
	if card, diagram := text("#menu-main h2"), text(`#flow-diagram g[data-node="m:main"]`); !strings.Contains(card, "main") || !strings.Contains(diagram, "main") {
		t.Errorf("flow map: card %q, diagram box %q", card, diagram)
	}

	// 3. Try it: call, press 2 (support), then 1 (transfer to a technician).
	key, waitText := tryKey, transcriptShows
	do("try it",
		chromedp.Navigate(base+"/admin/try"),
		chromedp.WaitVisible(chromedp.CSS(`#start:not([disabled])`)),
		chromedp.SetValue(chromedp.ID("from"), "+15551112222"),
		chromedp.Click(chromedp.ID("start")),
		waitText("For billing, press 1"),
		key("2"),
		waitText("Support."),
		key("1"),
		chromedp.WaitVisible(chromedp.CSS(".end-transfer")),
		shot("3-try-transfer"),
	)
	if end := text(".end-transfer"); !strings.Contains(end, "Transferred to +15005550006") {
		t.Errorf("end of call shows %q, want the transfer", end)
	}
	attr, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("callstate"), "data-call-id"))
	callID := attr.Value
	if err != nil || callID == "" {
		t.Fatalf("the try page did not show a call id (%v)", err)
	}
	do("hang up", chromedp.Click(chromedp.ID("hangup")), waitText("You hung up"))

	// A forged webhook (no signature) shows up in the counts tables.
	resp, err := http.PostForm(base+"/twilio/voice", map[string][]string{"CallSid": {"CAforged"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	// 4. Calls: the call is in the list (events are written asynchronously).
	row := chromedp.CSS(fmt.Sprintf(`tr[data-call-id="%s"]`, callID))
	if !testutil.Eventually(15*time.Second, func() bool {
		do("calls list", chromedp.Navigate(base+"/admin/calls"), chromedp.WaitVisible(chromedp.ID("calls-table")))
		nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll(string(row)), chromedp.AtLeast(0)))
		if err != nil {
			t.Fatal(err)
		}
		return len(nodes) > 0
	}) {
		t.Fatalf("call %s never showed up in the calls list", callID)
	}
	do("calls page", shot("4-calls"))
	if r := text(row); !strings.Contains(r, "+15551112222") || !strings.Contains(r, "transfer") || !strings.Contains(r, "completed") {
		t.Errorf("call row = %q, want the caller, the transfer in its path and status completed", r)
	}
	if fb, rf := text("#fallback-counts"), text("#refused-counts"); !strings.Contains(fb, "missing_signature") || !strings.Contains(rf, "missing_signature") {
		t.Errorf("counts tables: fallbacks %q, refused %q", fb, rf)
	}
	do("call detail",
		chromedp.Click(row+` td.path a`),
		chromedp.WaitVisible(chromedp.ID("call-events")),
		shot("5-call-detail"),
	)
	if ev := text("#call-events"); !strings.Contains(ev, "support") || !strings.Contains(ev, "transfer +15005550006") {
		t.Errorf("call events = %q", ev)
	}

	// 5. Insights: the dashboard draws the call in its charts (server-side
	// SVG, no script), lists the menus, and the voicemail inbox opens.
	do("insights",
		chromedp.Navigate(base+"/admin/insights"),
		chromedp.WaitVisible(chromedp.ID("chart-days")),
		shot("6-insights"),
	)
	if calls := text("#kpi-calls"); strings.TrimSpace(calls) != "1" {
		t.Errorf("insights: %q calls, want 1", calls)
	}
	for _, sel := range []string{`#chart-days rect > title`, `#chart-hours rect > title`, `#menu-funnels tr[data-menu="support"]`} {
		nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll(sel), chromedp.AtLeast(0)))
		if err != nil || len(nodes) == 0 {
			t.Errorf("insights page: nothing matches %s (%v)", sel, err)
		}
	}
	if fc := text("#failure-counts"); !strings.Contains(fc, "missing_signature") {
		t.Errorf("insights failure counts %q lack the forged request", fc)
	}
	box, err := chromedp.Run(ctx, chromedp.Dimensions(chromedp.ID("chart-days")))
	if err != nil || box.Width < 300 || box.Height < 80 {
		t.Errorf("calls-per-day chart drawn at %+v (%v), want a visible chart", box, err)
	}
	do("flow map counts", chromedp.Navigate(base+"/admin/flow"), chromedp.WaitVisible(chromedp.ID("flow-diagram")), shot("6-flow-counts"))
	if c := text(`#flow-diagram [data-edge="m:main/2"]`); strings.TrimSpace(c) != "1" {
		t.Errorf("flow map: the arrow of main's option 2 shows %q, want 1", c)
	}
	do("voicemail inbox",
		chromedp.Navigate(base+"/admin/voicemails"),
		chromedp.WaitVisible(chromedp.ID("voicemails")),
		shot("7-voicemails"),
	)

	// 6. Webhooks: the call's call.completed is listed, and its retry button
	// (a form with the CSRF token) works.
	hook := chromedp.CSS(`#webhooks-table tbody tr[data-event-id]`)
	do("webhooks",
		chromedp.Navigate(base+"/admin/webhooks"),
		chromedp.WaitVisible(hook),
		shot("8-webhooks"),
	)
	if r := text(hook); !strings.Contains(r, "call.completed") || !strings.Contains(r, callID) || !strings.Contains(r, "pending") {
		t.Errorf("webhook row = %q, want the call's pending call.completed", r)
	}
	// The retry posts a form and is redirected back to the same URL, so the
	// old page is marked first and the new one is waited for: a node of the
	// old page would vanish under the next click.
	do("webhook retry",
		chromedp.Evaluate[chromedp.Void](`window.beforeRetry = true`),
		chromedp.Click(hook+` form.retry button`),
	)
	testutil.WaitFor(t, "the webhooks page after the retry", func() bool {
		// Errors are expected while the page is being replaced.
		fresh, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
			`window.beforeRetry === undefined && document.readyState === "complete" && document.querySelector(`+"`"+string(hook)+"`"+`) !== null`))
		return err == nil && fresh
	})
	if u, err := chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.HasSuffix(u, "/admin/webhooks") {
		t.Errorf("after retry the page is %q (%v), want the webhooks list", u, err)
	}

	// 7. Log out: the admin asks for the token again.
	do("log out",
		chromedp.Click(chromedp.CSS(".logout button")),
		chromedp.WaitVisible(chromedp.ID("login-form")),
		chromedp.Navigate(base+"/admin/calls"),
		chromedp.WaitVisible(chromedp.ID("login-form")),
	)

	for _, p := range problems() {
		t.Errorf("browser: %s", p)
	}
	t.Logf("screenshots in %s", shots)
}

// tryKey presses k on the Try panel's keypad once the key is enabled.
func tryKey(k string) chromedp.Action[chromedp.Void] {
	sel := chromedp.CSS(fmt.Sprintf(`#keypad button[data-key="%s"]:not([disabled])`, k))
	return chromedp.Steps(chromedp.WaitVisible(sel), chromedp.Click(sel))
}

// transcriptShows waits (up to 20 s) until the Try panel's transcript
// shows text.
func transcriptShows(text string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.getElementById("transcript").innerText.includes(%q)`, text),
		chromedp.WithPollingTimeout(20*time.Second))
}

// startChrome starts headless Chromium for the test; problems returns the
// page exceptions and console errors (CSP violations among them) seen.
func startChrome(t *testing.T, chrome string) (context.Context, func() []string) {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chrome),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancelCtx)
	var (
		mu   sync.Mutex
		seen []string
	)
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				mu.Lock()
				seen = append(seen, string(m.Type)+": "+m.Text)
				mu.Unlock()
			}
		}
	}()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium %s: %v", chrome, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancel)
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

// logIn opens the admin page at url, which sends the browser to the login
// form, logs in with the admin token and waits until the element with id
// ready shows (the page asked for, back again).
func logIn(url, ready string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.ID("login-form")),
		chromedp.SendKeys(chromedp.ID("token"), adminTestToken),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID(ready)),
	}
}
