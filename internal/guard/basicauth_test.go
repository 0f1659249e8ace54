package guard

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestBasicAuth(t *testing.T) {
	h := BasicAuth("twilio", "s3cret-pass", `ivr "twilio"`)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("<Response/>"))
	}))
	tests := []struct {
		name       string
		user, pass string
		withAuth   bool
		wantCode   int
	}{
		{"challenge without credentials", "", "", false, http.StatusUnauthorized},
		{"retry with the URL's credentials", "twilio", "s3cret-pass", true, http.StatusOK},
		{"wrong password", "twilio", "s3cret-pasS", true, http.StatusUnauthorized},
		{"password prefix", "twilio", "s3cret", true, http.StatusUnauthorized},
		{"wrong user", "plivo", "s3cret-pass", true, http.StatusUnauthorized},
		{"empty credentials", "", "", true, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/twilio/voice", nil)
			if tt.withAuth {
				r.SetBasicAuth(tt.user, tt.pass)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.wantCode {
				t.Fatalf("status = %d, want %d", w.Code, tt.wantCode)
			}
			got := w.Header().Get("WWW-Authenticate")
			if tt.wantCode == http.StatusUnauthorized {
				if want := `Basic realm="ivr \"twilio\"", charset="UTF-8"`; got != want {
					t.Errorf("WWW-Authenticate = %q, want %q", got, want)
				}
			} else if got != "" {
				t.Errorf("WWW-Authenticate on success = %q, want none", got)
			}
		})
	}
}

// TestBasicAuthChallengeThenRetry plays what Twilio does with
// https://user:pass@host/...: a first request without credentials, then the
// same request with them after the 401 challenge.
func TestBasicAuthChallengeThenRetry(t *testing.T) {
	srv := httptest.NewServer(BasicAuth("u", "p", "ivr")(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	})))
	defer srv.Close()

	resp, err := http.Post(srv.URL+"/twilio/voice", "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("first call: status %d, WWW-Authenticate %q; want 401 with a challenge", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}

	req, err := http.NewRequest(http.MethodPost, srv.URL+"/twilio/voice", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("u", "p")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("retry with credentials: status %d, want 200", resp.StatusCode)
	}
}

func TestBasicAuthOff(t *testing.T) {
	h := BasicAuth("", "", "")(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != http.StatusOK {
		t.Errorf("basic auth without credentials configured: status %d, want 200", w.Code)
	}
}

func TestQuoteRealm(t *testing.T) {
	if got, want := quoteRealm("a\"b\\c\r\nd"), `a\"b\\cd`; got != want {
		t.Errorf("quoteRealm = %q, want %q", got, want)
	}
}
