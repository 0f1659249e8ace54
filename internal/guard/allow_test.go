package guard

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func mustCIDRs(t testing.TB, s string) []netip.Prefix {
	t.Helper()
	p, err := ParseCIDRs(s)
	if err != nil {
		t.Fatalf("ParseCIDRs(%q): %v", s, err)
	}
	return p
}

func TestParseCIDRs(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", nil},
		{"only comments", "# Twilio\n  # nothing yet\n", nil},
		{"comma", "203.0.113.0/24,198.51.100.7", []string{"203.0.113.0/24", "198.51.100.7/32"}},
		{"spaces and tabs", " 203.0.113.0/24 \t 2001:db8::/32 ", []string{"203.0.113.0/24", "2001:db8::/32"}},
		{"file", "# Plivo\n203.0.113.0/24 # region A\r\n\n198.51.100.0/25, 2001:db8::1\n", []string{"203.0.113.0/24", "198.51.100.0/25", "2001:db8::1/128"}},
		{"semicolons", "10.0.0.0/8;192.168.0.0/16", []string{"10.0.0.0/8", "192.168.0.0/16"}},
		{"mapped address", "::ffff:203.0.113.9", []string{"203.0.113.9/32"}},
		{"mapped prefix", "::ffff:203.0.113.0/120", []string{"203.0.113.0/24"}},
		{"all v4", "0.0.0.0/0", []string{"0.0.0.0/0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCIDRs(tt.in)
			if err != nil {
				t.Fatalf("ParseCIDRs(%q): %v", tt.in, err)
			}
			var s []string
			for _, p := range got {
				s = append(s, p.String())
			}
			if !slices.Equal(s, tt.want) {
				t.Errorf("ParseCIDRs(%q) = %q, want %q", tt.in, s, tt.want)
			}
		})
	}
}

func TestParseCIDRsErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // substrings of the error
	}{
		{"bad octet", "10.0.0.0/8\n10.0.0.256/24", []string{`line 2: "10.0.0.256/24"`, "write a CIDR like"}},
		{"word", "twilio", []string{`line 1: "twilio"`, "not an IP address or CIDR"}},
		{"host bits", "203.0.113.7/24", []string{"host bits are set", "write 203.0.113.0/24 for the network or 203.0.113.7 for the single address"}},
		{"too long prefix", "10.0.0.0/33", []string{`"10.0.0.0/33"`, "not a valid CIDR"}},
		{"zone", "fe80::1%eth0", []string{"zone"}},
		{"short mapped", "::ffff:0.0.0.0/80", []string{"at least /96"}},
		{"two bad", "x, 10.0.0.0/8, y", []string{`"x"`, `"y"`}},
		{"many bad", strings.Repeat("bad ", 15), []string{"and 5 more bad entries"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCIDRs(tt.in)
			if err == nil {
				t.Fatalf("ParseCIDRs(%q) = %v, want an error", tt.in, got)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("ParseCIDRs(%q) error %q does not say %q", tt.in, err, w)
				}
			}
		})
	}
}

