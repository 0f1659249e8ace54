package admin

import (
	"encoding/csv"
	"io"
	"regexp"
	"strings"
)

// safeCSV writes CSV exports with every cell a spreadsheet would run as a
// formula neutralised (OWASP, "CSV Injection"): a cell that starts with
// =, +, -, @, a tab or a carriage return gets a leading single quote. A
// caller's number, a call id or a status comes from outside: a From of
// =HYPERLINK(...) must open as text. A cell that is only a number (an
// E.164 number such as +15550001111, a count) is left as it is: no formula
// can be made of it.
type safeCSV struct{ *csv.Writer }

func newCSV(w io.Writer) *safeCSV { return &safeCSV{csv.NewWriter(w)} }

// Write writes one row, each cell neutralised.
func (c *safeCSV) Write(row []string) error {
	out := make([]string, len(row))
	for i, cell := range row {
		out[i] = neutralise(cell)
	}
	return c.Writer.Write(out)
}

var plainNumber = regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]+)?$`)

// neutralise prefixes a quote to a cell a spreadsheet would run as a formula.
func neutralise(cell string) string {
	if cell == "" || !strings.ContainsRune("=+-@\t\r", rune(cell[0])) || plainNumber.MatchString(cell) {
		return cell
	}
	return "'" + cell
}
