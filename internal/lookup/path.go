package lookup

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// A path names one value in a JSON answer: object keys and array indexes
// separated by dots, e.g. "account.status" or "items.0.id". A segment of
// digits indexes an array (or is a key of an object that has it). This is
// all a flow needs, so the walker is a few lines over encoding/json's
// decoded value rather than a query library whose own syntax (wildcards,
// filters, modifiers) would be a second language for `ivr check` to know.

var (
	errBadJSON = errors.New("the answer is not one JSON value")
	errMissing = errors.New("missing")
)

// decode reads one JSON value, keeping numbers as their JSON text.
func decode(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %v", errBadJSON, jsonErr(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the first value", errBadJSON)
	}
	return v, nil
}

// jsonErr keeps the decoder's position but none of the answer's text.
func jsonErr(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return "syntax error at byte " + strconv.FormatInt(se.Offset, 10)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end"
	}
	return "unreadable"
}

// walk returns the value at path: strings as they are, numbers as their
// JSON text, booleans as "true"/"false". A path that is absent, ends on
// null, an object or an array is errMissing.
func walk(v any, path string) (string, error) {
	for seg := range strings.SplitSeq(path, ".") {
		switch t := v.(type) {
		case map[string]any:
			next, ok := t[seg]
			if !ok {
				return "", errMissing
			}
			v = next
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(t) || seg != strconv.Itoa(i) {
				return "", errMissing
			}
			v = t[i]
		default:
			return "", errMissing
		}
	}
	switch t := v.(type) {
	case string:
		return t, nil
	case json.Number:
		return t.String(), nil
	case bool:
		return strconv.FormatBool(t), nil
	}
	return "", errMissing
}
