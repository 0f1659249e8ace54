package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/carrier"
	"github.com/ivr-project/ivr/internal/outbound"
	"github.com/ivr-project/ivr/internal/store"
	"github.com/ivr-project/ivr/internal/testutil"
)

// handoffFlow: an account is collected, then 0 transfers with a whisper (in
// turn, to a number and a SIP desk) and 9 asks for a callback.
const handoffFlow = `
name: Handoff
entry: main
call_center: "+15005550006"
menus:
  main:
    greeting: "Enter your account number."
    collect:
      into: account
      max_digits: 6
      do: {goto: agents}
  agents:
    greeting: "Press 0 for an agent, 9 for a callback."
    options:
      "0":
        transfer:
          to: ["+15550001111", "sip:sales@pbx.example.com"]
          ring: sequential
          whisper: "Billing call, account {{account | digits}}"
          accept_key: "1"
          context: {account: "{{account}}", intent: billing}
          no_answer: [{callback: {}}]
      "9":
        callback: {confirm: true}
`

const (
	handoffSID    = "AC0123456789abcdef0123456789abcdef"
	handoffAuthID = "MAXXXXXXXXXXXXXXXXXX"
	// handoffToken is both providers' auth token: twilio-go refuses a
	// token that is not letters and digits, as Twilio's are.
	handoffToken = "0123456789abcdef0123456789abcdef"
)

// handoffEnv is a server on handoffFlow whose REST calls go to fake
// provider APIs.
type handoffEnv struct {
	*adminEnv
	twilioAPI, plivoAPI *testutil.FakeAPI
}

func newHandoffEnv(t *testing.T, opts ...appOption) *handoffEnv {
	t.Helper()
	return newHandoffEnvWith(t, nil, opts...)
}

// newHandoffEnvWith is newHandoffEnv with env overriding variables.
func newHandoffEnvWith(t *testing.T, env map[string]string, opts ...appOption) *handoffEnv {
	t.Helper()
	path := filepath.Join(t.TempDir(), "flow.yaml")
	if err := os.WriteFile(path, []byte(handoffFlow), 0o644); err != nil {
		t.Fatal(err)
	}
	tw := testutil.NewFakeAPI(t, http.StatusCreated, `{"sid": "CA99990000111122223333444455556666", "status": "queued"}`)
	pl := testutil.NewFakeAPI(t, http.StatusCreated, `{"message": "call fired", "request_uuid": "9834029e-58b6-11e1-b8b7-a5bd0e4e126f", "api_id": "x"}`)
	vars := map[string]string{
		"IVR_PUBLIC_URL": testPublic, "TWILIO_ACCOUNT_SID": handoffSID, "PLIVO_AUTH_ID": handoffAuthID,
		"IVR_TWILIO_API_URL": tw.URL, "IVR_PLIVO_API_URL": pl.URL, "IVR_CALLBACK_FROM": "+15550009999",
		"TWILIO_AUTH_TOKEN": handoffToken, "PLIVO_AUTH_TOKEN": handoffToken,
	}
	for k, v := range env {
		vars[k] = v
	}
	e := newAdminEnvWith(t, path, vars, opts...)
	return &handoffEnv{adminEnv: e, twilioAPI: tw, plivoAPI: pl}
}

// voice makes one signed provider request (the call's parameters plus
// extra) to path and parses the XML answer.
func (e *handoffEnv) voice(t *testing.T, provider, path string, call, extra url.Values) (*node, *httpRecorder) {
	t.Helper()
	form := url.Values{}
	for k, v := range call {
		form[k] = v
	}
	for k, v := range extra {
		form[k] = v
	}
	w := httptestServe(e.h, signedRequest(provider, handoffToken, testPublic, http.MethodPost, path, form))
	if w.Code != http.StatusOK {
		t.Fatalf("POST %s: %d %s", path, w.Code, w.Body.String())
	}
	return parseXML(t, w.Body.String()), w
}

// relative is an absolute URL of ours as a path for the next request.
func relative(t *testing.T, u string) string {
	t.Helper()
	if !strings.HasPrefix(u, testPublic+"/") {
		t.Fatalf("URL %q is not under %s", u, testPublic)
	}
	return strings.TrimPrefix(u, testPublic)
}

