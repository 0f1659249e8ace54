package server

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/ivr-project/ivr/internal/buildinfo"
	"github.com/ivr-project/ivr/internal/httpobs"
	"github.com/ivr-project/ivr/internal/store"
)

const (
	opsTwilioToken = "ops-twilio-token-0123456789abcdef"
	opsPlivoToken  = "ops-plivo-token-0123456789abcdef"
	opsPublicURL   = "https://ivr.example.com"
)

// opsEnv is the whole application (server.New) as run.go wires it: a real
// SQLite store in a temp dir, the bundled example flow, the call-event writer
// running, metrics with the writer's gauges, in-memory Plivo nonces.
type opsEnv struct {
	h       http.Handler
	db      *store.DB
	events  *store.Writer
	metrics *httpobs.Metrics
}

// newOpsEnv builds it on newTestApp; noEvents leaves the Writer out
// (Deps.Events nil).
func newOpsEnv(tb testing.TB, noEvents bool) *opsEnv {
	tb.Helper()
	a := newTestApp(tb, func(d *Deps) {
		d.Config.TwilioTokens = []string{opsTwilioToken}
		d.Config.PlivoToken = opsPlivoToken
		d.Config.PublicURL = opsPublicURL
		d.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
		if noEvents {
			d.Events = nil
			d.Metrics = httpobs.NewMetrics(nil, nil)
		}
	})
	return &opsEnv{h: a.handler, db: a.db, events: a.deps.Events, metrics: a.deps.Metrics}
}

func (e *opsEnv) get(tb testing.TB, target string) *httptest.ResponseRecorder {
	tb.Helper()
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
	return w
}

// twilioCall is the form of a Twilio answer request for call sid.
func twilioCall(sid string) url.Values {
	return url.Values{
		"AccountSid": {"ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
		"CallSid":    {sid},
		"From":       {"+14155550100"},
		"To":         {"+14155550199"},
		"CallStatus": {"ringing"},
		"Direction":  {"inbound"},
		"ApiVersion": {"2010-04-01"},
	}
}

// signedTwilio builds a Twilio-signed form POST to path (query included)
// under opsPublicURL, signed with token.
func signedTwilio(token, path string, form url.Values) *http.Request {
	return signedRequest("twilio", token, opsPublicURL, http.MethodPost, path, form)
}

func TestOpsHealthz(t *testing.T) {
	e := newOpsEnv(t, false)
	w := e.get(t, "/healthz")
	var got struct {
		Status string `json:"status"`
		buildinfo.Info
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); w.Code != http.StatusOK || err != nil || got.Status != "ok" {
		t.Fatalf("/healthz: %d %q (%v)", w.Code, w.Body.String(), err)
	}
	if want := buildinfo.Read(); got.Info != want || want.GoVersion != runtime.Version() {
		t.Errorf("/healthz build = %+v, want %+v", got.Info, want)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	m := e.get(t, "/metrics").Body.String()
	b := buildinfo.Read()
	want := fmt.Sprintf(`ivr_build_info{goversion=%q,revision=%q,version=%q} 1`, b.GoVersion, b.Revision, b.Version)
	if !strings.Contains(m, want) {
		t.Errorf("metrics lack %s:\n%s", want, grepLines(m, "ivr_build_info"))
	}
}

type readyzBody struct {
	Flow   string `json:"flow"`
	Store  string `json:"store"`
	Queued int    `json:"queued_events"`
	Ready  bool   `json:"ready"`
}

func (e *opsEnv) readyz(t *testing.T) (int, readyzBody) {
	t.Helper()
	w := e.get(t, "/readyz")
	var r readyzBody
	if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
		t.Fatalf("/readyz body %q: %v", w.Body.String(), err)
	}
	return w.Code, r
}

func TestOpsReadyz(t *testing.T) {
	t.Run("ok", func(t *testing.T) {
		e := newOpsEnv(t, false)
		code, r := e.readyz(t)
		if code != http.StatusOK || !r.Ready || r.Flow != "ok" || r.Store != "ok" {
			t.Fatalf("/readyz: %d %+v", code, r)
		}
	})
	t.Run("store closed, writer buffering", func(t *testing.T) {
		e := newOpsEnv(t, false)
		e.db.Close()
		code, r := e.readyz(t)
		// Calls are still answered: the writer keeps their events until
		// the store is back, so the instance stays in rotation.
		if code != http.StatusOK || !r.Ready || !strings.Contains(r.Store, "unreachable") || !strings.Contains(r.Store, "buffering") {
			t.Fatalf("/readyz with the store closed and a writer: %d %+v", code, r)
		}
	})
	t.Run("draining", func(t *testing.T) {
		a := newTestApp(t, func(d *Deps) { d.Draining = func() bool { return true } })
		w := httptest.NewRecorder()
		a.handler.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		var r struct {
			Draining, Ready bool
		}
		if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil || w.Code != http.StatusServiceUnavailable || !r.Draining || r.Ready {
			t.Fatalf("/readyz while draining: %d %s, want 503 draining", w.Code, w.Body.String())
		}
	})
	t.Run("store closed, no writer", func(t *testing.T) {
		e := newOpsEnv(t, true)
		e.db.Close()
		code, r := e.readyz(t)
		if code != http.StatusServiceUnavailable || r.Ready || !strings.Contains(r.Store, "unreachable") {
			t.Fatalf("/readyz with the store closed and no writer: %d %+v", code, r)
		}
	})
}

// promSample is one line of the Prometheus text format.
type promSample struct {
	name   string
	labels map[string]string
	value  float64
}

// scrape reads /metrics and parses every sample line.
func (e *opsEnv) scrape(t *testing.T) (string, []promSample) {
	t.Helper()
	w := e.get(t, "/metrics")
	if w.Code != http.StatusOK {
		t.Fatalf("/metrics: %d", w.Code)
	}
	text := w.Body.String()
	var out []promSample
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			t.Fatalf("bad metrics line %q", line)
		}
		v, err := strconv.ParseFloat(line[sp+1:], 64)
		if err != nil {
			t.Fatalf("bad metrics value in %q: %v", line, err)
		}
		s := promSample{name: line[:sp], labels: map[string]string{}, value: v}
		if i := strings.IndexByte(s.name, '{'); i >= 0 {
			for _, kv := range strings.Split(strings.TrimSuffix(s.name[i+1:], "}"), ",") {
				if k, v, ok := strings.Cut(kv, "="); ok {
					s.labels[k] = strings.Trim(v, `"`)
				}
			}
			s.name = s.name[:i]
		}
		out = append(out, s)
	}
	return text, out
}

