package guard

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// ReasonIPNotAllowed is the reason [Allow] passes to its onDeny callback. It is
// short and stable so the server can use it as a metric label.
const ReasonIPNotAllowed = "ip_not_allowed"

// maxCIDRErrors caps how many bad entries one ParseCIDRs error lists.
const maxCIDRErrors = 10

// cidrHint is what a bad entry's error tells the user to write instead.
const cidrHint = "write a CIDR like 203.0.113.0/24 or 2001:db8::/32, or a single address like 203.0.113.7"

// Allowlist is a list of networks. The zero value (empty) contains nothing; the
// middleware [Allow] treats an empty list as "allow all". A []netip.Prefix can
// be used where an Allowlist is expected and the other way round.
type Allowlist []netip.Prefix

// Contains reports whether addr is in one of the networks. IPv4-mapped IPv6
// addresses (::ffff:192.0.2.1) match IPv4 networks, and an IPv6 zone is
// ignored. The invalid (zero) address is in no list.
func (l Allowlist) Contains(addr netip.Addr) bool {
	if !addr.IsValid() {
		return false
	}
	addr = addr.Unmap().WithZone("")
	for _, p := range l {
		if p.Contains(addr) {
			return true
		}
		// A list built by hand may hold ::ffff:a.b.c.d/n; match it too.
		if addr.Is4() && p.Addr().Is4In6() && p.Contains(netip.AddrFrom16(addr.As16())) {
			return true
		}
	}
	return false
}

// ParseCIDRs reads a list of networks from a variable or a file's contents.
// Entries are separated by commas, spaces, tabs or newlines; "#" starts a
// comment that runs to the end of the line. An entry is a CIDR
// (203.0.113.0/24, 2001:db8::/32) or a bare address (203.0.113.7, 2001:db8::1),
// which stands for that one address. IPv4-mapped IPv6 entries
// (::ffff:203.0.113.0/120) are turned into their IPv4 form. A CIDR with host
// bits set (203.0.113.7/24) is an error, because it usually means a single
// address was meant. An empty or comment-only input gives an empty list and no
// error.
//
// The error names every bad entry (up to ten) with its line, and says what to
// write instead.
func ParseCIDRs(s string) ([]netip.Prefix, error) {
	var (
		out  []netip.Prefix
		errs []error
		bad  int
	)
	for i, line := range strings.Split(s, "\n") {
		if j := strings.IndexByte(line, '#'); j >= 0 {
			line = line[:j]
		}
		for _, entry := range strings.FieldsFunc(line, isCIDRSeparator) {
			p, err := parseCIDR(entry)
			if err != nil {
				bad++
				if bad <= maxCIDRErrors {
					errs = append(errs, fmt.Errorf("line %d: %q: %w", i+1, entry, err))
				}
				continue
			}
			out = append(out, p)
		}
	}
	if bad > maxCIDRErrors {
		errs = append(errs, fmt.Errorf("and %d more bad entries", bad-maxCIDRErrors))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("parse CIDR list: %w", errors.Join(errs...))
	}
	return out, nil
}

func isCIDRSeparator(r rune) bool {
	switch r {
	case ',', ';', ' ', '\t', '\r', '\v', '\f':
		return true
	}
	return false
}

// parseCIDR reads one entry of a list: a CIDR or a bare address.
func parseCIDR(entry string) (netip.Prefix, error) {
	if !strings.Contains(entry, "/") {
		addr, err := netip.ParseAddr(entry)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("not an IP address or CIDR; %s", cidrHint)
		}
		if addr.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("an IPv6 zone (%%%s) is not allowed; write the address without it", addr.Zone())
		}
		addr = addr.Unmap()
		return netip.PrefixFrom(addr, addr.BitLen()), nil
	}
	p, err := netip.ParsePrefix(entry)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("not a valid CIDR; %s", cidrHint)
	}
	addr, bits := p.Addr(), p.Bits()
	if addr.Is4In6() {
		if bits < 96 {
			return netip.Prefix{}, fmt.Errorf("an IPv4-mapped prefix needs at least /96; write the IPv4 network instead (e.g. 203.0.113.0/24)")
		}
		addr, bits = addr.Unmap(), bits-96
		p = netip.PrefixFrom(addr, bits)
	}
	if masked := p.Masked(); masked.Addr() != addr {
		return netip.Prefix{}, fmt.Errorf("host bits are set; write %s for the network or %s for the single address", masked, addr)
	}
	return p, nil
}