// toAgents plays a call to the agents menu (account 123456 entered).
func (e *handoffEnv) toAgents(t *testing.T, provider string) (url.Values, *node) {
	t.Helper()
	call := callForm(provider)
	doc, _ := e.voice(t, provider, "/"+provider+"/voice", call, nil)
	doc, _ = e.voice(t, provider, nextAction(t, doc), call, url.Values{"Digits": {"123456"}})
	return call, doc
}

// nextAction is the action path of the document's gather.
func nextAction(t *testing.T, doc *node) string {
	t.Helper()
	a := gatherAction(doc)
	if a == "" {
		t.Fatalf("no gather in the answer: %+v", doc)
	}
	return relative(t, a)
}

func sayTexts(n *node) []string {
	var out []string
	if n.Name == "Say" || n.Name == "Speak" {
		out = append(out, strings.TrimSpace(n.Text))
	}
	for _, c := range n.Children {
		out = append(out, sayTexts(c)...)
	}
	return out
}

// TestWhisperRoute: on both providers a whisper transfer renders the
// documented XML; the whisper route answers the prompt with the collected
// value spoken as digits to a signed request and refuses an unsigned one;
// a declined agent moves the call to the next number, then to no_answer.
func TestWhisperRoute(t *testing.T) {
	for _, provider := range []string{"twilio", "plivo"} {
		t.Run(provider, func(t *testing.T) {
			e := newHandoffEnv(t)
			call, doc := e.toAgents(t, provider)
			doc, _ = e.voice(t, provider, nextAction(t, doc), call, url.Values{"Digits": {"0"}})
			dial := doc.find("Response/Dial")
			if len(dial) != 1 {
				t.Fatalf("no <Dial>: %+v", doc)
			}
			var whisper string
			if provider == "twilio" {
				nums := doc.find("Response/Dial/Number")
				if len(nums) != 1 || strings.TrimSpace(nums[0].Text) != "+15550001111" || nums[0].Attr["method"] != "POST" {
					t.Fatalf("twilio <Number>: %+v", nums)
				}
				whisper = nums[0].Attr["url"]
			} else {
				if dial[0].Attr["confirmKey"] != "1" || len(doc.find("Response/Dial/Number")) != 1 {
					t.Fatalf("plivo <Dial>: %+v", dial[0])
				}
				whisper = dial[0].Attr["confirmSound"]
			}
			if !strings.HasPrefix(whisper, testPublic+"/"+provider+"/voice/whisper?") || strings.Contains(whisper, "account") {
				t.Fatalf("whisper URL %q", whisper)
			}
			// The agent's leg: its own call id, signed like every webhook.
			agent := callForm(provider)
			agent.Set(providerNames(provider).CallID, "agent-leg-1")
			agent.Set("To", "+15550001111")
			wdoc, _ := e.voice(t, provider, relative(t, whisper), agent, nil)
			if got := sayTexts(wdoc); len(got) != 2 || got[0] != "Billing call, account 1 2 3 4 5 6" || got[1] != "Press 1 to take this call." {
				t.Errorf("whisper says %q", got)
			}
			if provider == "twilio" {
				answer := nextAction(t, wdoc)
				if acc, _ := e.voice(t, provider, answer, agent, url.Values{"Digits": {"1"}}); len(acc.Children) != 0 {
					t.Errorf("accepting: want an empty answer (connect), got %+v", acc)
				}
				if dec, _ := e.voice(t, provider, answer, agent, url.Values{"Digits": {"2"}}); len(dec.find("Response/Hangup")) != 1 {
					t.Errorf("declining: want <Hangup>, got %+v", dec)
				}
			}
			// Unsigned: the fallback, never the whisper.
			r := signedRequest(provider, "wrong-token", testPublic, http.MethodPost, relative(t, whisper), agent)
			w := httptestServe(e.h, r)
			if w.Header().Get(carrier.HeaderFallback) == "" || strings.Contains(w.Body.String(), "Billing") {
				t.Errorf("unsigned whisper request: %d %q", w.Code, w.Body.String())
			}
			// Declined: the next number (the SIP desk), then no_answer (a callback).
			dialDone := relative(t, dial[0].Attr["action"])
			status := url.Values{providerNames(provider).DialStatus[0]: {"no-answer"}}
			next, _ := e.voice(t, provider, dialDone, call, status)
			target := "Sip"
			if provider == "plivo" {
				target = "User"
			}
			sip := next.find("Response/Dial/" + target)
			if len(sip) != 1 || !strings.HasPrefix(strings.TrimSpace(sip[0].Text), "sip:sales@pbx.example.com") {
				t.Fatalf("next number: %+v", next)
			}
			last, _ := e.voice(t, provider, relative(t, next.find("Response/Dial")[0].Attr["action"]), call, status)
			if !last.has("Hangup") || len(sayTexts(last)) == 0 {
				t.Errorf("no_answer: want the callback's thanks and a hang-up, got %+v", last)
			}
			waitCallbacks(t, e.db, 1)
		})
	}
}

