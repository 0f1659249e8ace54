package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ivr-project/ivr/internal/lookup"
	"github.com/ivr-project/ivr/internal/publish"
)

// The lookup benchmarks compare one webhook step, a caller entering an
// account number at a collect, with and without a lookup: the flow with the
// lookup asks a local API (answering at once) for the account's status and
// balance; the flow without it sets the same values. The difference between
// the two is the lookup's whole cost; BenchmarkLookupAPIRoundTrip is the
// API's own time (the same GET with a bare keep-alive client), so what the
// server adds on top of it is the rest. Call events are not queued (the
// writer's background work, coalescing thousands of steps of one call id,
// would swamp both figures).

const benchLookupFlow = `
name: Bench
entry: accounts
call_center: "+15551230000"
%REQUESTS%
menus:
  accounts:
    greeting: "Enter your account number, then press pound."
    collect:
      into: account
      min_digits: 6
      max_digits: 10
      do:
        - %GET%
        - switch:
            - if: 'status == "active" && balance > 0'
              do: [{say: "You owe {{balance}} dollars."}, hangup]
            - else: [{say: "Thank you."}, hangup]
`

const benchAccount = `{"account": {"status": "active", "balance": 42.50, "name": "Ada Lovelace"}}`

func benchAccountAPI(b *testing.B) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, benchAccount)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// benchCollectStep builds the app on the bench flow (with or without the
// lookup) and returns it with the signed request of the collect step.
func benchCollectStep(b *testing.B, withLookup bool) (*opsEnv, *http.Request, string) {
	src := benchLookupFlow
	if withLookup {
		src = strings.NewReplacer("%REQUESTS%", `requests:
  account:
    url: "{{demo_api}}/accounts/{{account}}"
    save: {status: account.status, balance: account.balance}`, "%GET%", "fetch: account").Replace(src)
	} else {
		src = strings.NewReplacer("%REQUESTS%", "", "%GET%", `set: {status: active, balance: "42.50"}`).Replace(src)
	}
	path := filepath.Join(b.TempDir(), "flow.yaml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		b.Fatal(err)
	}
	flows, err := publish.NewSource(path, nil)
	if err != nil {
		b.Fatal(err)
	}
	api := benchAccountAPI(b)
	e := newOpsEnv(b, true) // no call-event writer: its background work on one call id would dominate
	a := newTestApp(b, func(d *Deps) {
		d.Events = nil
		d.Config.TwilioTokens = []string{opsTwilioToken}
		d.Config.PublicURL = opsPublicURL
		d.Flows, d.DemoAPI = flows, api.URL
		d.Metrics = e.metrics
	})
	e.h = a.handler
	form := twilioCall("CA0123456789abcdef0123456789abcdef")
	form.Set("CallStatus", "in-progress")
	r, body := twilioRequest("/twilio/voice", form)
	rec := &recordingWriter{benchWriter: benchWriter{h: http.Header{}}}
	serve(e.h, &rec.benchWriter, r, body) // warm up
	r2 := *r
	r2.Body = io.NopCloser(strings.NewReader(body))
	e.h.ServeHTTP(rec, &r2)
	next := strings.TrimPrefix(gatherAction(parseXML(b, rec.body.String())), opsPublicURL)
	if next == "" {
		b.Fatalf("no collect: %s", rec.body.String())
	}
	form.Set("Digits", "123456")
	r, body = twilioRequest(next, form)
	checkFirst(b, e, r, body, "You owe 42.50 dollars.")
	return e, r, body
}

func benchStep(b *testing.B, withLookup bool) {
	e, r, body := benchCollectStep(b, withLookup)
	serveN(b, e, r, body)
	noFallbacks(b, e)
}

// BenchmarkCollectStepWithLookup: the step asks the API.
func BenchmarkCollectStepWithLookup(b *testing.B) { benchStep(b, true) }

// BenchmarkCollectStepWithoutLookup: the same step, the values set in the flow.
func BenchmarkCollectStepWithoutLookup(b *testing.B) { benchStep(b, false) }

// BenchmarkLookupAPIRoundTrip is the API's own time: the same GET and
// answer with a bare keep-alive client, read and closed.
func BenchmarkLookupAPIRoundTrip(b *testing.B) {
	api := benchAccountAPI(b)
	client := &http.Client{Transport: lookup.NewTransport()}
	b.ReportAllocs()
	for b.Loop() {
		resp, err := client.Get(api.URL + "/accounts/123456")
		if err != nil {
			b.Fatal(err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
	}
}
