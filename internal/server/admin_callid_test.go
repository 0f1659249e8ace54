package server

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/store"
)

// A call id may hold any character the provider (or a signed test request)
// sent, "/" and "%" included: the call list links to it and the link opens
// that call.
func TestAdminCallPageOddIDs(t *testing.T) {
	e := newAdminEnv(t, "", map[string]string{"IVR_ADMIN_TOKEN": adminTestToken})
	ids := []string{"CA/with/slashes", "a%b", "a%2Fb", "space and ?query#frag", "dots/../up", "plain"}
	ctx := context.Background()
	at := time.Now().UTC()
	for i, id := range ids {
		u := store.StatusUpdate{Provider: "twilio", CallID: id, From: "+15550000001", To: "+15550000002",
			Status: "completed", Final: true, At: at.Add(time.Duration(i) * time.Second)}
		if err := e.db.UpdateStatus(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	list := e.do(t, "GET", "/admin/calls", "", withBearer(adminTestToken))
	if list.Code != http.StatusOK {
		t.Fatalf("calls page = %d", list.Code)
	}
	hrefs := regexp.MustCompile(`href="(/admin/calls/twilio/[^"]+)"`).FindAllStringSubmatch(list.Body.String(), -1)
	if len(hrefs) < len(ids) {
		t.Fatalf("calls page links %d calls, want %d", len(hrefs), len(ids))
	}
	seen := map[string]bool{}
	for _, m := range hrefs {
		href := html.UnescapeString(m[1])
		w := e.do(t, "GET", href, "", withBearer(adminTestToken))
		if w.Code != http.StatusOK {
			t.Errorf("GET %s = %d, want 200: %s", href, w.Code, strings.TrimSpace(w.Body.String()))
			continue
		}
		for _, id := range ids {
			if strings.Contains(w.Body.String(), html.EscapeString(id)) {
				seen[id] = true
			}
		}
	}
	for _, id := range ids {
		if !seen[id] {
			t.Errorf("call %q: its page was not reached from the list", id)
		}
	}
}

// The Try page says why the server answered with its fallback.
func TestAdminTryNamesTheFallbackReason(t *testing.T) {
	e := newAdminEnv(t, "", map[string]string{"IVR_ADMIN_TOKEN": adminTestToken})
	for _, p := range []string{"twilio", "plivo"} {
		b, _ := json.Marshal(tryRequest{Provider: p, URL: "/" + p + "/voice/menu/no-such-menu"})
		w := e.do(t, "POST", "/admin/api/try", string(b), withBearer(adminTestToken))
		var res tryResponse
		if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
			t.Fatalf("%s: %v: %s", p, err, w.Body.String())
		}
		if !res.Fallback || !strings.Contains(res.Error, "reason flow") {
			t.Errorf("%s unknown menu: fallback %v, error %q; want the fallback and its reason", p, res.Fallback, res.Error)
		}
	}
}
