package flowgraph

import (
	"fmt"
	"strings"

	"github.com/ivr-project/ivr/internal/ivr"
)

// numberRows are the start box's per-number entries: the number called and
// the menu it starts at.
func numberRows(f *ivr.Flow) []rowSpec {
	var rows []rowSpec
	for _, n := range f.Numbers {
		text := "→ " + n.Entry
		if n.Language != "" {
			text += " (" + n.Language + ")"
		}
		rows = append(rows, rowSpec{Key: n.Number, Text: text, Class: "flow", Target: "m:" + n.Entry})
	}
	return rows
}

// collectRows are a collecting menu's rows: what it collects, then its
// actions once a valid value is in.
func collectRows(f *ivr.Flow, m *ivr.Menu) []rowSpec {
	c := m.Collect
	if c == nil {
		return nil
	}
	digits := fmt.Sprintf("%d–%d digits", c.MinDigits, c.MaxDigits)
	if c.MinDigits == c.MaxDigits {
		digits = fmt.Sprintf("%d digits", c.MinDigits)
	}
	rows := []rowSpec{{Key: "collect", Text: c.Into + ", " + digits, Class: "collect"}}
	if len(c.Confirm) > 0 {
		rows = append(rows, rowSpec{Key: "read back", Text: "1 accepts · 2 asks again", Class: "collect", Menu: m.ID, Option: ConfirmOption})
	}
	for i, r := range actionRows(f, m.ID, "entered", "option", c.Actions) {
		// Only the collect's own row shows how often a value came in; its
		// fetch's on_error and switch branches show their own counts (Tally).
		if i == 0 {
			r.Menu, r.Option = m.ID, CollectOption
		}
		rows = append(rows, r)
	}
	return rows
}

// CollectOption is the option key a collect menu's valid entries are
// counted under (the store's insights use the same key), so the flow map
// shows how often a value was collected.
const CollectOption = "collect"

// The Option of the rows of a menu's input controls, which the caller
// counts apart from its options: a collect's read-back (confirmed and
// rejected) and the repeat key. Neither can be an option's key.
const (
	ConfirmOption = "(read back)"
	RepeatOption  = "(repeat key)"
)

// branchRows are a switch's rows: each condition (else last) and what its
// branch does, or a split's: each variant's label (weight) and what it
// does; a branch that ends neither the call nor the menu goes on with the
// actions after the switch or split (↓).
func branchRows(f *ivr.Flow, menu string, branches []ivr.Branch) []rowSpec {
	var rows []rowSpec
	for _, b := range branches {
		label := "if " + b.If + ": "
		switch {
		case b.Label != "":
			label = fmt.Sprintf("%s (%d): ", b.Label, b.Weight)
		case b.If == "":
			label = "else: "
		}
		br := labelled(actionRows(f, menu, "", "branch", b.Actions), label)
		if menu != "" && b.Label == "" { // a switch branch: how often it was taken in this menu
			br[0].Menu, br[0].Tally = menu, Tally{Kind: TallyBranch, Name: b.Shown()}
			if b.If == "" {
				br[0].Tally = Tally{Kind: TallyElse}
			}
		}
		rows = append(rows, br...)
	}
	return rows
}

// labelled prefixes the first row's text with what it is for; a row that
// would return to the menu goes on with the next action instead (↓).
func labelled(rows []rowSpec, prefix string) []rowSpec {
	if len(rows) == 0 {
		return []rowSpec{{Text: prefix + "↓", Class: "branch"}}
	}
	if t, ok := strings.CutSuffix(rows[0].Text, " ↻"); ok && rows[0].Target == "" {
		rows[0].Text = t + " ↓"
	} else if rows[0].Text == "" {
		rows[0].Text = "↓"
	}
	rows[0].Text = prefix + rows[0].Text
	return rows
}

// inputRows are a menu's input controls: its repeat key, and what a spoken
// answer below its min_confidence does.
func inputRows(m *ivr.Menu) []rowSpec {
	var rows []rowSpec
	if m.RepeatKey != "" {
		rows = append(rows, rowSpec{Key: m.RepeatKey, Text: "repeat the prompt ↻", Class: "option", Menu: m.ID, Option: RepeatOption})
	}
	if s := m.Speech; s != nil && s.MinConfidence > 0 {
		rows = append(rows, rowSpec{Key: fmt.Sprintf("speech < %g", s.MinConfidence), Text: "invalid, then keypad only ↻", Class: "exhaust"})
	}
	return rows
}
