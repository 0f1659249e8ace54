package auth

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestURLResolverResolve(t *testing.T) {
	tests := []struct {
		name    string
		res     URLResolver
		target  string // request target as sent (path and raw query)
		host    string
		tls     bool
		headers map[string]string
		want    string
	}{
		{"ngrok public base, localhost request", URLResolver{PublicBase: "https://abc.ngrok.app"},
			"/twilio/voice?attempt=2", "localhost:8080", false, nil, "https://abc.ngrok.app/twilio/voice?attempt=2"},
		{"public base with trailing slash", URLResolver{PublicBase: "https://abc.ngrok.app/"},
			"/twilio/voice", "localhost:8080", false, nil, "https://abc.ngrok.app/twilio/voice"},
		{"public base with port", URLResolver{PublicBase: "https://ivr.example.com:8443"},
			"/plivo/voice", "10.0.0.1", false, nil, "https://ivr.example.com:8443/plivo/voice"},
		{"public base prefix added", URLResolver{PublicBase: "https://example.com/ivr"},
			"/twilio/voice?x=1", "backend:8080", false, nil, "https://example.com/ivr/twilio/voice?x=1"},
		{"public base prefix with slash", URLResolver{PublicBase: "https://example.com/ivr/"},
			"/twilio/voice", "backend:8080", false, nil, "https://example.com/ivr/twilio/voice"},
		{"public base prefix already in path", URLResolver{PublicBase: "https://example.com/ivr"},
			"/ivr/twilio/voice", "backend:8080", false, nil, "https://example.com/ivr/twilio/voice"},
		{"public base prefix equals path", URLResolver{PublicBase: "https://example.com/ivr"},
			"/ivr?x=1", "backend", false, nil, "https://example.com/ivr?x=1"},
		{"prefix is not a path segment", URLResolver{PublicBase: "https://example.com/ivr"},
			"/ivrx/voice", "backend", false, nil, "https://example.com/ivr/ivrx/voice"},
		{"raw query not re-encoded", URLResolver{PublicBase: "https://abc.ngrok.app"},
			"/twilio/voice?From=%2b1415&Say=a+b&c=%7E&d=caf%C3%A9&e=", "localhost", false, nil,
			"https://abc.ngrok.app/twilio/voice?From=%2b1415&Say=a+b&c=%7E&d=caf%C3%A9&e="},
		{"raw path not re-encoded", URLResolver{PublicBase: "https://abc.ngrok.app"},
			"/plivo/voice/menu/caf%C3%A9%2Fx", "localhost", false, nil, "https://abc.ngrok.app/plivo/voice/menu/caf%C3%A9%2Fx"},
		{"trailing slash kept", URLResolver{PublicBase: "https://abc.ngrok.app"},
			"/twilio/voice/", "localhost", false, nil, "https://abc.ngrok.app/twilio/voice/"},
		{"empty query kept", URLResolver{}, "/twilio/voice?", "ivr.example.com", false, nil, "http://ivr.example.com/twilio/voice?"},
		{"no base: plain http", URLResolver{}, "/twilio/voice", "localhost:8080", false, nil, "http://localhost:8080/twilio/voice"},
		{"no base: TLS", URLResolver{}, "/twilio/voice", "ivr.example.com", true, nil, "https://ivr.example.com/twilio/voice"},
		{"proxy headers ignored without TrustProxy", URLResolver{}, "/twilio/voice", "localhost:8080", false,
			map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "abc.ngrok.app"}, "http://localhost:8080/twilio/voice"},
		{"proxy headers with TrustProxy", URLResolver{TrustProxy: true}, "/twilio/voice?a=1", "localhost:8080", false,
			map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "abc.ngrok.app"}, "https://abc.ngrok.app/twilio/voice?a=1"},
		{"proxy headers: first of a list", URLResolver{TrustProxy: true}, "/x", "localhost", false,
			map[string]string{"X-Forwarded-Proto": "HTTPS , http", "X-Forwarded-Host": " a.example.com, b.example.com"}, "https://a.example.com/x"},
		{"proxy headers: unknown proto ignored", URLResolver{TrustProxy: true}, "/x", "localhost", true,
			map[string]string{"X-Forwarded-Proto": "ftp"}, "https://localhost/x"},
		{"proxy headers: http downgrade honoured", URLResolver{TrustProxy: true}, "/x", "localhost", true,
			map[string]string{"X-Forwarded-Proto": "http"}, "http://localhost/x"},
		{"public base wins over proxy headers", URLResolver{PublicBase: "https://abc.ngrok.app", TrustProxy: true}, "/x", "localhost", false,
			map[string]string{"X-Forwarded-Proto": "http", "X-Forwarded-Host": "evil.example"}, "https://abc.ngrok.app/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tt.target, nil)
			r.Host = tt.host
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			} else {
				r.TLS = nil
			}
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			if got := tt.res.Resolve(r); got != tt.want {
				t.Errorf("Resolve = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestURLResolverRequestForms(t *testing.T) {
	res := URLResolver{PublicBase: "https://abc.ngrok.app"}
	// Absolute-form request target (as sent to a proxy).
	r := &http.Request{RequestURI: "http://backend:8080/twilio/voice?a=1", Host: "backend:8080"}
	if got, want := res.Resolve(r), "https://abc.ngrok.app/twilio/voice?a=1"; got != want {
		t.Errorf("absolute form: %q, want %q", got, want)
	}
	r = &http.Request{RequestURI: "http://backend:8080?a=1"}
	if got, want := res.Resolve(r), "https://abc.ngrok.app/?a=1"; got != want {
		t.Errorf("absolute form without path: %q, want %q", got, want)
	}
	// A request built in code has no RequestURI: fall back to r.URL.
	r = httptest.NewRequest(http.MethodGet, "/plivo/voice?x=%2B1", nil)
	r.RequestURI = ""
	if got, want := res.Resolve(r), "https://abc.ngrok.app/plivo/voice?x=%2B1"; got != want {
		t.Errorf("no RequestURI: %q, want %q", got, want)
	}
}

func TestURLResolverValidate(t *testing.T) {
	for base, ok := range map[string]bool{
		"":                          true,
		"https://abc.ngrok.app":     true,
		"http://localhost:8080/ivr": true,
		"abc.ngrok.app":             false,
		"ftp://abc.ngrok.app":       false,
		"https://":                  false,
		"https://u:p@abc.ngrok.app": false,
		"https://abc.ngrok.app?x=1": false,
		"https://abc.ngrok.app/#x":  false,
		"https://abc ngrok.app":     false,
	} {
		if err := (URLResolver{PublicBase: base}).Validate(); (err == nil) != ok {
			t.Errorf("Validate(%q) = %v, want ok=%v", base, err, ok)
		}
	}
}

func TestURLToggles(t *testing.T) {
	tests := []struct {
		in, port, slash, scheme string
	}{
		{"https://h.example/p?q=1", "https://h.example:443/p?q=1", "https://h.example/p/?q=1", "http://h.example/p?q=1"},
		{"http://h.example:80/p/", "http://h.example/p/", "http://h.example:80/p", "https://h.example:80/p/"},
		{"http://[::1]:8080/p", "http://[::1]/p", "http://[::1]:8080/p/", "https://[::1]:8080/p"},
		{"https://[::1]/p", "https://[::1]:443/p", "https://[::1]/p/", "http://[::1]/p"},
	}
	for _, tt := range tests {
		if got, _, _ := togglePort(tt.in); got != tt.port {
			t.Errorf("togglePort(%q) = %q, want %q", tt.in, got, tt.port)
		}
		if got, _, _ := toggleSlash(tt.in); got != tt.slash {
			t.Errorf("toggleSlash(%q) = %q, want %q", tt.in, got, tt.slash)
		}
		if got, _, _ := toggleScheme(tt.in); got != tt.scheme {
			t.Errorf("toggleScheme(%q) = %q, want %q", tt.in, got, tt.scheme)
		}
	}
	if _, ok := toggleStandardPort("https://h.example:8443/p"); ok {
		t.Errorf("toggleStandardPort touched a non-standard port")
	}
	if got, _ := toggleStandardPort("https://h.example:443/p"); got != "https://h.example/p" {
		t.Errorf("toggleStandardPort removed to %q", got)
	}
}
