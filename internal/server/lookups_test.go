package server

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	promtest "github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ivr-project/ivr/internal/config"
	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/publish"
	"github.com/ivr-project/ivr/internal/store"
	"github.com/ivr-project/ivr/internal/testutil"
)

const (
	testCRMToken  = "crm-s3cr3t-t0ken"
	lookupNumber  = "+15550100001" // numbers: in testdata/lookup/flow.yaml
	bodyOnlyMark  = "Body-Only-Name"
	suspendedAcct = "345678"
)

// accountAPI is the business's API of the lookup tests: accounts by id,
// and ids that fail in each way a lookup can fail.
type accountAPI struct {
	*httptest.Server
	mu    sync.Mutex
	auth  []string // Authorization headers received
	paths []string
}

func newAccountAPI(t *testing.T) *accountAPI {
	a := &accountAPI{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.auth = append(a.auth, r.Header.Get("Authorization"))
		a.paths = append(a.paths, r.URL.Path)
		a.mu.Unlock()
		id := strings.TrimPrefix(r.URL.Path, "/accounts/")
		switch id {
		case "123456":
			io.WriteString(w, `{"account": {"status": "active", "balance": 42.50, "name": "`+bodyOnlyMark+`"}}`)
		case "234567":
			io.WriteString(w, `{"account": {"status": "active", "balance": 0}}`)
		case suspendedAcct:
			io.WriteString(w, `{"account": {"status": "suspended", "balance": 310.25}}`)
		case "500500":
			w.WriteHeader(http.StatusInternalServerError)
		case "777777": // slower than the request's timeout
			<-r.Context().Done()
		case "888888":
			w.Write(bytes.Repeat([]byte(" "), 64<<10+1))
		case "999999":
			io.WriteString(w, `{"account": {"status": "active", `)
		case "111111":
			io.WriteString(w, `{"account": {"balance": 1}}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *accountAPI) hits() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.paths)
}

// withLookups serves testdata/lookup/flow.yaml with api as its {{demo_api}},
// the CRM token as IVR_SECRET_CRM_TOKEN and logs into logs.
func withLookups(t *testing.T, api *accountAPI, logs io.Writer) appOption {
	return withLookupsFrom(t, "testdata/lookup/flow.yaml", api, logs)
}

// withLookupsFrom is withLookups serving the flow file at path.
func withLookupsFrom(t *testing.T, path string, api *accountAPI, logs io.Writer) appOption {
	flows, err := publish.NewSource(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return func(d *Deps) {
		d.Flows = flows
		d.DemoAPI = api.URL
		d.Config.Secrets = config.NewSecrets(func(k string) string {
			return map[string]string{"IVR_SECRET_CRM_TOKEN": testCRMToken}[k]
		})
		if logs != nil {
			d.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
	}
}

// lookupCall dials the lookup number (in each provider's own form), enters
// digits at the collect and returns every answer's body.
func lookupCall(t *testing.T, a *testApp, provider string, entries ...string) []string {
	t.Helper()
	form := callForm(provider)
	form.Set("To", map[string]string{"twilio": lookupNumber, "plivo": strings.TrimPrefix(lookupNumber, "+")}[provider])
	bodies := []string{a.serve(a.request(provider, http.MethodPost, "/"+provider+"/voice", form)).Body.String()}
	for _, digits := range entries {
		next := gatherAction(parseXML(t, bodies[len(bodies)-1]))
		if !strings.HasPrefix(next, testPublic) {
			t.Fatalf("no gather to enter %s at:\n%s", digits, bodies[len(bodies)-1])
		}
		f := callForm(provider)
		f.Set("To", form.Get("To"))
		f.Set("Digits", digits)
		bodies = append(bodies, a.serve(a.request(provider, http.MethodPost, strings.TrimPrefix(next, testPublic), f)).Body.String())
	}
	return bodies
}

// TestLookupBranches runs the collect -> fetch -> switch of the test flow
// against a real local API, on both providers, starting from the number
// called (per-number entry: Twilio's +1555… and Plivo's 1555…).
func TestLookupBranches(t *testing.T) {
	cases := []struct {
		account, says, outcome, kind string
	}{
		{"123456", "You owe 42.50 dollars.", "ok", "hangup"},
		{suspendedAcct, "This account is suspended.", "ok", "dial"},
		{"234567", "Your account is in good standing.", "ok", "gather"},
		{"404404", "We cannot look that up now.", "status", "dial"},
		{"500500", "We cannot look that up now.", "status", "dial"},
		{"777777", "We cannot look that up now.", "timeout", "dial"},
		{"888888", "We cannot look that up now.", "too_large", "dial"},
		{"999999", "We cannot look that up now.", "bad_json", "dial"},
		{"111111", "We cannot look that up now.", "missing_field", "dial"},
	}
	for _, provider := range []string{"twilio", "plivo"} {
		api := newAccountAPI(t)
		a := newTestApp(t, withLookups(t, api, nil))
		first := lookupCall(t, a, provider)[0]
		if !strings.Contains(allText(parseXML(t, first)), "Enter your account number") {
			t.Fatalf("%s: the lookup number does not start at accounts:\n%s", provider, first)
		}
		for _, tc := range cases {
			t.Run(provider+"/"+tc.account, func(t *testing.T) {
				bodies := lookupCall(t, a, provider, tc.account+"#")
				last := parseXML(t, bodies[1])
				if !strings.Contains(allText(last), tc.says) {
					t.Fatalf("does not say %q:\n%s", tc.says, bodies[1])
				}
				kinds := map[string]string{"Hangup": "hangup", "Dial": "dial", "Gather": "gather", "GetDigits": "gather", "GetInput": "gather"}
				gathers := last.has("Gather") || last.has("GetDigits") || last.has("GetInput")
				if k := kinds[last.Children[len(last.Children)-1].Name]; (tc.kind == "gather") != gathers || tc.kind != "gather" && k != tc.kind {
					t.Fatalf("ends with %s, want %s:\n%s", last.Children[len(last.Children)-1].Name, tc.kind, bodies[1])
				}
				if n := promtest.ToFloat64(a.deps.Metrics.Lookups.WithLabelValues("account", tc.outcome)); n < 1 {
					t.Fatalf("ivr_lookup_total{outcome=%q} = %v", tc.outcome, n)
				}
				if n := testutilCount(a); n != 0 {
					t.Fatalf("answered the fallback (%d)", n)
				}
			})
		}
		for _, h := range api.auth {
			if h != "Bearer "+testCRMToken {
				t.Fatalf("the API got Authorization %q", h)
			}
		}
	}
}

// A wrong length is a failure with the menu's own prompts, and asks nothing.
func TestCollectWrongLengthAsksNothing(t *testing.T) {
	api := newAccountAPI(t)
	a := newTestApp(t, withLookups(t, api, nil))
	bodies := lookupCall(t, a, "twilio", "12#")
	if api.hits() != 0 || !parseXML(t, bodies[1]).has("Gather") {
		t.Fatalf("a short entry reached the API (%d) or left the menu:\n%s", api.hits(), bodies[1])
	}
}

// TestLookupBreaker: an API that keeps failing is skipped after 5 failures
// in a row: the caller hears on_error at once, and it is counted and logged.
func TestLookupBreaker(t *testing.T) {
	api := newAccountAPI(t)
	var logs testutil.Buffer
	a := newTestApp(t, withLookups(t, api, &logs))
	for range 5 {
		lookupCall(t, a, "twilio", "500500#")
	}
	if api.hits() != 5 {
		t.Fatalf("the API was asked %d times", api.hits())
	}
	bodies := lookupCall(t, a, "twilio", "123456#")
	if !strings.Contains(bodies[1], "We cannot look that up now.") || api.hits() != 5 {
		t.Fatalf("an open breaker must answer on_error without asking (hits %d):\n%s", api.hits(), bodies[1])
	}
	m := a.deps.Metrics
	if promtest.ToFloat64(m.Lookups.WithLabelValues("account", "breaker_open")) != 1 ||
		promtest.ToFloat64(m.Breakers.WithLabelValues("account", "open")) != 1 {
		t.Fatal("the open breaker is not counted")
	}
	if !strings.Contains(logs.String(), `msg="lookup breaker open" request=account`) {
		t.Fatalf("the open breaker is not logged:\n%s", logs.String())
	}
}

// TestLookupKeepsSecrets: the secret goes to the API only; no log line, call
// event or answer holds it, the answer's body or the caller's account number.
func TestLookupKeepsSecrets(t *testing.T) {
	api := newAccountAPI(t)
	var logs testutil.Buffer
	a := newTestApp(t, withLookups(t, api, &logs))
	var answers []string
	for _, acct := range []string{"123456", "500500", "999999", "777777"} {
		answers = append(answers, lookupCall(t, a, "twilio", acct+"#")...)
	}
	var events strings.Builder
	testutil.WaitFor(t, "the call's events", func() bool {
		calls, _, err := a.db.ListCalls(t.Context(), store.ListOptions{Limit: 10})
		if err != nil || len(calls) == 0 {
			return false
		}
		events.Reset()
		n := 0
		for _, e := range calls[0].Events {
			events.WriteString(e.Menu + " " + e.Input() + " " + e.Action() + "\n")
			if strings.HasPrefix(e.Action(), "fetch account: ") && strings.Contains(e.Action(), "ms") {
				n++
			}
		}
		return n == 4
	})
	// One event per lookup: the engine's line carries the server's details.
	if n := strings.Count(events.String(), " fetch "); n != 4 {
		t.Errorf("%d fetch events for 4 lookups:\n%s", n, events.String())
	}
	for _, want := range []string{"collected account\naccounts  fetch account: ok, HTTP 200, ", "fetch account: status, HTTP 500, ", "fetch account: bad_json, HTTP 200, ", "fetch account: timeout, 3", "ms, on_error\n"} {
		if !strings.Contains(events.String(), want) {
			t.Errorf("the call record lacks %q:\n%s", want, events.String())
		}
	}
	for what, text := range map[string]string{"logs": logs.String(), "events": events.String(), "answers": strings.Join(answers, "\n")} {
		for _, secret := range []string{testCRMToken, bodyOnlyMark} {
			if strings.Contains(text, secret) {
				t.Errorf("%s hold %q:\n%s", what, secret, text)
			}
		}
	}
	if !strings.Contains(logs.String(), "outcome=timeout") || !strings.Contains(logs.String(), "lookup.request=account") {
		t.Errorf("failed lookups are not logged by name and outcome:\n%s", logs.String())
	}
	for _, acct := range []string{"500500", "999999"} { // in no log line
		if strings.Contains(logs.String(), acct) {
			t.Errorf("logs hold the account number %s:\n%s", acct, logs.String())
		}
	}
}

var urlInXML = regexp.MustCompile(`https?://[^<"\s]+`)

// TestSealedStateOnTheWire: the collected account number and the looked-up
// values appear in no URL of any answer; a changed byte of the sealed
// state gets the fallback.
func TestSealedStateOnTheWire(t *testing.T) {
	for _, provider := range []string{"twilio", "plivo"} {
		t.Run(provider, func(t *testing.T) {
			api := newAccountAPI(t)
			a := newTestApp(t, withLookups(t, api, nil))
			bodies := lookupCall(t, a, provider, "234567#") // good standing: back at the collect, variables sealed
			last := bodies[len(bodies)-1]
			for _, b := range bodies {
				for _, u := range urlInXML.FindAllString(b, -1) {
					u = strings.ReplaceAll(u, "&amp;", "&")
					for _, clear := range []string{"234567", "active", "balance"} {
						if strings.Contains(u, clear) {
							t.Fatalf("URL %s holds %q in clear", u, clear)
						}
					}
				}
			}
			next := gatherAction(parseXML(t, last))
			nu, err := url.Parse(next)
			if err != nil || nu.Query().Get("v") == "" {
				t.Fatalf("the next URL carries no sealed state: %q", next)
			}
			q := nu.Query()
			v := []byte(q.Get("v"))
			v[len(v)/2] ^= 0x01 // still base64url: one bit of the ciphertext
			if v[len(v)/2] == '.' || v[len(v)/2] == '/' {
				v[len(v)/2] = 'A'
			}
			q.Set("v", string(v))
			nu.RawQuery = q.Encode()
			f := callForm(provider)
			f.Set("Digits", "123456#")
			before := testutilCount(a)
			w := a.serve(a.request(provider, http.MethodPost, strings.TrimPrefix(nu.String(), testPublic), f))
			if testutilCount(a) != before+1 || !strings.Contains(w.Body.String(), "Sorry, connecting you.") {
				t.Fatalf("tampered state must get the fallback:\n%s", w.Body.String())
			}
			// The untouched URL still works, and the values it sealed are read.
			w = a.serve(a.request(provider, http.MethodPost, strings.TrimPrefix(next, testPublic), f))
			if !strings.Contains(w.Body.String(), "You owe 42.50 dollars.") {
				t.Fatalf("the sealed state does not carry on:\n%s", w.Body.String())
			}
		})
	}
}

// TestLookupsInsideTheDeadline: a lookup whose own timeout (2s) is longer
// than what is left of the voice deadline (2s, of which lookups may use
// 1.75s) ends in time for the flow's on_error, not the deadline's fallback.
// (The margin to answer is an eighth of the deadline: 250ms here, enough on
// a loaded machine, where the 25ms of a 200ms deadline was not.)
func TestLookupsInsideTheDeadline(t *testing.T) {
	flow, err := os.ReadFile("testdata/lookup/flow.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(flow, []byte("timeout: 300ms")) {
		t.Fatal("testdata/lookup/flow.yaml no longer sets the account lookup's timeout: 300ms")
	}
	path := filepath.Join(t.TempDir(), "flow.yaml")
	if err := os.WriteFile(path, bytes.Replace(flow, []byte("timeout: 300ms"), []byte("timeout: 2s"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	api := newAccountAPI(t)
	a := newTestApp(t, withLookupsFrom(t, path, api, nil), func(d *Deps) { d.Config.VoiceDeadline = 2 * time.Second })
	bodies := lookupCall(t, a, "plivo", "777777#")
	if !strings.Contains(bodies[1], "We cannot look that up now.") || testutilCount(a) != 0 {
		t.Fatalf("want on_error within the deadline:\n%s", bodies[1])
	}
	if n := promtest.ToFloat64(a.deps.Metrics.Lookups.WithLabelValues("account", "timeout")); n != 1 {
		t.Fatalf("timeouts counted: %v", n)
	}
}

// More than ivr.MaxLookupsPerStep lookups in one step is the fallback.
func TestTooManyLookups(t *testing.T) {
	api := newAccountAPI(t)
	a := newTestApp(t, withLookups(t, api, nil))
	w := a.serve(a.request("twilio", http.MethodPost, "/twilio/voice/menu/main", url.Values{"CallSid": {"CA1"}, "Digits": {"2"}, "attempt": {"1"}}))
	if !strings.Contains(w.Body.String(), "Sorry, connecting you.") || testutilCount(a) != 1 {
		t.Fatalf("want the fallback:\n%s", w.Body.String())
	}
	if api.hits() != ivr.MaxLookupsPerStep {
		t.Fatalf("the API was asked %d times, want %d", api.hits(), ivr.MaxLookupsPerStep)
	}
}

// TestLookupChainLocalFailure: the first fetch answers 404, so the second's
// URL has an empty segment and is not sent, and the third is sent. Each
// runs its own on_error or saves its own value (the third's result used to
// be taken by the second, and the caller heard the fallback).
func TestLookupChainLocalFailure(t *testing.T) {
	for _, provider := range []string{"twilio", "plivo"} {
		api := newAccountAPI(t)
		a := newTestApp(t, withLookupsFrom(t, "testdata/lookup/chain.yaml", api, nil))
		bodies := lookupCall(t, a, provider, "404404#")
		got := allText(parseXML(t, bodies[1]))
		for _, want := range []string{"Account not_found.", "Status refused.", "Pinged active."} {
			if !strings.Contains(got, want) {
				t.Fatalf("%s: does not say %q:\n%s", provider, want, bodies[1])
			}
		}
		if strings.Contains(got, "Ping ") || testutilCount(a) != 0 {
			t.Fatalf("%s: the ping fetch failed or the fallback answered:\n%s", provider, bodies[1])
		}
		if api.hits() != 2 {
			t.Fatalf("%s: the API was asked %d times, want 2 (account, ping)", provider, api.hits())
		}
	}
}

// TestUnsentLookupLoggedOncePerFlow: a lookup that cannot be sent (its
// secret is not set) is warned about once per flow revision, not at every
// call (and then at debug level).
func TestUnsentLookupLoggedOncePerFlow(t *testing.T) {
	api := newAccountAPI(t)
	var logs testutil.Buffer
	a := newTestApp(t, withLookups(t, api, &logs), func(d *Deps) {
		d.Config.Secrets = config.NewSecrets(func(string) string { return "" })
	})
	for range 3 {
		bodies := lookupCall(t, a, "twilio", "123456#")
		if !strings.Contains(allText(parseXML(t, bodies[1])), "We cannot look that up now.") {
			t.Fatalf("without its secret the lookup did not run on_error:\n%s", bodies[1])
		}
	}
	if api.hits() != 0 {
		t.Fatalf("the API was asked %d times without the secret", api.hits())
	}
	if n := strings.Count(logs.String(), "level=WARN msg=lookup"); n != 1 || !strings.Contains(logs.String(), "IVR_SECRET_CRM_TOKEN") {
		t.Fatalf("%d warnings for the unsent lookup, want 1 naming the secret:\n%s", n, logs.String())
	}
}
