package server

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserClosure: the closure is set and lifted from the admin UI in
// one click each; while it is on, a banner is on the admin pages and new
// calls hear it.
func TestBrowserClosure(t *testing.T) {
	chrome := needChrome(t, "the closure switch")
	e := newAdminEnv(t, "", map[string]string{"IVR_PUBLIC_URL": testPublic})
	base := serveT(t, e.h)
	ctx, problems := startChrome(t, chrome)
	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	do("log in", logIn(base+"/admin/closure", "closure-set")...)
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