// metricValue is the sum of the samples named name whose labels include want
// (found false when none matches).
func metricValue(samples []promSample, name string, want map[string]string) (sum float64, found bool) {
next:
	for _, s := range samples {
		if s.name != name {
			continue
		}
		for k, v := range want {
			if s.labels[k] != v {
				continue next
			}
		}
		sum += s.value
		found = true
	}
	return sum, found
}

func TestOpsMetrics(t *testing.T) {
	e := newOpsEnv(t, false)

	// Known traffic: 3 signed answers, 2 forged ones, 1 signed menu action.
	for i := range 3 {
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, signedTwilio(opsTwilioToken, "/twilio/voice", twilioCall("CAops"+strconv.Itoa(i))))
		if w.Code != 200 || !strings.Contains(w.Body.String(), "<Gather") {
			t.Fatalf("signed answer %d: %d %s", i, w.Code, w.Body.String())
		}
	}
	for i := range 2 {
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, signedTwilio("not-the-token", "/twilio/voice", twilioCall("CAforged"+strconv.Itoa(i))))
		if w.Code != 200 || strings.Contains(w.Body.String(), "<Gather") || !strings.Contains(w.Body.String(), "<Dial") {
			t.Fatalf("forged answer %d: %d %s", i, w.Code, w.Body.String())
		}
	}
	menu := twilioCall("CAops0")
	menu.Set("Digits", "1")
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, signedTwilio(opsTwilioToken, "/twilio/voice/menu/main?attempt=1", menu))
	if w.Code != 200 || strings.Contains(w.Body.String(), "<Dial") {
		t.Fatalf("menu action: %d %s", w.Code, w.Body.String())
	}

	text, samples := e.scrape(t)
	for _, name := range []string{
		"ivr_requests_total", "ivr_request_duration_seconds", "ivr_fallbacks_total",
		"ivr_refused_requests_total", "ivr_store_queue_depth", "ivr_flow_reloads_total",
	} {
		if !strings.Contains(text, "# TYPE "+name+" ") {
			t.Errorf("/metrics has no %s", name)
		}
	}
	// Series that exist before anything happened: the queue gauge and both
	// reload results (at 0 until the first reload).
	for _, s := range []struct {
		name   string
		labels map[string]string
	}{
		{"ivr_store_queue_depth", nil},
		{"ivr_flow_reloads_total", map[string]string{"result": "ok"}},
		{"ivr_flow_reloads_total", map[string]string{"result": "error"}},
	} {
		if _, ok := metricValue(samples, s.name, s.labels); !ok {
			t.Errorf("/metrics has no %s%v sample", s.name, s.labels)
		}
	}

	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"ivr_requests_total", map[string]string{"provider": "twilio", "route": "/twilio/voice", "outcome": "ok"}, 3},
		{"ivr_requests_total", map[string]string{"provider": "twilio", "route": "/twilio/voice", "outcome": "fallback"}, 2},
		{"ivr_requests_total", map[string]string{"provider": "twilio", "route": "/twilio/voice/menu/{id}", "outcome": "ok"}, 1},
		{"ivr_fallbacks_total", map[string]string{"provider": "twilio", "reason": "bad_signature"}, 2},
		{"ivr_fallbacks_total", nil, 2},
		{"ivr_refused_requests_total", map[string]string{"provider": "twilio", "reason": "bad_signature"}, 2},
		{"ivr_request_duration_seconds_count", map[string]string{"provider": "twilio", "route": "/twilio/voice"}, 5},
		{"ivr_request_duration_seconds_count", map[string]string{"provider": "twilio", "route": "/twilio/voice/menu/{id}"}, 1},
	}
	for _, c := range checks {
		got, _ := metricValue(samples, c.name, c.labels)
		if got != c.want {
			t.Errorf("%s%v = %v, want %v\n%s", c.name, c.labels, got, c.want, grepLines(text, c.name))
		}
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
