package server

import (
	"net/http"
	"testing"
)

func withHost(host string) reqOpt { return func(r *http.Request) { r.Host = host } }

// Without IVR_ADMIN_TOKEN the admin answers loopback clients only under a
// loopback host name: a page on another site whose name resolves to
// 127.0.0.1 (DNS rebinding) must not read calls or post to the try API.
func TestAdminLocalModeRefusesForeignHost(t *testing.T) {
	e := newAdminEnv(t, "", map[string]string{"IVR_ADMIN_TOKEN": ""})
	for _, tc := range []struct {
		host string
		want int
	}{
		{"localhost", http.StatusOK},
		{"localhost:8080", http.StatusOK},
		{"LOCALHOST:8080", http.StatusOK},
		{"127.0.0.1:8080", http.StatusOK},
		{"127.0.0.1", http.StatusOK},
		{"[::1]:8080", http.StatusOK},
		{"[::1]", http.StatusOK},
		{"attacker.example:8080", http.StatusForbidden},
		{"attacker.example", http.StatusForbidden},
		{"localhost.attacker.example", http.StatusForbidden},
		{"127.0.0.1.nip.io:8080", http.StatusForbidden},
		{"", http.StatusForbidden},
	} {
		for _, path := range []string{"/admin/api/calls", "/admin/flow", "/admin/calls"} {
			w := e.do(t, "GET", path, "", withRemote("127.0.0.1:4000"), withHost(tc.host))
			if w.Code != tc.want {
				t.Errorf("GET %s with Host %q from loopback = %d, want %d", path, tc.host, w.Code, tc.want)
			}
		}
	}
	// The try API, from a rebinding page that even carries a matching
	// Origin and CSRF cookie of its own making.
	page := e.do(t, "GET", "/admin/try", "", withRemote("127.0.0.1:4000"), withHost("attacker.example"))
	if page.Code != http.StatusForbidden {
		t.Fatalf("try page under a foreign host = %d, want 403", page.Code)
	}
	csrf := &http.Cookie{Name: csrfCookie, Value: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
	w := e.do(t, "POST", "/admin/api/try", `{"provider":"twilio"}`, withRemote("127.0.0.1:4000"),
		withHost("attacker.example"), withHeader("Origin", "http://attacker.example"),
		withCookie(csrf), withHeader(csrfHeader, csrf.Value))
	if w.Code != http.StatusForbidden {
		t.Errorf("try API under a foreign host = %d, want 403: %s", w.Code, w.Body.String())
	}
	// With a token, the host does not matter (the token is the gate).
	e = newAdminEnv(t, "", map[string]string{"IVR_ADMIN_TOKEN": adminTestToken})
	if w := e.do(t, "GET", "/admin/api/calls", "", withBearer(adminTestToken), withHost("ivr.example.com")); w.Code != http.StatusOK {
		t.Errorf("token mode under a public host = %d, want 200", w.Code)
	}
}