// ClientIP returns the address of the client that sent r. It is the
// connection's peer (r.RemoteAddr), unless that peer is in trusted: then the
// X-Forwarded-For entries (all such headers, in order) are walked from the
// right, skipping trusted proxies, and the first untrusted entry is the
// client. If every entry is a trusted proxy, the left-most one is returned. An
// entry that is not an address (entries may carry a port, "203.0.113.7:5060"
// or "[2001:db8::1]:443") stops the walk and gives the invalid address, which
// no allowlist contains. An X-Forwarded-For from an untrusted peer is ignored,
// so a client cannot choose its own address. The result is unmapped
// (::ffff:192.0.2.1 becomes 192.0.2.1) and has no zone; it is the invalid
// address when RemoteAddr cannot be parsed.
func ClientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer := parseHostAddr(r.RemoteAddr)
	if !peer.IsValid() || len(trusted) == 0 || !Allowlist(trusted).Contains(peer) {
		return peer
	}
	values := r.Header.Values("X-Forwarded-For")
	client := peer
	for i := len(values) - 1; i >= 0; i-- {
		v := values[i]
		for v != "" {
			var entry string
			if j := strings.LastIndexByte(v, ','); j >= 0 {
				entry, v = v[j+1:], v[:j]
			} else {
				entry, v = v, ""
			}
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			addr := parseHostAddr(entry)
			if !addr.IsValid() {
				return netip.Addr{}
			}
			if !Allowlist(trusted).Contains(addr) {
				return addr
			}
			client = addr
		}
	}
	return client
}

// parseHostAddr reads "addr", "addr:port" or "[addr]:port" and returns the
// unmapped address without zone, or the invalid address. It picks the parser
// from the shape of s so the common cases do not build an error value.
func parseHostAddr(s string) netip.Addr {
	if strings.HasPrefix(s, "[") || strings.Count(s, ":") == 1 {
		if ap, err := netip.ParseAddrPort(s); err == nil {
			return ap.Addr().Unmap().WithZone("")
		}
		s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone("")
	}
	return netip.Addr{}
}

// Allow returns a middleware that lets a request through only when its client
// address ([ClientIP] with trusted) is in list. An empty list allows every
// request. A refused request goes to onDeny with reason [ReasonIPNotAllowed]
// and never reaches the next handler; onDeny nil answers 403 Forbidden. The
// lists are copied, so later changes to the caller's slices have no effect.
func Allow(list []netip.Prefix, trusted []netip.Prefix, onDeny func(w http.ResponseWriter, r *http.Request, reason string)) func(http.Handler) http.Handler {
	if len(list) == 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	allow := normalize(list)
	proxies := normalize(trusted)
	if onDeny == nil {
		onDeny = func(w http.ResponseWriter, _ *http.Request, _ string) {
			http.Error(w, http.StatusText(http.StatusForbidden), http.StatusForbidden)
		}
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !allow.Contains(ClientIP(r, proxies)) {
				onDeny(w, r, ReasonIPNotAllowed)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// normalize copies a list, turning IPv4-mapped prefixes into IPv4 ones and
// masking host bits, so Contains can compare unmapped addresses.
func normalize(list []netip.Prefix) Allowlist {
	out := make(Allowlist, 0, len(list))
	for _, p := range list {
		if !p.IsValid() {
			continue
		}
		addr, bits := p.Addr().WithZone(""), p.Bits()
		if addr.Is4In6() && bits >= 96 {
			addr, bits = addr.Unmap(), bits-96
		}
		out = append(out, netip.PrefixFrom(addr, bits).Masked())
	}
	return out
}
