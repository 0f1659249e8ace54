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

// Without IVR_ADMIN_TOKEN a page on another site can still make the
// browser GET http://localhost:8080/admin/api/... (an image, a no-cors
// fetch): the admin APIs refuse what the browser says comes from another
// site (Sec-Fetch-Site, or an Origin that is not this server), and still
// answer the admin's own pages, a typed URL and tools such as curl.
func TestAdminLocalModeRefusesCrossSiteAPI(t *testing.T) {
	e := newAdminEnv(t, "", map[string]string{"IVR_ADMIN_TOKEN": ""})
	local := []reqOpt{withRemote("127.0.0.1:4000"), withHost("localhost:8080")}
	for _, tc := range []struct {
		name string
		opts []reqOpt
		want int
	}{
		{"curl", nil, http.StatusOK},
		{"same origin", []reqOpt{withHeader("Sec-Fetch-Site", "same-origin")}, http.StatusOK},
		{"typed URL", []reqOpt{withHeader("Sec-Fetch-Site", "none")}, http.StatusOK},
		{"own Origin", []reqOpt{withHeader("Origin", "http://localhost:8080")}, http.StatusOK},
		{"cross-site", []reqOpt{withHeader("Sec-Fetch-Site", "cross-site")}, http.StatusForbidden},
		{"same site, other port", []reqOpt{withHeader("Sec-Fetch-Site", "same-site")}, http.StatusForbidden},
		{"foreign Origin", []reqOpt{withHeader("Origin", "http://attacker.example")}, http.StatusForbidden},
		{"null Origin", []reqOpt{withHeader("Origin", "null")}, http.StatusForbidden},
	} {
		for _, path := range []string{"/admin/api/calls", "/admin/api/flow/diff?from=1&to=1", "/admin/api/insights/export?what=calls&format=csv"} {
			w := e.do(t, "GET", path, "", append(local, tc.opts...)...)
			if (w.Code == http.StatusForbidden) != (tc.want == http.StatusForbidden) {
				t.Errorf("%s: GET %s = %d, want %d", tc.name, path, w.Code, tc.want)
			}
		}
	}
	// A link from another site to an admin page still opens it.
	if w := e.do(t, "GET", "/admin/calls", "", append(local, withHeader("Sec-Fetch-Site", "cross-site"), withHeader("Sec-Fetch-Mode", "navigate"))...); w.Code != http.StatusOK {
		t.Errorf("a cross-site link to a page = %d, want 200", w.Code)
	}
}
