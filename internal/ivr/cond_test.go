package ivr

import (
	"strings"
	"testing"
)

func TestConditions(t *testing.T) {
	vars := []string{"status", "balance", "account", "other"}
	tests := []struct {
		cond                     string
		status, balance, account string
		want                     bool
	}{
		{`status == "active" && balance > 0`, "active", "42.50", "", true},
		{`status == "active" && balance > 0`, "active", "0.00", "", false},
		{`balance > 0`, "", "abc", "", false},         // text vs a number: never greater
		{`balance != 0`, "", "abc", "", true},         // ... only != holds
		{`balance == 0`, "", "", "", false},           // unset is empty text, not 0
		{`balance >= 10`, "", "10.0", "", true},       // numbers as numbers
		{`balance < 9.5`, "", "10", "", false},        // not as text ("10" < "9.5")
		{`balance > -1`, "", "-0.5", "", true},        // signs
		{`balance == 7`, "", "007", "", true},         // leading zeros read as numbers
		{`account == "00123"`, "", "", "00123", true}, // text literal: text
		{`account == "123"`, "", "", "00123", false},
		{`account == 123`, "", "", "00123", true},
		{`balance == 1e3`, "", "1000", "", true},   // a float literal
		{`balance == 1000`, "", "1e3", "", false},  // exponents are text
		{`balance > account`, "", "10", "9", true}, // two numbers
		{`status > account`, "b", "", "a", true},   // two texts
		{`!(status == "x") || provider == "plivo"`, "x", "", "", false},
		{`not (status == "x") or provider == "twilio"`, "x", "", "", true},
		{`from == "+15551234567" and to != ""`, "", "", "", true},
		{`language == "en-US"`, "", "", "", true},
		{`status == "a" || status == "b"`, "b", "", "", true},
		{`true && !false`, "", "", "", true},
	}
	for _, tt := range tests {
		c, err := compileCond(tt.cond, vars, false)
		if err != nil {
			t.Errorf("%s: %v", tt.cond, err)
			continue
		}
		env := map[string]any{
			"status": cmpValue{tt.status}, "balance": cmpValue{tt.balance}, "account": cmpValue{tt.account}, "other": cmpValue{},
			"from": "+15551234567", "to": "+15550000000", "provider": "twilio", "language": "en-US",
		}
		got, err := c.eval(env)
		if err != nil || got != tt.want {
			t.Errorf("%s with status=%q balance=%q account=%q: %v %v, want %v", tt.cond, tt.status, tt.balance, tt.account, got, err, tt.want)
		}
	}
}

func TestConditionErrors(t *testing.T) {
	vars := []string{"status"}
	for _, tt := range []struct {
		cond string
		off  int
	}{
		{``, 0},
		{`status ==`, 8},
		{`stauts == "x"`, 0},
		{`status == "x" && len(status) > 1`, 17},
		{`status matches "x"`, 7},
		{`status + 1 > 2`, 7},
		{`status`, 0},
		{`status.x == 1`, 7},
		{`[1] == 1`, 0},
		{`status == "a" ? true : false`, 27},
	} {
		_, err := compileCond(tt.cond, vars, false)
		ce, ok := err.(*condError)
		if !ok {
			t.Errorf("%q: error %v, want a condError", tt.cond, err)
			continue
		}
		if ce.off != tt.off {
			t.Errorf("%q: at %d, want %d (%s)", tt.cond, ce.off, tt.off, ce.msg)
		}
	}
}

// Syntax errors say what to write instead, not only the parser's token.
func TestConditionSyntaxHints(t *testing.T) {
	vars := []string{"status", "balance"}
	for _, tt := range []struct{ cond, want string }{
		{`status = "active"`, `write == (or !=, <=, >=)`},
		{`status === "active"`, `write ==`},
		{`balance =< 0`, `write ==`},
		{`balance >`, `ends too early`},
		{`(status == "a"`, `a ( is not closed`},
		{`status == "active`, `end it with the same quote`},
		{`balance > 0 & status == "x"`, `write && (and)`},
		{`status == "a" status == "b"`, `joined by && or ||`},
		{`status equals "a"`, `unexpected name "equals": write comparisons joined by && or ||, e.g. status == "active" && balance > 0`},
	} {
		_, err := compileCond(tt.cond, vars, false)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want a message with %q", tt.cond, err, tt.want)
		}
	}
}
