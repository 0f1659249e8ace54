package flowgraph

import (
	"strings"
	"testing"

	"github.com/ivr-project/ivr/internal/ivr"
)

const logicFlow = `
name: Logic
entry: main
call_center: "+15551230000"
numbers:
  "+15550000002": {entry: accounts, language: en-US}
requests:
  account:
    url: "https://api.example.com/accounts/{{account}}"
    save: {status: account.status}
menus:
  main:
    greeting: "Hello."
    options:
      "1": {goto: accounts}
  accounts:
    greeting: "Enter your account number."
    collect:
      into: account
      min_digits: 6
      max_digits: 10
      do:
        - fetch: account
          on_error: {goto: sorry}
        - switch:
            - if: 'status == "active"'
              do: {goto: active}
            - else: {say: "Unknown."}
  active:
    greeting: "Active."
    options:
      "1": hangup
  sorry:
    greeting: "Sorry."
    options:
      "1": hangup
`

// TestLayoutLogic: per-number entries start at their menu, a collecting
// menu says what it collects, a lookup's on_error and each switch branch
// get a row, and rows that lead to a menu get an arrow of their kind.
func TestLayoutLogic(t *testing.T) {
	g := Layout(parse(t, logicFlow))
	var rows []string
	for _, id := range []string{"start", "m:accounts"} {
		for _, r := range nodeByID(g, id).Rows {
			rows = append(rows, r.Class+"|"+r.Key+"|"+r.Text)
		}
	}
	got := strings.Join(rows, "\n")
	for _, want := range []string{
		"flow|+15550000002|→ accounts (en-US)",
		"collect|collect|account, 6–10 digits",
		"option|entered|fetch account · switch ↻",
		"lookup||account fails: → sorry",
		`branch||if status == "active": → active`,
		"branch||else: say ↓",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no row %q in:\n%s", want, got)
		}
	}
	classes := map[string]int{}
	for _, e := range g.Edges {
		classes[e.Class]++
	}
	if classes["lookup"] != 1 || classes["branch"] != 1 || classes["flow"] < 2 {
		t.Errorf("edges by class: %v", classes)
	}
}

// TestLayoutInput: the repeat key, a read-back and min_confidence get rows,
// and a switch on error in on_error shows each failure's branch.
func TestLayoutInput(t *testing.T) {
	src := strings.Replace(logicFlow, "menus:", "repeat_key: \"*\"\nmenus:", 1)
	src = strings.Replace(src, "      do:\n        - fetch: account\n          on_error: {goto: sorry}",
		`      confirm: "You entered {{account | digits}}. Press 1 if that is right, 2 to try again."
      do:
        - fetch: account
          on_error:
            - switch:
                - if: 'error == "not_found"'
                  do: {goto: sorry}
                - else: hangup`, 1)
	src = strings.Replace(src, `greeting: "Active."`, "greeting: \"Active.\"\n    speech: {min_confidence: 0.4}", 1)
	g := Layout(parse(t, src))
	var rows []string
	for _, id := range []string{"m:accounts", "m:active"} {
		for _, r := range nodeByID(g, id).Rows {
			rows = append(rows, r.Class+"|"+r.Key+"|"+r.Text)
		}
	}
	got := strings.Join(rows, "\n")
	for _, want := range []string{
		"collect|read back|1 accepts · 2 asks again",
		"option|*|repeat the prompt ↻",
		`branch||if error == "not_found": → sorry`,
		"exhaust|speech < 0.4|invalid, then keypad only ↻",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no row %q in:\n%s", want, got)
		}
	}
}

func TestLayoutSplit(t *testing.T) {
	g := Layout(parse(t, `
menus:
  main:
    greeting: "Hi."
    options:
      "1":
        split:
          - {label: short, weight: 30, do: {goto: billing}}
          - {label: long, weight: 70, do: [{say: "More."}]}
  billing:
    greeting: "Billing."
    options: {"1": hangup}
`))
	var rows []string
	for _, r := range nodeByID(g, "m:main").Rows {
		rows = append(rows, r.Class+"|"+r.Key+"|"+r.Text)
	}
	got := strings.Join(rows, "\n")
	for _, want := range []string{"option|1|split ↻", "branch||short (30): → billing", "branch||long (70): say ↓"} {
		if !strings.Contains(got, want) {
			t.Errorf("no row %q in:\n%s", want, got)
		}
	}
}

// TestCountsOnlyOnTheChoiceRow: the figure of an option or a collect (how
// often it was chosen) goes on its own row only; the rows of its fetch's
// on_error and its switch branches used to show the same total each.
func TestCountsOnlyOnTheChoiceRow(t *testing.T) {
	f, err := ivr.Parse("t.yaml", []byte(`entry: main
call_center: "+15550001111"
requests:
  account: {url: "https://api.example.com/{{account}}", save: {status: status}}
menus:
  main:
    greeting: "Enter your account."
    collect:
      into: account
      min_digits: 4
      max_digits: 6
      do:
        - fetch: account
          on_error: [{say: "Sorry."}, {transfer: call_center}]
        - switch:
            - if: 'status == "active"'
              do: [{say: "Active."}, hangup]
            - if: 'status == "closed"'
              do: [{say: "Closed."}, hangup]
            - else: [{say: "Other."}, hangup]
`))
	if err != nil {
		t.Fatal(err)
	}
	choice := 0
	for _, n := range Layout(f).Nodes {
		for _, r := range n.Rows {
			if r.Option != "" {
				choice++
			}
		}
	}
	if choice != 1 {
		t.Errorf("%d rows carry the collect's count, want 1 (its own row)", choice)
	}
}
