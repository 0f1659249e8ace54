package outbound

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const (
	testSID   = "AC0123456789abcdef0123456789abcdef"
	testToken = "tok0123456789"
	testAuth  = "MAXXXXXXXXXXXXXXXXXX"
)

var testCall = Call{
	To:        "+15550001111",
	From:      "+15550009999",
	AnswerURL: "https://ivr.example.com/twilio/voice/callback/agent?id=7",
	StatusURL: "https://ivr.example.com/twilio/voice/callback/status?id=7",
}

// fakeAPI is a provider API that checks each request with check and
// answers status and body; it counts the requests.
func fakeAPI(t *testing.T, check func(*http.Request, []byte), status int, body string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		data, _ := io.ReadAll(r.Body)
		check(r, data)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func checkAuth(t *testing.T, r *http.Request, user, pass string) {
	t.Helper()
	u, p, ok := r.BasicAuth()
	if !ok || u != user || p != pass {
		t.Errorf("basic auth %q:%q (%v), want %q:%q", u, p, ok, user, pass)
	}
}

// TestTwilioCreateCall: the request twilio-go sends, as Twilio documents
// the Calls resource.
func TestTwilioCreateCall(t *testing.T) {
	srv, n := fakeAPI(t, func(r *http.Request, body []byte) {
		if r.Method != http.MethodPost || r.URL.Path != "/prefix/2010-04-01/Accounts/"+testSID+"/Calls.json" {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		checkAuth(t, r, testSID, testToken)
		if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			t.Errorf("Content-Type %q", ct)
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			t.Fatal(err)
		}
		want := url.Values{"To": {testCall.To}, "From": {testCall.From}, "Url": {testCall.AnswerURL}, "Method": {"POST"},
			"StatusCallback": {testCall.StatusURL}, "StatusCallbackMethod": {"POST"}}
		if !reflect.DeepEqual(form, want) {
			t.Errorf("form %v\nwant %v", form, want)
		}
	}, http.StatusCreated, `{"sid": "CA11112222333344445555666677778888", "status": "queued"}`)
	c := New(Config{TwilioAccountSID: testSID, TwilioAuthToken: testToken, TwilioAPIURL: srv.URL + "/prefix/"})
	id, err := c.Place(context.Background(), Twilio, testCall)
	if err != nil || id != "CA11112222333344445555666677778888" {
		t.Fatalf("Place = %q, %v", id, err)
	}
	if n.Load() != 1 {
		t.Errorf("%d requests, want 1", n.Load())
	}
}

// TestPlivoMakeCall: the request Plivo's Call API documents and
// plivo-node's Call.create sends (from, to, answer_url and the optional
// answer_method, hangup_url, hangup_method), as JSON with basic auth.
func TestPlivoMakeCall(t *testing.T) {
	srv, n := fakeAPI(t, func(r *http.Request, body []byte) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/Account/"+testAuth+"/Call/" {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		checkAuth(t, r, testAuth, testToken)
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		var got map[string]any
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"from": "15550009999", "to": "15550001111", "answer_url": testCall.AnswerURL, "answer_method": "POST",
			"hangup_url": testCall.StatusURL, "hangup_method": "POST"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("body %v\nwant %v", got, want)
		}
	}, http.StatusCreated, `{"message": "call fired", "request_uuid": "9834029e-58b6-11e1-b8b7-a5bd0e4e126f", "api_id": "97ceeb52-58b6-11e1-86da-77300b68f8bb"}`)
	c := New(Config{PlivoAuthID: testAuth, PlivoAuthToken: testToken, PlivoAPIURL: srv.URL})
	id, err := c.Place(context.Background(), Plivo, testCall)
	if err != nil || id != "9834029e-58b6-11e1-b8b7-a5bd0e4e126f" {
		t.Fatalf("Place = %q, %v", id, err)
	}
	if n.Load() != 1 {
		t.Errorf("%d requests, want 1", n.Load())
	}
}

func TestPlaceFailures(t *testing.T) {
	for _, tc := range []struct {
		name, provider string
		status         int
		body, want     string
	}{
		{"twilio refuses", Twilio, http.StatusBadRequest, `{"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400}`, "Invalid 'To' Phone Number"},
		{"twilio auth", Twilio, http.StatusUnauthorized, `{"code": 20003, "message": "Authenticate", "status": 401}`, "HTTP 401"},
		{"twilio no sid", Twilio, http.StatusCreated, `{}`, "no sid"},
		{"plivo refuses", Plivo, http.StatusBadRequest, `{"api_id": "x", "error": "invalid to number"}`, "invalid to number"},
		{"plivo down", Plivo, http.StatusBadGateway, `bad gateway`, "HTTP 502: bad gateway"},
		{"plivo no uuid", Plivo, http.StatusCreated, `{"message": "call fired"}`, "no request_uuid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := fakeAPI(t, func(*http.Request, []byte) {}, tc.status, tc.body)
			c := New(Config{TwilioAccountSID: testSID, TwilioAuthToken: testToken, TwilioAPIURL: srv.URL,
				PlivoAuthID: testAuth, PlivoAuthToken: testToken, PlivoAPIURL: srv.URL})
			id, err := c.Place(context.Background(), tc.provider, testCall)
			if err == nil || id != "" || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Place = %q, %v; want an error with %q", id, err, tc.want)
			}
		})
	}
}

// A provider API that does not answer in time is an error, not a hang.
func TestPlaceTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	for _, p := range []string{Twilio, Plivo} {
		c := New(Config{TwilioAccountSID: testSID, TwilioAuthToken: testToken, TwilioAPIURL: srv.URL,
			PlivoAuthID: testAuth, PlivoAuthToken: testToken, PlivoAPIURL: srv.URL, Timeout: 50 * time.Millisecond})
		done := make(chan error, 1)
		go func() { _, err := c.Place(context.Background(), p, testCall); done <- err }()
		select {
		case err := <-done:
			if err == nil {
				t.Errorf("%s: no error from an API that never answers", p)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: Place hangs past its timeout", p)
		}
	}
}

func TestNotConfigured(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	c := New(Config{TwilioAuthToken: testToken, TwilioAPIURL: srv.URL, PlivoAuthID: testAuth, PlivoAPIURL: srv.URL})
	var msgs []string
	for _, p := range []string{Twilio, Plivo} {
		_, err := c.Place(context.Background(), p, testCall)
		if !errors.Is(err, ErrNotConfigured) {
			t.Errorf("%s: %v, want ErrNotConfigured", p, err)
		} else {
			msgs = append(msgs, err.Error())
		}
	}
	sort.Strings(msgs)
	if len(msgs) == 2 && (!strings.Contains(msgs[0], "PLIVO_AUTH_TOKEN") || !strings.Contains(msgs[1], "TWILIO_ACCOUNT_SID")) {
		t.Errorf("messages do not say what to set: %q", msgs)
	}
	if hits.Load() != 0 {
		t.Errorf("%d requests without credentials", hits.Load())
	}
	if err := c.Ready("sms"); err == nil {
		t.Error("unknown provider ready")
	}
}

func TestPlaceRefusesRelativeURLs(t *testing.T) {
	c := New(Config{TwilioAccountSID: testSID, TwilioAuthToken: testToken, TwilioAPIURL: "http://127.0.0.1:1"})
	call := testCall
	call.AnswerURL = "/twilio/voice/callback/agent"
	if _, err := c.Place(context.Background(), Twilio, call); err == nil {
		t.Error("a relative answer URL was sent")
	}
}
