package ivr

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

const maxKeyLen = 20

type matchKind int

const (
	matchExact matchKind = iota
	matchPattern
	matchRegex
)

// matcher decides whether keys pressed choose an option.
type matcher struct {
	kind matchKind
	s    string // exact keys or pattern (upper case)
	re   *regexp.Regexp
}

// compileKey reads an option key: keys "0-9*#", a pattern where X is any
// digit, Z is 1-9 and N is 2-9 ("9XX"), or a regular expression between
// slashes ("/^4\d{2}$/") that must match all the keys pressed.
func compileKey(key string) (matcher, error) {
	if len(key) >= 2 && key[0] == '/' && key[len(key)-1] == '/' {
		body := key[1 : len(key)-1]
		if body == "" || len(body) > 200 {
			return matcher{}, fmt.Errorf("option %q: a /regex/ must have 1 to 200 characters between the slashes", key)
		}
		re, err := regexp.Compile(`^(?:` + body + `)$`)
		if err != nil {
			return matcher{}, fmt.Errorf("option %q: bad regular expression: %v", key, err)
		}
		if re.MatchString("") {
			return matcher{}, fmt.Errorf("option %q: the regular expression matches no keys at all; it must need at least one key", key)
		}
		return matcher{kind: matchRegex, s: key, re: re}, nil
	}
	if key == "" || len(key) > maxKeyLen {
		return matcher{}, fmt.Errorf("option %q: a key must be 1 to %d characters", key, maxKeyLen)
	}
	up := strings.ToUpper(key)
	kind := matchExact
	for _, r := range up {
		switch {
		case r >= '0' && r <= '9', r == '*', r == '#':
		case r == 'X', r == 'Z', r == 'N':
			kind = matchPattern
		default:
			return matcher{}, fmt.Errorf("option %q: use keys 0-9 * #, a pattern with X (any digit), Z (1-9), N (2-9) like \"9XX\", or a /regex/ (quote keys such as \"*\" and \"#\" in YAML)", key)
		}
	}
	return matcher{kind: kind, s: up}, nil
}

func (m matcher) match(d string) bool {
	switch m.kind {
	case matchExact:
		return d == m.s
	case matchRegex:
		return m.re.MatchString(d)
	}
	if len(d) != len(m.s) {
		return false
	}
	for i := 0; i < len(d); i++ {
		c, p := d[i], m.s[i]
		switch p {
		case 'X':
			if c < '0' || c > '9' {
				return false
			}
		case 'Z':
			if c < '1' || c > '9' {
				return false
			}
		case 'N':
			if c < '2' || c > '9' {
				return false
			}
		default:
			if c != p {
				return false
			}
		}
	}
	return true
}

// length is the number of keys the option needs, 0 when it varies (regex).
func (m matcher) length() int {
	if m.kind == matchRegex {
		return 0
	}
	return len(m.s)
}

// cleanDigits keeps a caller's keys if they are plausible: at most
// maxInputLen of 0-9 * #, with a trailing finish key removed. Anything else
// is reported as not ok (an invalid input).
func cleanDigits(d, finish string) (string, bool) {
	d = strings.TrimSpace(d)
	if finish != "" {
		d = strings.TrimSuffix(d, finish)
	}
	if d == "" || len(d) > maxInputLen {
		return "", false
	}
	for i := 0; i < len(d); i++ {
		c := d[i]
		if (c < '0' || c > '9') && c != '*' && c != '#' {
			return "", false
		}
	}
	return d, true
}

// words splits text into lower-case words of letters and digits.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	})
}

// phraseIn reports whether the words of phrase appear in order, adjacent,
// in ws.
func phraseIn(phrase, ws []string) bool {
	if len(phrase) == 0 || len(phrase) > len(ws) {
		return false
	}
outer:
	for i := 0; i+len(phrase) <= len(ws); i++ {
		for j, p := range phrase {
			if ws[i+j] != p {
				continue outer
			}
		}
		return true
	}
	return false
}

// spokenDigits returns the digits of a transcript made only of numerals
// ("1", "4 2", "42."), or "".
func spokenDigits(ws []string) string {
	var b strings.Builder
	for _, w := range ws {
		if !allDigits(w) {
			return ""
		}
		b.WriteString(w)
	}
	if b.Len() > maxInputLen {
		return ""
	}
	return b.String()
}