func waitCallbacks(t *testing.T, db *store.DB, n int) []store.Callback {
	t.Helper()
	var cbs []store.Callback
	testutil.WaitFor(t, "callbacks stored", func() bool {
		cbs, _ = db.ListCallbacks(t.Context(), "", 0)
		return len(cbs) == n
	})
	return cbs
}

// requestCallback plays a call that asks for a callback (9, then 1 to
// confirm the caller's number) and returns the stored request.
func (e *handoffEnv) requestCallback(t *testing.T, provider string) store.Callback {
	t.Helper()
	call, doc := e.toAgents(t, provider)
	doc, _ = e.voice(t, provider, nextAction(t, doc), call, url.Values{"Digits": {"9"}})
	if got := sayTexts(doc); len(got) != 1 || !strings.Contains(got[0], "1 4 1 5 5 5 5 0 1 0 0") {
		t.Fatalf("read-back: %q", got)
	}
	doc, _ = e.voice(t, provider, nextAction(t, doc), call, url.Values{"Digits": {"1"}})
	if !doc.has("Hangup") {
		t.Fatalf("after confirming: %+v", doc)
	}
	cbs := waitCallbacks(t, e.db, 1)
	return cbs[0]
}

func (e *handoffEnv) api(t *testing.T, method, path, body string) *httpRecorder {
	t.Helper()
	return e.do(t, method, path, body, withBearer(adminTestToken))
}

