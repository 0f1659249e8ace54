package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/ivr-project/ivr/internal/carrier"
	"github.com/ivr-project/ivr/internal/testutil"
)

// TestTwoInstancesOnePostgres runs two real servers on one PostgreSQL, as
// behind a load balancer: a Plivo request replayed to the other instance is
// refused (the nonce lives in the shared store), and the records written by
// both are in one list.
func TestTwoInstancesOnePostgres(t *testing.T) {
	dsn := testutil.PostgresURL(t)
	const public = "https://ivr.example.com"
	env := map[string]string{
		"IVR_DATABASE_URL":  dsn,
		"IVR_PUBLIC_URL":    public, // both instances sit behind one public name
		"PLIVO_AUTH_TOKEN":  "plivo-token",
		"TWILIO_AUTH_TOKEN": "twilio-token",
	}
	a, _, _ := startServer(t, env)
	b, _, _ := startServer(t, env)

	form := url.Values{"CallUUID": {"0f0e0d0c-1111-4222-8333-444455556666"}, "From": {"14155550100"}, "To": {"14155550199"}, "CallStatus": {"ringing"}}
	call := signed(carrier.Plivo, "plivo-token", public+"/plivo/voice", form) // one nonce, sent twice
	answer := func(base string) string {
		resp, err := http.DefaultClient.Do(send(call, base))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	if els := elements(t, answer(a)); !contains(els, "GetDigits") && !contains(els, "GetInput") {
		t.Fatalf("instance A should answer the menu, got %v", els)
	}
	if els := elements(t, answer(b)); contains(els, "GetDigits") || contains(els, "GetInput") || !contains(els, "Dial") {
		t.Fatalf("the replay to instance B must get the fallback, got %v", els)
	}

	// One status callback through each instance; both are in one list.
	for i, base := range []string{a, b} {
		sid := []string{"CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "CAbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}[i]
		st := url.Values{"CallSid": {sid}, "CallStatus": {"completed"}, "From": {"+14155550100"}, "To": {"+14155550199"}, "CallDuration": {"7"}}
		resp, err := http.DefaultClient.Do(send(signed(carrier.Twilio, "twilio-token", public+"/twilio/status", st), base))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status callback via instance %d: %d", i, resp.StatusCode)
		}
	}
	resp, err := http.Get(a + "/admin/api/calls")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Calls []struct {
			CallID string `json:"call_id"`
			Status string `json:"status"`
		} `json:"calls"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, c := range list.Calls {
		seen[c.CallID] = c.Status
	}
	if seen["CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"] != "completed" || seen["CAbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"] != "completed" {
		t.Fatalf("records of both instances should be listed: %+v", list.Calls)
	}
}
