package server

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ivr-project/ivr/internal/testutil"
)

// TestBrowserClosure: the closure is set and lifted from the admin UI in
// one click each; while it is on, a banner is on the admin pages and new
// calls hear it.
func TestBrowserClosure(t *testing.T) {
	chrome := findChrome()
	if chrome == "" {
		testutil.SkipOrFail(t, "NO CHROMIUM FOUND: the closure browser test did NOT run. "+
			"Install it (apt-get install -y chromium) or set IVR_TEST_CHROME to a Chrome/Chromium binary.")
	}
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	e := newAdminEnv(t, "", map[string]string{"IVR_PUBLIC_URL": testPublic})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: e.h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	base := "http://" + ln.Addr().String()
	ctx, problems := startChrome(t, chrome)
	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	do("log in",
		chromedp.Navigate(base+"/admin/closure"),
		chromedp.WaitVisible(chromedp.ID("login-form")),
		chromedp.SendKeys(chromedp.ID("token"), adminTestToken),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("closure-set")),
	)
	const msg = "We are closed for the storm. Please call again tomorrow."
	do("set the closure",
		chromedp.SendKeys(chromedp.CSS(`#closure-set textarea[name=message]`), msg),
		chromedp.SetValue(chromedp.CSS(`#closure-set select[name=then]`), "hangup"),
		chromedp.SendKeys(chromedp.CSS(`#closure-set input[name=author]`), "Dana"),
		chromedp.Click(chromedp.ID("closure-set-button")),
		chromedp.WaitVisible(chromedp.ID("closure-on")),
		chromedp.WaitVisible(chromedp.ID("closure-banner")),
	)
	if w := e.do(t, "GET", "/admin/api/closure", "", withBearer(adminTestToken)); !strings.Contains(w.Body.String(), msg) || !strings.Contains(w.Body.String(), `"set_by": "Dana"`) {
		t.Fatalf("GET /admin/api/closure after setting it in the UI: %s", w.Body)
	}
	if body := e.newCall(t, "plivo"); !strings.Contains(body, msg) {
		t.Errorf("a new call during the closure set in the UI: %s", body)
	}
	do("the banner is on other pages", chromedp.Navigate(base+"/admin/calls"), chromedp.WaitVisible(chromedp.ID("closure-banner")))
	do("lift the closure",
		chromedp.Navigate(base+"/admin/closure"),
		chromedp.WaitVisible(chromedp.ID("closure-lift-button")),
		chromedp.Click(chromedp.ID("closure-lift-button")),
		chromedp.WaitVisible(chromedp.ID("closure-set")),
	)
	html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("body")))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(html, `id="closure-banner"`) {
		t.Error("closure banner still shown after lifting")
	}
	if w := e.do(t, "GET", "/admin/api/closure", "", withBearer(adminTestToken)); strings.TrimSpace(w.Body.String()) != "{}" {
		t.Errorf("GET /admin/api/closure after lifting in the UI: %s", w.Body)
	}
	if body := e.newCall(t, "twilio"); strings.Contains(body, msg) {
		t.Errorf("a new call after lifting still hears the closure")
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("console errors: %v", p)
	}
}
