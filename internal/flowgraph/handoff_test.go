package flowgraph

import (
	"strings"
	"testing"
)

// The flow map draws what a transfer hands over and the callback.
func TestLayoutHandoff(t *testing.T) {
	f := parse(t, `
entry: main
menus:
  main:
    greeting: "Hi."
    options:
      "0":
        transfer:
          to: ["+15550001111", "sip:sales@pbx.example.com"]
          ring: sequential
          whisper: "Sales call"
          accept_key: "1"
          context: {intent: sales}
          no_answer: [{callback: {confirm: true}}]
      "9": callback
`)
	n := nodeByID(Layout(f), "m:main")
	if n == nil {
		t.Fatal("no main box")
	}
	var texts []string
	for _, r := range n.Rows {
		texts = append(texts, r.Full+"|"+r.Text)
	}
	all := strings.Join(texts, "\n")
	for _, want := range []string{"+15550001111 → sip:sales@pbx.example.com", "whisper (accept 1)", "context intent", "no answer: ☏ callback from (confirmed)", "☏ callback from"} {
		if !strings.Contains(all, want) {
			t.Errorf("the map does not show %q:\n%s", want, all)
		}
	}
}
