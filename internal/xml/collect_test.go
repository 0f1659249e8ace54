package xml

import (
	"testing"

	"github.com/ivr-project/ivr/internal/ivr"
)

// fixedSealer seals to a fixed token, so goldens of sealed state are stable.
type fixedSealer struct{}

func (fixedSealer) SealFor(_, _ []byte) string             { return "SEALED-state_token" }
func (fixedSealer) OpenFor(string, []byte) ([]byte, error) { return []byte{1}, nil }

const collectFlow = `
menus:
  main:
    greeting: "Enter your account number, then press pound."
    timeout: 7
    inter_digit_timeout: 4
    collect:
      into: account
      min_digits: 6
      max_digits: 10
      do: [{say: "Account {{account}}."}, {goto: spoken}]
  spoken:
    greeting: "Say or enter your PIN."
    speech: true
    collect: {into: pin, max_digits: 4, finish_key: "", do: [{say: "Thanks."}, hangup]}
`

// collectSteps are the engine's steps for a collect menu: entered fresh
// (keys only, or keys and speech), and the next menu after a value came in
// (the sealed variables in its action URL).
func collectSteps(t *testing.T) map[string][]ivr.Step {
	t.Helper()
	f, err := ivr.Parse("collect.yaml", []byte(collectFlow))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]ivr.Step{}
	for name, req := range map[string]ivr.Request{
		"collect":        {Path: "menu/main"},
		"collect_speech": {Path: "menu/spoken"},
		"collect_sealed": {Path: "menu/main", Input: ivr.Input{Digits: "12345678#"}},
	} {
		req.Call = ivr.Call{Provider: "twilio", From: "+15551234567", To: "+15550000000"}
		req.Sealer = fixedSealer{}
		res, err := f.Step(req)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = res.Steps
	}
	return out
}

func TestCollectGolden(t *testing.T) {
	steps := collectSteps(t)
	for _, p := range []struct {
		provider string
		base     string
	}{{ProviderTwilio, testBase}, {ProviderPlivo, testBasePlivo}} {
		for _, name := range []string{"collect", "collect_speech", "collect_sealed"} {
			t.Run(p.provider+"/"+name, func(t *testing.T) {
				got, err := Render(p.provider, p.base, steps[name])
				if err != nil {
					t.Fatal(err)
				}
				parse(t, got)
				checkGolden(t, p.provider+"_"+name, got)
			})
		}
	}
}