func TestClientIP(t *testing.T) {
	trusted := mustCIDRs(t, "10.0.0.0/8, fd00::/8")
	tests := []struct {
		name   string
		remote string
		xff    []string
		want   string // "" = invalid address
	}{
		{"direct v4", "203.0.113.7:5060", nil, "203.0.113.7"},
		{"direct v6", "[2001:db8::7]:443", nil, "2001:db8::7"},
		{"direct mapped v4", "[::ffff:203.0.113.7]:443", nil, "203.0.113.7"},
		{"direct v6 zone", "[fe80::1%eth0]:443", nil, "fe80::1"},
		{"spoofed XFF from untrusted peer is ignored", "198.51.100.9:1234", []string{"203.0.113.7"}, "198.51.100.9"},
		{"trusted proxy, one hop", "10.0.0.2:1234", []string{"203.0.113.7"}, "203.0.113.7"},
		{"trusted proxies, two hops", "10.0.0.2:1234", []string{"203.0.113.7, 10.1.2.3"}, "203.0.113.7"},
		{"right-most untrusted wins over spoofed left", "10.0.0.2:1234", []string{"1.2.3.4, 203.0.113.7, 10.1.2.3"}, "203.0.113.7"},
		{"several headers are one list", "10.0.0.2:1234", []string{"1.2.3.4", "203.0.113.7", "10.1.2.3"}, "203.0.113.7"},
		{"v6 through proxy", "[fd00::1]:1234", []string{"2001:db8::7"}, "2001:db8::7"},
		{"mapped through proxy", "[::ffff:10.0.0.2]:1234", []string{"::ffff:203.0.113.7"}, "203.0.113.7"},
		{"entry with port", "10.0.0.2:1234", []string{"203.0.113.7:5060"}, "203.0.113.7"},
		{"v6 entry with port", "10.0.0.2:1234", []string{"[2001:db8::7]:5060"}, "2001:db8::7"},
		{"no XFF from proxy", "10.0.0.2:1234", nil, "10.0.0.2"},
		{"all hops trusted", "10.0.0.2:1234", []string{"10.9.9.9, 10.1.1.1"}, "10.9.9.9"},
		{"garbage entry", "10.0.0.2:1234", []string{"203.0.113.7, unknown"}, ""},
		{"empty entries skipped", "10.0.0.2:1234", []string{"203.0.113.7, ,"}, "203.0.113.7"},
		{"bad remote", "not-an-address", nil, ""},
		{"remote without port", "203.0.113.7", nil, "203.0.113.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/twilio/voice", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			got := ClientIP(r, trusted)
			if tt.want == "" {
				if got.IsValid() {
					t.Errorf("ClientIP = %v, want invalid", got)
				}
				return
			}
			if got != netip.MustParseAddr(tt.want) {
				t.Errorf("ClientIP = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestClientIPNoTrustedProxies(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.RemoteAddr = "10.0.0.2:1234"
	r.Header.Set("X-Forwarded-For", "203.0.113.7")
	if got := ClientIP(r, nil); got != netip.MustParseAddr("10.0.0.2") {
		t.Errorf("ClientIP without trusted proxies = %v, want the peer 10.0.0.2", got)
	}
}

func TestAllow(t *testing.T) {
	list := mustCIDRs(t, "203.0.113.0/24\n2001:db8::/32")
	trusted := mustCIDRs(t, "10.0.0.0/8")
	tests := []struct {
		name   string
		list   []netip.Prefix
		remote string
		xff    string
		allow  bool
	}{
		{"v4 in list", list, "203.0.113.7:1", "", true},
		{"v4 not in list", list, "198.51.100.7:1", "", false},
		{"v6 in list", list, "[2001:db8::1]:1", "", true},
		{"v6 not in list", list, "[2001:db9::1]:1", "", false},
		{"mapped v4 in list", list, "[::ffff:203.0.113.7]:1", "", true},
		{"spoofed XFF from untrusted peer", list, "198.51.100.7:1", "203.0.113.7", false},
		{"XFF through trusted proxy", list, "10.0.0.2:1", "203.0.113.7", true},
		{"XFF through trusted proxy, client not allowed", list, "10.0.0.2:1", "198.51.100.7", false},
		{"spoofed left entry through trusted proxy", list, "10.0.0.2:1", "203.0.113.7, 198.51.100.7", false},
		{"proxy itself not in list", list, "10.0.0.2:1", "", false},
		{"garbage XFF denied", list, "10.0.0.2:1", "unknown", false},
		{"empty list allows all", nil, "198.51.100.7:1", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var reason string
			onDeny := func(w http.ResponseWriter, _ *http.Request, why string) {
				reason = why
				w.WriteHeader(http.StatusOK) // what the server's fallback does
				_, _ = w.Write([]byte("fallback"))
			}
			reached := false
			h := Allow(tt.list, trusted, onDeny)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				reached = true
				_, _ = w.Write([]byte("menu"))
			}))
			r := httptest.NewRequest(http.MethodPost, "/twilio/voice", nil)
			r.RemoteAddr = tt.remote
			if tt.xff != "" {
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if reached != tt.allow {
				t.Fatalf("next handler reached = %v, want %v", reached, tt.allow)
			}
			if !tt.allow {
				if reason != ReasonIPNotAllowed {
					t.Errorf("onDeny reason = %q, want %q", reason, ReasonIPNotAllowed)
				}
				if w.Body.String() != "fallback" {
					t.Errorf("body = %q, want the onDeny answer", w.Body.String())
				}
			}
		})
	}
}

func TestAllowDefaultDenyAndCopy(t *testing.T) {
	list := mustCIDRs(t, "203.0.113.0/24")
	h := Allow(list, nil, nil)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	list[0] = netip.MustParsePrefix("0.0.0.0/0") // must not widen the middleware's list
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "198.51.100.7:1"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusForbidden {
		t.Errorf("status = %d, want 403 with a nil onDeny", w.Code)
	}
}

func TestAllowlistContainsHandBuiltMapped(t *testing.T) {
	l := Allowlist{netip.MustParsePrefix("::ffff:203.0.113.0/120")}
	if !l.Contains(netip.MustParseAddr("203.0.113.7")) {
		t.Error("a hand-built IPv4-mapped prefix should contain the IPv4 address")
	}
	if l.Contains(netip.Addr{}) {
		t.Error("the invalid address must be in no list")
	}
	if got, want := Allowlist(mustCIDRs(t, "10.0.0.0/8 2001:db8::/32")).String(), "10.0.0.0/8, 2001:db8::/32"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func FuzzParseCIDRs(f *testing.F) {
	// More seeds live in testdata/fuzz/FuzzParseCIDRs.
	f.Add("203.0.113.0/24, 2001:db8::/32 # comment\n198.51.100.7")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseCIDRs(s)
		if err != nil {
			if got != nil {
				t.Fatalf("ParseCIDRs returned both a list and an error")
			}
			return
		}
		for _, p := range got {
			if !p.IsValid() {
				t.Fatalf("invalid prefix %v from %q", p, s)
			}
			if p.Masked() != p {
				t.Fatalf("prefix %v has host bits set", p)
			}
			if p.Addr().Is4In6() || p.Addr().Zone() != "" {
				t.Fatalf("prefix %v is not normalized", p)
			}
		}
		// The printed list reads back to the same list.
		again, err := ParseCIDRs(Allowlist(got).String())
		if err != nil {
			t.Fatalf("re-parse of %q: %v", Allowlist(got).String(), err)
		}
		if !slices.Equal(got, again) {
			t.Fatalf("round trip changed %v to %v", got, again)
		}
	})
}

func BenchmarkClientIPAllow(b *testing.B) {
	// A realistic list: a few dozen provider networks, behind two proxies.
	var sb strings.Builder
	for i := range 40 {
		sb.WriteString(netip.AddrFrom4([4]byte{54, 172, byte(i), 0}).String() + "/24\n")
	}
	sb.WriteString("2001:db8::/32\n203.0.113.0/24\n")
	list := Allowlist(normalize(mustCIDRs(b, sb.String())))
	trusted := normalize(mustCIDRs(b, "10.0.0.0/8, fd00::/8"))
	r := httptest.NewRequest(http.MethodPost, "/twilio/voice", nil)
	r.RemoteAddr = "10.0.0.2:41234"
	r.Header.Set("X-Forwarded-For", "1.2.3.4, 203.0.113.7, 10.1.2.3")
	b.ReportAllocs()
	for b.Loop() {
		if !list.Contains(ClientIP(r, trusted)) {
			b.Fatal("denied")
		}
	}
}
