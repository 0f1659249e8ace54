package flowgraph

import (
	"strings"
	"testing"

	"github.com/ivr-project/ivr/internal/ivr"
)

// TestRowTallies: inside a menu, a fetch's on_error row counts the
// request's failures there and each switch branch's first row counts the
// branch (by its condition as calls record it; an else as else); a split's
// variants and the rows outside menus count nothing.
func TestRowTallies(t *testing.T) {
	long := strings.Repeat("x", 70)
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
            - if: 'status == "`+long+`"'
              do: [{say: "Long."}, hangup]
            - else: {say: "Other."}
        - split:
            - {label: a, weight: 50, do: [hangup]}
            - {label: b, weight: 50, do: [hangup]}
`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range Layout(f).Nodes {
		for _, r := range n.Rows {
			if r.Tally.Kind != "" {
				got = append(got, r.Menu+" "+string(r.Tally.Kind)+" "+r.Tally.Name)
			}
		}
	}
	shown := `status == "` + long
	shown = shown[:60] // cut as the switch event records it
	want := []string{"main on_error account", `main branch status == "active"`, "main branch " + shown, "main else "}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("tallies\n got %q\nwant %q", got, want)
	}
}