// TestCallbackEndToEnd: on both providers a callback requested in a call is
// in the API; "Call back" sends exactly one correctly authenticated request
// to the provider's API; the agent's leg, requested as the provider would
// (signed), whispers and dials the caller, and the dial's outcome closes it.
func TestCallbackEndToEnd(t *testing.T) {
	for _, provider := range []string{"twilio", "plivo"} {
		t.Run(provider, func(t *testing.T) {
			e := newHandoffEnv(t)
			cb := e.requestCallback(t, provider)
			if cb.Number != "+14155550100" || cb.State != store.CallbackOpen || len(cb.Context) != 1 || cb.Context[0].Value != "123456" {
				t.Fatalf("stored callback %+v", cb)
			}
			w := e.api(t, "GET", "/admin/api/callbacks?state=open", "")
			var list struct {
				Callbacks []map[string]any `json:"callbacks"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil || len(list.Callbacks) != 1 {
				t.Fatalf("GET /admin/api/callbacks: %d %s", w.Code, w.Body.String())
			}
			for _, k := range []string{"id", "provider", "call_id", "number", "requested_at", "state", "attempts", "context"} {
				if _, ok := list.Callbacks[0][k]; !ok {
					t.Errorf("callback JSON has no %q: %v", k, list.Callbacks[0])
				}
			}
			id := itoa(cb.ID)
			w = e.api(t, "POST", "/admin/api/callbacks/"+id+"/call", `{"agent": "+15550001111"}`)
			if w.Code != http.StatusAccepted || !strings.Contains(w.Body.String(), "provider_call_id") {
				t.Fatalf("call back: %d %s", w.Code, w.Body.String())
			}
			api, user := e.twilioAPI, handoffSID
			if provider == "plivo" {
				api, user = e.plivoAPI, handoffAuthID
			}
			reqs := api.Requests()
			if len(reqs) != 1 || reqs[0].Method != "POST" || !reqs[0].BasicAuth || reqs[0].User != user || reqs[0].Password != handoffToken {
				t.Fatalf("provider API requests: %+v", reqs)
			}
			answer := testPublic + "/" + provider + "/voice/callback/agent?id=" + id
			if body := string(reqs[0].Body); !strings.Contains(body, url.QueryEscape(answer)) && !strings.Contains(body, answer) {
				t.Errorf("the request does not carry the agent's answer URL %s: %s", answer, body)
			}
			// The agent answers: "Callback for ...", then the caller is dialed.
			leg := url.Values{providerNames(provider).CallID: {"CA99990000111122223333444455556666"}, "From": {"+15550009999"}, "To": {"+15550001111"},
				"CallStatus": {"in-progress"}, "Direction": {"outbound-api"}}
			if provider == "plivo" {
				leg.Set(providerNames(provider).CallID, "b-leg-uuid")
				leg.Set("RequestUUID", "9834029e-58b6-11e1-b8b7-a5bd0e4e126f")
			}
			doc, _ := e.voice(t, provider, "/"+provider+"/voice/callback/agent?id="+id, leg, nil)
			if got := sayTexts(doc); len(got) != 1 || got[0] != "Callback for 1 4 1 5 5 5 5 0 1 0 0." {
				t.Errorf("agent hears %q", got)
			}
			dial := doc.find("Response/Dial")
			if len(dial) != 1 || !strings.Contains(strings.Join(textsOf(doc.find("Response/Dial/Number")), ","), "4155550100") {
				t.Fatalf("agent leg does not dial the caller: %+v", doc)
			}
			unsigned := signedRequest(provider, "wrong-token", testPublic, http.MethodPost, "/"+provider+"/voice/callback/agent?id="+id, leg)
			if w := httptestServe(e.h, unsigned); w.Header().Get(carrier.HeaderFallback) == "" || strings.Contains(w.Body.String(), "Callback for") {
				t.Errorf("unsigned agent leg: %q", w.Body.String())
			}
			e.voice(t, provider, relative(t, dial[0].Attr["action"]), leg, url.Values{providerNames(provider).DialStatus[0]: {"completed"}})
			if got, _ := e.db.GetCallback(t.Context(), cb.ID); got.State != store.CallbackDone || got.Attempts != 1 {
				t.Errorf("after the caller was reached: %+v", got)
			}
			// Insights count the callback requested and made.
			day := time.Now().UTC().Format("2006-01-02")
			w = e.api(t, "GET", "/admin/api/insights?since="+day+"&until="+day+"&provider="+provider, "")
			var in struct {
				Callbacks struct{ Requested, Made int } `json:"callbacks"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &in); err != nil || in.Callbacks.Requested != 1 || in.Callbacks.Made != 1 {
				t.Errorf("insights: %d %s", w.Code, w.Body.String())
			}
			page := e.api(t, "GET", "/admin/insights?since="+day+"&until="+day+"&provider="+provider, "").Body.String()
			if !strings.Contains(page, `id="kpi-callbacks"`) || !strings.Contains(page, "1 called back") {
				t.Errorf("the insights page does not show the callback requested and made")
			}
		})
	}
}

