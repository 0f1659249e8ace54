package ivr

import (
	"regexp"
	"slices"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"
)

// Placeholders an SMS reply may use (SMS have no call variables).
var placeholderNames = []string{"from", "to", "call_center"}

var placeholderRE = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)

// Where a template is written: what it may name.
const (
	tmplPrompt = iota // say text: variables and call details
	tmplSMS           // SMS replies: from, to, call_center
	tmplSet           // set values
	tmplURL           // request URL: also secrets (URL-encoded)
	tmplHeader        // request headers: also secrets
	tmplBody          // request body values (JSON-encoded)
)

const secretPrefix = "secret."

// templateNames lists the {{names}} in s, without their filter.
func templateNames(s string) []string {
	if !strings.Contains(s, "{{") {
		return nil
	}
	var out []string
	for _, m := range placeholderRE.FindAllStringSubmatch(s, -1) {
		name, _ := splitFilter(m[1])
		out = append(out, name)
	}
	return out
}

// filterDigits: {{name | digits}} spells the value out character by
// character ("123456" -> "1 2 3 4 5 6"), for account numbers and codes.
const filterDigits = "digits"

// splitFilter splits "name | filter".
func splitFilter(inner string) (name, filter string) {
	name, filter, ok := strings.Cut(inner, "|")
	if !ok {
		return inner, ""
	}
	return strings.TrimSpace(name), strings.TrimSpace(filter)
}

// spelled writes the letters and digits of s one by one, separated by
// spaces.
func spelled(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// template checks the {{names}} of a template written at n and returns the
// secrets it uses. Variable names are checked later, against where they
// are set (checkVars).
func (p *parser) template(n *yaml.Node, s string, where int) []string {
	var secrets []string
	for _, m := range placeholderRE.FindAllStringSubmatch(s, -1) {
		name, filter := splitFilter(m[1])
		if filter != "" && filter != filterDigits || filter != "" && (where == tmplSMS || strings.HasPrefix(name, secretPrefix)) {
			p.errf(n, "{{%s}}: the only filter is | digits (spells a variable out: \"1 2 3\"), not in SMS replies or on secrets", truncate(m[1], 40))
			continue
		}
		if sec, ok := strings.CutPrefix(name, secretPrefix); ok {
			switch {
			case where != tmplURL && where != tmplHeader:
				p.errf(n, "{{%s}}: secrets may only be used in a request's url or headers, never in prompts, messages, set or a body", name)
			case !secretNameRE.MatchString(sec):
				p.errf(n, "{{%s}}: a secret name is capital letters, digits and _ (its value comes from IVR_SECRET_%s)", name, strings.ToUpper(sec))
			default:
				secrets = append(secrets, sec)
			}
			continue
		}
		if where == tmplSMS {
			if !slices.Contains(placeholderNames, name) {
				p.errf(n, "unknown placeholder {{%s}}: an SMS reply can use {{from}}, {{to}} or {{call_center}}%s", name, suggest(name, placeholderNames))
			}
			continue
		}
		if name == "secret" || !varNameRE.MatchString(name) {
			p.errf(n, "{{%s}} is not a name: write {{variable}}, {{from}}, {{to}}, {{call_center}} or, in a request's url or headers, {{secret.NAME}}", truncate(name, 40))
			continue
		}
		if name == ErrorName {
			if p.onError == 0 {
				p.errf(n, "{{error}} is only known in a fetch's on_error, where it says why the fetch failed (%s); to use it later, keep it there: set: {why: \"{{error}}\"}", failureList())
			}
			continue
		}
		if !slices.Contains(readable, name) {
			p.reads = append(p.reads, use{name, n})
		}
	}
	return secrets
}

// expand substitutes placeholders in one pass: substituted values are never
// scanned again, so caller-controlled text cannot inject placeholders.
func expand(s string, value func(name string) string) string {
	i := strings.Index(s, "{{")
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 32) // a spoken phone number fits
	for i >= 0 {
		start, end, inner := nextPlaceholder(s, i)
		if start < 0 {
			break
		}
		b.WriteString(s[:start])
		name, filter := splitFilter(inner)
		if filter == filterDigits {
			b.WriteString(spelled(value(name)))
		} else {
			b.WriteString(value(name))
		}
		s = s[end:]
		i = strings.Index(s, "{{")
	}
	b.WriteString(s)
	return b.String()
}

// nextPlaceholder finds the first placeholder at or after s[from:] (which
// starts with "{{"): what placeholderRE matches, without a regexp on the
// call path. It returns its bounds and its trimmed inner text; start < 0
// when there is none.
func nextPlaceholder(s string, from int) (start, end int, inner string) {
	for i := from; i >= 0 && i+1 < len(s); {
		j := i + 2
		for j < len(s) && s[j] != '{' && s[j] != '}' {
			j++
		}
		if j+1 < len(s) && s[j] == '}' && s[j+1] == '}' {
			return i, j + 2, strings.Trim(s[i+2:j], " \t\n\f\r")
		}
		next := strings.Index(s[i+1:], "{{")
		if next < 0 {
			break
		}
		i += 1 + next
	}
	return -1, -1, ""
}

// spokenNumber turns a phone number into digits separated by spaces so
// text-to-speech reads it digit by digit ("+1555" -> "1 5 5 5"). Anything
// that is not a phone number keeps only letters, digits and spaces (e.g.
// "anonymous"), at most 32 characters; "" becomes "unknown".
func spokenNumber(s string) string {
	t := strings.TrimPrefix(s, "+")
	if t != "" && len(t) <= 20 && allDigits(t) {
		var b strings.Builder
		b.Grow(2*len(t) - 1)
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
