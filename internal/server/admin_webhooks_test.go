package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ivr-project/ivr/internal/store"
)

// The admin lists outbox events with their state, attempts, last error and
// next attempt, and retries one (CSRF-protected form, or bearer JSON).
func TestAdminWebhooks(t *testing.T) {
	e := newAdminEnv(t, "", map[string]string{"IVR_WEBHOOK_URL": "https://hooks.example.com/secret-path", "IVR_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})
	e.db.EnableOutbox()
	ctx := context.Background()
	for _, id := range []string{"CAa", "CAb"} {
		if err := e.db.UpdateStatus(ctx, store.StatusUpdate{Provider: "twilio", CallID: id, Status: "completed", Final: true}); err != nil {
			t.Fatal(err)
		}
	}
	claimed, err := e.db.ClaimOutbox(ctx, "test", 10, 60e9)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claim: %v %d", err, len(claimed))
	}
	failed := claimed[0]
	if err := e.db.OutboxFailed(ctx, failed.ID, "test", 503, "HTTP 503: <busy>", failed.CreatedAt, true); err != nil {
		t.Fatal(err)
	}
	if err := e.db.OutboxDelivered(ctx, claimed[1].ID, 200); err != nil {
		t.Fatal(err)
	}

	session, csrf := e.login(t)
	page := e.do(t, "GET", "/admin/webhooks", "", withCookie(session))
	body := page.Body.String()
	if page.Code != http.StatusOK {
		t.Fatalf("GET /admin/webhooks = %d %s", page.Code, body)
	}
	for _, want := range []string{"https://hooks.example.com", "1 failed", "1 delivered", "HTTP 503: &lt;busy&gt;", "given up", failed.EventID, "Retry now", "Send again", `name="csrf_token"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, "secret-path") || strings.Contains(body, "whsec_") {
		t.Error("the page shows the webhook URL's path or the secret")
	}
	if w := e.do(t, "GET", "/admin/webhooks?state=lost", "", withCookie(session)); w.Code != http.StatusBadRequest {
		t.Errorf("bad state filter = %d, want 400", w.Code)
	}

	retry := "/admin/webhooks/" + itoa(failed.ID) + "/retry"
	form := url.Values{csrfField: {csrf.Value}, "state": {"failed"}}.Encode()
	if w := e.do(t, "POST", retry, form, withCookie(session), withCookie(csrf), withHeader("Origin", "https://evil.example")); w.Code != http.StatusForbidden {
		t.Fatalf("cross-site retry = %d, want 403", w.Code)
	}
	if w := e.do(t, "POST", retry, url.Values{"state": {"failed"}}.Encode(), withCookie(session), withCookie(csrf), withHeader("Origin", "http://example.com")); w.Code != http.StatusForbidden {
		t.Fatalf("retry without the CSRF token = %d, want 403", w.Code)
	}
	w := e.do(t, "POST", retry, form, withCookie(session), withCookie(csrf), withHeader("Origin", "http://example.com"))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/admin/webhooks?state=failed" {
		t.Fatalf("retry = %d %q", w.Code, w.Header().Get("Location"))
	}
	var api struct {
		Events []store.OutboxEvent `json:"events"`
		Counts map[string]int      `json:"counts"`
	}
	aw := e.do(t, "GET", "/admin/api/webhooks?state=pending", "", withBearer(adminTestToken))
	if err := json.Unmarshal(aw.Body.Bytes(), &api); err != nil || aw.Code != 200 {
		t.Fatalf("api: %d %v %s", aw.Code, err, aw.Body)
	}
	if len(api.Events) != 1 || api.Events[0].ID != failed.ID || api.Events[0].Attempts != 1 || api.Counts["pending"] != 1 {
		t.Fatalf("after retry: %+v %v", api.Events, api.Counts)
	}
	if w := e.do(t, "POST", "/admin/webhooks/999/retry", "", withBearer(adminTestToken)); w.Code != http.StatusNotFound {
		t.Errorf("retry of a missing event = %d, want 404", w.Code)
	}
	if w := e.do(t, "GET", "/admin/api/webhooks", ""); w.Code == http.StatusOK {
		t.Error("the webhooks API answered without a token")
	}
}