// TestCallbackCallFailures: a provider API that fails or times out leaves
// the request open with the error shown, and it can be retried; an agent
// leg that is not answered fails the attempt.
func TestCallbackCallFailures(t *testing.T) {
	for _, provider := range []string{"twilio", "plivo"} {
		t.Run(provider, func(t *testing.T) {
			e := newHandoffEnv(t, func(d *Deps) {
				tw, pl := d.Config.TwilioAPIURL, d.Config.PlivoAPIURL
				d.Outbound = outbound.New(outbound.Config{TwilioAccountSID: handoffSID, TwilioAuthToken: handoffToken, TwilioAPIURL: tw,
					PlivoAuthID: handoffAuthID, PlivoAuthToken: handoffToken, PlivoAPIURL: pl, Timeout: 300 * time.Millisecond})
			})
			api := e.twilioAPI
			if provider == "plivo" {
				api = e.plivoAPI
			}
			cb := e.requestCallback(t, provider)
			id := itoa(cb.ID)
			api.Answer(http.StatusInternalServerError, `{"code": 20500, "message": "Internal Server Error", "status": 500, "error": "server error"}`, 0)
			w := e.api(t, "POST", "/admin/api/callbacks/"+id+"/call", `{"agent": "+15550001111"}`)
			if w.Code != http.StatusBadGateway {
				t.Fatalf("API error: %d %s", w.Code, w.Body.String())
			}
			if got, _ := e.db.GetCallback(t.Context(), cb.ID); got.State != store.CallbackOpen || !strings.Contains(got.LastError, "500") {
				t.Fatalf("after an API error: %+v", got)
			}
			api.Answer(http.StatusCreated, `{"sid": "CA1", "request_uuid": "u-1"}`, 2*time.Second)
			start := time.Now()
			w = e.api(t, "POST", "/admin/api/callbacks/"+id+"/call", `{"agent": "+15550001111"}`)
			if w.Code != http.StatusBadGateway || time.Since(start) > 1500*time.Millisecond {
				t.Fatalf("API timeout: %d %s after %v", w.Code, w.Body.String(), time.Since(start))
			}
			if got, _ := e.db.GetCallback(t.Context(), cb.ID); got.State != store.CallbackOpen || got.LastError == "" || got.Attempts != 2 {
				t.Fatalf("after a timeout: %+v", got)
			}
			page := e.do(t, "GET", "/admin/callbacks", "", withBearer(adminTestToken))
			if want := map[string]string{"twilio": "twilio: create call", "plivo": "plivo: make call"}[provider]; !strings.Contains(page.Body.String(), want) {
				t.Errorf("the page does not show the error")
			}
			api.Answer(http.StatusCreated, `{"sid": "CA2", "request_uuid": "u-2"}`, 0)
			if w = e.api(t, "POST", "/admin/api/callbacks/"+id+"/call", `{"agent": "+15550001111"}`); w.Code != http.StatusAccepted {
				t.Fatalf("retry: %d %s", w.Code, w.Body.String())
			}
			// The agent does not answer: the status callback fails the attempt.
			leg := url.Values{providerNames(provider).CallID: {"CA2"}, "CallStatus": {"no-answer"}, "From": {"+15550009999"}, "To": {"+15550001111"}}
			if provider == "plivo" {
				leg.Set("RequestUUID", "u-2")
			}
			e.voice(t, provider, "/"+provider+"/voice/callback/status?id="+id, leg, nil)
			if g := got(e, cb.ID); g.State != store.CallbackFailed || !strings.Contains(g.LastError, "agent did not answer") {
				t.Fatalf("after no answer: %+v", g)
			}
			if w = e.api(t, "POST", "/admin/api/callbacks/"+id+"/done", ""); w.Code != http.StatusOK || got(e, cb.ID).State != store.CallbackDone {
				t.Fatalf("done: %d %s", w.Code, w.Body.String())
			}
		})
	}
}

func got(e *handoffEnv, id int64) store.Callback {
	cb, _ := e.db.GetCallback(context.Background(), id)
	return cb
}

// Two admins pressing "Call back" at once place one call.
func TestCallbackCallOnce(t *testing.T) {
	e := newHandoffEnv(t)
	cb := e.requestCallback(t, "twilio")
	e.twilioAPI.Answer(http.StatusCreated, `{"sid": "CA1"}`, 200*time.Millisecond)
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = e.api(t, "POST", "/admin/api/callbacks/"+itoa(cb.ID)+"/call", `{"agent": "+15550001111"}`).Code
		}()
	}
	wg.Wait()
	if !(codes[0] == http.StatusAccepted && codes[1] == http.StatusConflict || codes[1] == http.StatusAccepted && codes[0] == http.StatusConflict) {
		t.Errorf("two presses: %v, want one 202 and one 409", codes)
	}
	if n := len(e.twilioAPI.Requests()); n != 1 {
		t.Errorf("%d calls placed, want 1", n)
	}
	if w := e.api(t, "POST", "/admin/api/callbacks/"+itoa(cb.ID)+"/call", `{"agent": "555"}`); w.Code != http.StatusBadRequest {
		t.Errorf("a bad agent number: %d", w.Code)
	}
	if w := e.api(t, "POST", "/admin/api/callbacks/999/call", `{"agent": "+15550001111"}`); w.Code != http.StatusNotFound {
		t.Errorf("no such callback: %d", w.Code)
	}
}

