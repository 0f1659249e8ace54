package ivr

// The call's variables sealed into its URLs (v=): round trips, size, the
// encoding, and the binding to the call they were sealed for. The flow and
// the caller helper are in engine_logic_test.go.

import (
	"bytes"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ivr-project/ivr/internal/seal"
)

func TestSealedVariables(t *testing.T) {
	c := newCaller(t, logicFlow, account("active", "0.00"))
	c.step("menu/accounts", Input{Digits: "87654321"})
	next := c.next()
	for _, clear := range []string{"87654321", "active", "0.00", "yes"} {
		if strings.Contains(next, clear) {
			t.Errorf("%q in clear in %s", clear, next)
		}
	}
	if !strings.Contains(next, "&v=") {
		t.Fatalf("no sealed variables in %s", next)
	}
	// The next step reads them back: the short greeting speaks the account.
	res := c.step(next, Input{})
	if got := says(res); !slices.Contains(got, "Account 87654321. Another?") {
		t.Errorf("says %q", got)
	}
	// Through a transfer and its dial-done: the no_answer prompt reads a variable.
	c.fn = account("suspended", "1")
	c.step(next, Input{Digits: "12345678"})
	dial := c.next()
	req := c.request(dial, Input{})
	req.DialStatus = "busy"
	res, err := c.try(req)
	if err != nil || !slices.Contains(says(res), "Busy, yes suspended.") {
		t.Errorf("dial-done: %v %q", err, says(res))
	}

	// Tampered, cut, garbage or another key: an error (the server falls back).
	token := next[strings.Index(next, "v=")+2:]
	other, _ := seal.NewRandom()
	flip := []byte(token)
	flip[len(flip)/2] ^= 'A' ^ 'B'
	if flip[len(flip)/2] == token[len(token)/2] {
		flip[len(flip)/2] = 'C'
	}
	for name, v := range map[string]string{
		"flipped": string(flip), "cut": token[:len(token)-2], "garbage": "!!!", "empty-ish": "A",
		"other key": other.SealFor(vars{{"account", "1"}}.encode(), callBinding(c.call)),
	} {
		req := c.request("menu/accounts?attempt=2&v="+url.QueryEscape(v), Input{})
		if _, err := c.f.Step(req); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// No Sealer: the engine has no key of its own and says so (the server
	// answers with the fallback).
	req = c.request("menu/accounts", Input{Digits: "87654321"})
	req.Sealer = nil
	req.Lookups = []LookupResult{account("active", "0")(Lookup{Request: "account"})}
	if _, err := c.f.Step(req); err == nil || !strings.Contains(err.Error(), "no Sealer") {
		t.Errorf("no sealer, sealing: err = %v, want the missing Sealer named", err)
	}
	req = c.request("menu/accounts?attempt=2&v="+url.QueryEscape(token), Input{})
	req.Sealer = nil
	if _, err := c.f.Step(req); err == nil || !strings.Contains(err.Error(), "no Sealer") {
		t.Errorf("no sealer, opening: err = %v, want the missing Sealer named", err)
	}
}

func TestSealedStateSize(t *testing.T) {
	box, _ := seal.New(bytes.Repeat([]byte{1}, 32))
	var typical, capped vars
	for i := range 12 {
		name := "var" + string(rune('a'+i)) + "_name"
		typical = typical.set(name, "1234567890")
		capped = capped.set(strings.Repeat(string(rune('a'+i)), MaxVarNameLen), strings.Repeat("x", 100))
	}
	t1, t2 := box.Seal(typical.encode()), box.Seal(capped.encode())
	t.Logf("sealed state: a dozen typical variables %d characters, a dozen at the caps %d", len(t1), len(t2))
	if len(t1) > 512 || len(t2) >= 1024 {
		t.Errorf("sealed state too big: %d, %d", len(t1), len(t2))
	}
	for _, tok := range []string{t1, t2} {
		plain, err := box.Open(tok)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := decodeVars(plain); err != nil {
			t.Fatal(err)
		}
	}
}

func TestVarsEncoding(t *testing.T) {
	var vs vars
	vs = vs.set("b", "2").set("a", "1").set("c", strings.Repeat("é", 40)).set("a", "x\ny")
	if got := vs; len(got) != 3 || got[0] != (variable{"a", "xy"}) || len(got[2].value) > MaxVarValueLen {
		t.Errorf("vars %q", got)
	}
	back, err := decodeVars(vs.encode())
	if err != nil || !reflect.DeepEqual(back, vs) {
		t.Errorf("round trip %q %v", back, err)
	}
	for _, bad := range [][]byte{nil, {2}, {1, 0}, {1, 1, 'a'}, {1, 1, 'a', 5, 'x'}, {1, 1, 'b', 0, 1, 'a', 0}, {1, 1, '1', 0}} {
		if _, err := decodeVars(bad); err == nil {
			t.Errorf("decodeVars(%v) accepted", bad)
		}
	}
}

// Sealed variables open only in the call they were sealed for: a v= copied
// from one call's action URL into another call's request (another CallSid,
// or the same id at the other provider) fails the step, so a recorded URL
// cannot carry one caller's account into someone else's call.
func TestSealedVariablesBoundToCall(t *testing.T) {
	c := newCaller(t, logicFlow, account("active", "0.00"))
	c.step("menu/accounts", Input{Digits: "87654321"})
	next := c.next()
	if _, err := c.try(c.request(next, Input{})); err != nil {
		t.Fatalf("the same call: %v", err)
	}
	for _, other := range []Call{
		{Provider: "twilio", ID: "CA2", From: c.call.From, To: c.call.To, Now: openTime},
		{Provider: "plivo", ID: "CA1", From: c.call.From, To: c.call.To, Now: openTime},
	} {
		req := c.request(next, Input{})
		req.Call = other
		if res, err := c.f.Step(req); err == nil {
			t.Errorf("replayed into %s %s: accepted, says %q", other.Provider, other.ID, says(res))
		}
	}
}
