package testutil

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// FakeAPI is a local stand-in for a provider's REST API: it records every
// request (method, path, basic auth, body) and answers each with the
// status and body set by Answer, after its delay.
type FakeAPI struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []APIRequest
	status int
	body   string
	delay  time.Duration
}

// APIRequest is one request the fake API received.
type APIRequest struct {
	Method, Path, ContentType string
	User, Password            string
	BasicAuth                 bool
	Body                      []byte
}

// NewFakeAPI starts a fake API answering status and body (closed when the
// test ends).
func NewFakeAPI(t testing.TB, status int, body string) *FakeAPI {
	t.Helper()
	f := &FakeAPI{status: status, body: body}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		user, pass, ok := r.BasicAuth()
		f.mu.Lock()
		f.reqs = append(f.reqs, APIRequest{Method: r.Method, Path: r.URL.Path, ContentType: r.Header.Get("Content-Type"),
			User: user, Password: pass, BasicAuth: ok, Body: data})
		status, body, delay := f.status, f.body, f.delay
		f.mu.Unlock()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(f.Close)
	return f
}

// Answer sets what the next requests get.
func (f *FakeAPI) Answer(status int, body string, delay time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status, f.body, f.delay = status, body, delay
}

// Requests returns the requests received so far.
func (f *FakeAPI) Requests() []APIRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]APIRequest(nil), f.reqs...)
}
