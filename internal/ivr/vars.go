package ivr

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Limits on variables. They keep the sealed state in the action URLs small:
// a token is base64url of 29 bytes (version, nonce, tag) plus, per set
// variable, 2 + len(name) + len(value): a dozen variables at the caps seal
// to 967 characters, a dozen typical ones (10-character values) to about
// 375 (TestSealedStateSize).
const (
	MaxVariables   = 16 // variables a flow may name (set:, save:, collect into:)
	MaxVarNameLen  = 24 // characters in a variable name
	MaxVarValueLen = 32 // bytes kept of a value; longer values are cut (on a character boundary)
	maxTokenLen    = 2048
	varsVersion    = 1
)

// qVars is the query key of the sealed variables.
const qVars = "v"

var varNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ErrorName is the variable a fetch's on_error reads: why the fetch failed
// (a Failure).
const ErrorName = "error"

// reservedNames cannot be variables: the call's details, the call center
// number, secrets, the local demo API, a failed fetch's error and the clock
// names conditions read.
var reservedNames = []string{"from", "to", "provider", "language", "call_center", "secret", "demo_api", ErrorName, "open", "now_hour", "now_weekday"}

// variable is one name and its value.
type variable struct{ name, value string }

// vars are a call's variables, sorted by name, at most MaxVariables.
type vars []variable

func (vs vars) get(name string) (string, bool) {
	for _, v := range vs {
		if v.name == name {
			return v.value, true
		}
	}
	return "", false
}

// set returns vs with name = value (value cut to MaxVarValueLen).
func (vs vars) set(name, value string) vars {
	value = cutValue(value)
	i, found := slices.BinarySearchFunc(vs, name, func(v variable, n string) int { return strings.Compare(v.name, n) })
	if found {
		vs[i].value = value
		return vs
	}
	return slices.Insert(vs, i, variable{name, value})
}

// cutValue keeps at most MaxVarValueLen bytes of printable text.
func cutValue(s string) string {
	clean := true
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			clean = false
			break
		}
	}
	if !clean {
		s = strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f || r == utf8.RuneError {
				return -1
			}
			return r
		}, s)
	}
	if len(s) <= MaxVarValueLen {
		return s
	}
	i := MaxVarValueLen
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// encode writes the variables compactly: a version byte, then per variable
// its name length (1 byte), name, value length (1 byte) and value.
func (vs vars) encode() []byte {
	n := 1
	for _, v := range vs {
		n += 2 + len(v.name) + len(v.value)
	}
	b := make([]byte, 0, n)
	b = append(b, varsVersion)
	for _, v := range vs {
		b = append(b, byte(len(v.name)))
		b = append(b, v.name...)
		b = append(b, byte(len(v.value)))
		b = append(b, v.value...)
	}
	return b
}

var errVars = errors.New("the call's variables are unreadable")

// decodeVars reads what encode wrote, strictly.
func decodeVars(b []byte) (vars, error) {
	if len(b) == 0 || b[0] != varsVersion {
		return nil, errVars
	}
	b = b[1:]
	var out vars
	for len(b) > 0 {
		if len(out) >= MaxVariables {
			return nil, errVars
		}
		nl := int(b[0])
		if nl == 0 || nl > MaxVarNameLen || len(b) < 1+nl {
			return nil, errVars
		}
		name := string(b[1 : 1+nl])
		b = b[1+nl:]
		if len(b) == 0 {
			return nil, errVars
		}
		vl := int(b[0])
		if vl > MaxVarValueLen || len(b)-1 < vl {
			return nil, errVars
		}
		value := string(b[1 : 1+vl])
		b = b[1+vl:]
		if !varNameRE.MatchString(name) || !utf8.ValidString(value) || (len(out) > 0 && out[len(out)-1].name >= name) {
			return nil, errVars
		}
		out = append(out, variable{name, value})
	}
	return out, nil
}

// errNoSealer: the flow keeps variables but the caller gave no Sealer; the
// server always passes one (the fallback answers otherwise).
var errNoSealer = errors.New("sealed variables: no Sealer given (set Request.Sealer)")

func sealerOf(given Sealer) (Sealer, error) {
	if given == nil {
		return nil, errNoSealer
	}
	return given, nil
}

// openVars reads the sealed variables of an action URL ("" = none).
func openVars(s Sealer, token string, ad []byte) (vars, error) {
	if token == "" {
		return nil, nil
	}
	if len(token) > maxTokenLen {
		return nil, fmt.Errorf("sealed variables: %d characters, more than %d", len(token), maxTokenLen)
	}
	plain, err := s.OpenFor(token, ad)
	if err != nil {
		return nil, fmt.Errorf("sealed variables: %w", err)
	}
	vs, err := decodeVars(plain)
	if err != nil {
		return nil, fmt.Errorf("sealed variables: %w", err)
	}
	return vs, nil
}

func isReserved(name string) bool { return slices.Contains(reservedNames, name) }