func textsOf(ns []*node) []string {
	var out []string
	for _, n := range ns {
		out = append(out, strings.TrimSpace(n.Text))
	}
	return out
}

func providerNames(provider string) carrier.Names {
	if provider == "plivo" {
		return carrier.PlivoNames
	}
	return carrier.TwilioNames
}

func httptestServe(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// TestHandoffWebhookEvents: a transfer sends transfer.started with its
// context, a callback sends callback.requested with the stored request's
// id, number and context, through the outbox.
func TestHandoffWebhookEvents(t *testing.T) {
	for _, provider := range []string{"twilio", "plivo"} {
		t.Run(provider, func(t *testing.T) {
			e := newHandoffEnv(t)
			e.db.EnableOutbox()
			call, doc := e.toAgents(t, provider)
			doc, _ = e.voice(t, provider, nextAction(t, doc), call, url.Values{"Digits": {"0"}})
			status := url.Values{providerNames(provider).DialStatus[0]: {"busy"}}
			doc, _ = e.voice(t, provider, relative(t, doc.find("Response/Dial")[0].Attr["action"]), call, status)
			e.voice(t, provider, relative(t, doc.find("Response/Dial")[0].Attr["action"]), call, status)
			cb := waitCallbacks(t, e.db, 1)[0]

			started := outboxEvents(t, e.db, store.EventTransferStarted, 2)
			if len(started) != 2 {
				t.Fatalf("transfer.started events: %d, want 2 (one per number rung)", len(started))
			}
			d := eventData(t, started[len(started)-1]) // the oldest: the first number
			ctx, _ := d["context"].(map[string]any)
			if ctx["account"] != "123456" || ctx["intent"] != "billing" || d["call_id"] != call.Get(providerNames(provider).CallID) {
				t.Errorf("transfer.started data: %v", d)
			}
			req := outboxEvents(t, e.db, store.EventCallbackRequested, 1)
			if len(req) != 1 {
				t.Fatalf("callback.requested events: %d", len(req))
			}
			d = eventData(t, req[0])
			ctx, _ = d["context"].(map[string]any)
			if d["number"] != cb.Number || d["callback_id"] != float64(cb.ID) || ctx["account"] != "123456" {
				t.Errorf("callback.requested data: %v (callback %+v)", d, cb)
			}
		})
	}
}

// TestTryWhisper: the Try page plays the agent's side: the transfer's end
// names the whisper URL (and Plivo's accept key); requested, it says the
// whisper; on Twilio its gather takes the agent's key.
func TestTryWhisper(t *testing.T) {
	for _, provider := range []string{"twilio", "plivo"} {
		t.Run(provider, func(t *testing.T) {
			e := newHandoffEnv(t)
			res := e.tryStep(t, tryRequest{Provider: provider})
			res = e.tryStep(t, tryRequest{Provider: provider, CallID: res.CallID, URL: res.Gather.Action, Digits: "123456"})
			res = e.tryStep(t, tryRequest{Provider: provider, CallID: res.CallID, URL: res.Gather.Action, Digits: "0"})
			if res.End == nil || res.End.Kind != "transfer" || !strings.Contains(res.End.Whisper, "/whisper?") {
				t.Fatalf("transfer end: %+v", res.End)
			}
			if provider == "plivo" && res.End.AcceptKey != "1" {
				t.Errorf("plivo accept key %q", res.End.AcceptKey)
			}
			w := e.tryStep(t, tryRequest{Provider: provider, CallID: res.CallID, URL: res.End.Whisper})
			if len(w.Prompts) == 0 || w.Prompts[0].Text != "Billing call, account 1 2 3 4 5 6" {
				t.Fatalf("the agent hears %+v", w.Prompts)
			}
			if provider == "twilio" {
				if w.Gather == nil {
					t.Fatal("no gather for the accept key")
				}
				acc := e.tryStep(t, tryRequest{Provider: provider, CallID: res.CallID, URL: w.Gather.Action, Digits: "1"})
				if acc.End == nil || acc.End.Kind != "end" {
					t.Errorf("accepting: %+v", acc.End)
				}
			}
		})
	}
}
