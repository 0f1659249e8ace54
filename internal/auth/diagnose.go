package auth

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// The diagnosis runs only after a signature check failed, never on the fast path.
// It names tokens by role ("the secondary token"), never by value.

type sigHeader struct {
	name  string     // header name
	value string     // header value ("" = absent)
	list  bool       // comma-separated signatures allowed
	macs  []namedMAC // tokens this header is checked with
	other []namedMAC // other configured tokens, tried only to explain a failure
}

type urlVariant struct {
	url, desc string
}

// urlVariants returns u with every combination of: the other scheme, the port
// toggled, the trailing slash toggled (u itself excluded).
func urlVariants(u string) []urlVariant {
	toggles := []func(string) (string, string, bool){toggleScheme, togglePort, toggleSlash}
	seen := map[string]bool{u: true}
	var out []urlVariant
	for mask := 1; mask < 1<<len(toggles); mask++ {
		cur, descs, ok := u, []string(nil), true
		for i, t := range toggles {
			if mask&(1<<i) == 0 {
				continue
			}
			next, d, good := t(cur)
			if !good {
				ok = false
				break
			}
			cur, descs = next, append(descs, d)
		}
		if !ok || seen[cur] {
			continue
		}
		seen[cur] = true
		out = append(out, urlVariant{url: cur, desc: strings.Join(descs, ", ")})
	}
	return out
}

func (h sigHeader) matches(m *mac, data []byte) bool {
	if h.list {
		return m.matchesAny(data, h.value)
	}
	return m.matches(data, h.value)
}

// diagnose explains why no header matched checkedURL. build returns the string the
// provider would have signed for a given URL. It returns the failure reason
// (malformed_signature or bad_signature) and the text.
//
// arrived is the URL the request arrived on when a public base URL was
// checked instead ("" = none): a match there (or on one of its variants)
// says the public base URL is stale.
func diagnose(checkedURL, arrived string, build func(u string) []byte, headers []sigHeader, note string) (reason, text string) {
	var present []sigHeader
	for _, h := range headers {
		if h.value != "" && len(h.macs)+len(h.other) > 0 {
			present = append(present, h)
		}
	}
	if text, malformed := malformedText(present, checkedURL); malformed {
		return ReasonMalformedSignature, text
	}
	var b strings.Builder
	fmt.Fprintf(&b, "no signature matched; checked URL %s", quoteURL(checkedURL))
	for _, h := range present {
		if len(h.macs) > 0 {
			fmt.Fprintf(&b, "; %s with %s", h.name, roles(h.macs))
		}
	}
	if note != "" {
		b.WriteString(" (" + note + ")")
	}
	hints := signatureHints(checkedURL, arrived, build, present)
	if len(hints) == 0 {
		b.WriteString("; no variant matched either (other scheme, with/without the port, with/without a trailing slash, other token): a wrong token, changed parameters or nonce, or a different URL")
	}
	for _, h := range hints {
		b.WriteString("; ")
		b.WriteString(h)
	}
	return ReasonBadSignature, b.String()
}

// allMACs are the header's own token's MACs, then the other token's.
func (h sigHeader) allMACs() []namedMAC {
	return append(append([]namedMAC(nil), h.macs...), h.other...)
}

// malformedText describes the signatures when none of them is even well
// formed (malformed true), so no MAC need be computed.
func malformedText(present []sigHeader, checkedURL string) (text string, malformed bool) {
	for _, h := range present {
		if h.allMACs()[0].m.wellFormed(h.value, h.list) {
			return "", false
		}
	}
	var b strings.Builder
	for i, h := range present {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s is not a base64 signature of %d characters (got %d characters)", h.name, h.allMACs()[0].m.size, len(h.value))
	}
	fmt.Fprintf(&b, "; checked URL %s", quoteURL(checkedURL))
	return b.String(), true
}

// signatureHints tries what commonly went wrong, at most a few hints: the
// other token on the same URL, the URL the request arrived on (a stale
// public base URL), other spellings of the URL with any token.
func signatureHints(checkedURL, arrived string, build func(u string) []byte, present []sigHeader) []string {
	const maxHints = 3
	var hints []string
	// The other token, same URL.
	data := build(checkedURL)
	for _, h := range present {
		for _, o := range h.other {
			if h.matches(o.m, data) {
				hints = append(hints, fmt.Sprintf("%s matches with %s instead of %s: the two tokens may be swapped, or belong to another (sub)account than the one that signed", h.name, o.name, roleOr(h.macs)))
			}
		}
	}
	// The URL the request arrived on: the public base URL may be stale.
	if arrived != "" {
		cands := append([]urlVariant{{url: arrived}}, urlVariants(arrived)...)
	arrival:
		for _, v := range cands {
			data := build(v.url)
			for _, h := range present {
				for _, nm := range h.allMACs() {
					if h.matches(nm.m, data) {
						hints = append(hints, fmt.Sprintf("%s matches the URL the request arrived on, %s (its Host, or a trusted X-Forwarded-Host), with %s: "+
							"the public base URL is stale (a restarted ngrok tunnel gets a new host); set IVR_PUBLIC_URL to %s, or unset it",
							h.name, quoteURL(v.url), nm.name, quoteURL(origin(v.url))))
						break arrival
					}
				}
			}
		}
	}
	// Other URLs, any token.
	for _, v := range urlVariants(checkedURL) {
		if len(hints) >= maxHints {
			break
		}
		data := build(v.url)
		for _, h := range present {
			for _, nm := range h.allMACs() {
				if len(hints) < maxHints && h.matches(nm.m, data) {
					hints = append(hints, fmt.Sprintf("%s would have matched %s (%s) with %s: the provider signed a different URL than the one rebuilt here; check the public base URL and proxy settings", h.name, quoteURL(v.url), v.desc, nm.name))
				}
			}
		}
	}
	return hints
}

// origin is "scheme://host" of u.
func origin(u string) string {
	i := strings.Index(u, "://")
	if i < 0 {
		return u
	}
	if j := strings.IndexAny(u[i+3:], "/?"); j >= 0 {
		return u[:i+3+j]
	}
	return u
}

func roles(ms []namedMAC) string {
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.name
	}
	return strings.Join(names, " and ")
}

func roleOr(ms []namedMAC) string {
	if len(ms) == 0 {
		return "no token"
	}
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.name
	}
	return strings.Join(names, " or ")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) { // never split a UTF-8 character
		n--
	}
	return s[:n] + "..."
}

func quoteURL(u string) string { return fmt.Sprintf("%q", truncate(u, 300)) }
