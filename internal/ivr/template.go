package ivr

import (
	"regexp"
	"strings"
	"unicode"
)

// Placeholders a prompt or SMS reply may use.
var placeholderNames = []string{"from", "to", "call_center"}

var placeholderRE = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)

// unknownPlaceholders lists the {{names}} in s that are not placeholders.
func unknownPlaceholders(s string) []string {
	if !strings.Contains(s, "{{") {
		return nil
	}
	var out []string
	for _, m := range placeholderRE.FindAllStringSubmatch(s, -1) {
		ok := false
		for _, n := range placeholderNames {
			if m[1] == n {
				ok = true
			}
		}
		if !ok {
			out = append(out, m[1])
		}
	}
	return out
}

// expand substitutes placeholders in one pass: substituted values are never
// scanned again, so caller-controlled text cannot inject placeholders.
func expand(s string, value func(name string) string) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	return placeholderRE.ReplaceAllStringFunc(s, func(m string) string {
		name := placeholderRE.FindStringSubmatch(m)[1]
		return value(name)
	})
}

// spokenNumber turns a phone number into digits separated by spaces so
// text-to-speech reads it digit by digit ("+1555" -> "1 5 5 5"). Anything
// that is not a phone number keeps only letters, digits and spaces (e.g.
// "anonymous"), at most 32 characters; "" becomes "unknown".
func spokenNumber(s string) string {
	t := strings.TrimPrefix(s, "+")
	if t != "" && len(t) <= 20 && allDigits(t) {
		var b strings.Builder
		for i := 0; i < len(t); i++ {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteByte(t[i])
		}
		return b.String()
	}
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= 32 {
			break
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == ' ' {
			b.WriteRune(r)
		}
	}
	if strings.TrimSpace(b.String()) == "" {
		return "unknown"
	}
	return b.String()
}

// writtenNumber is a number for an SMS: as is, without control characters
// or braces, at most 32 characters.
func writtenNumber(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= 32 {
			break
		}
		if unicode.IsPrint(r) && r != '{' && r != '}' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
