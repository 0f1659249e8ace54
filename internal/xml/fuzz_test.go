package xml

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ivr-project/ivr/internal/ivr"
)

// fuzzSteps puts arbitrary strings everywhere a step carries text, a URL part,
// a voice, a language or a number. Where the renderer validates a field
// (non-blank text, finish keys, dialable numbers) the raw string is adjusted
// so that most inputs render and their escaping is exercised; the raw values
// go through validation in fuzzRender's second render.
func fuzzSteps(text, query, voice, number, keys string) []ivr.Step {
	say := text
	if strings.TrimSpace(say) == "" {
		say = "x" + say
	}
	dialable := number
	if checkNumber("n", dialable) != nil {
		dialable = "+15550100000"
	}
	var recordKeys, gatherKey string
	for _, c := range keys {
		if strings.ContainsRune(dtmfKeys, c) {
			recordKeys += string(c)
		}
	}
	if recordKeys != "" {
		gatherKey = recordKeys[:1]
	}
	action := ivr.Target{Path: text, Query: query}
	return []ivr.Step{
		ivr.Say{Text: say, Voice: voice, Language: voice, Loop: len(keys)},
		ivr.Play{URL: "https://cdn.test/" + query},
		ivr.Pause{Seconds: len(keys)},
		ivr.Gather{
			Action:            ivr.Target{Path: "menu/" + text, Query: query},
			Prompts:           []ivr.Step{ivr.Say{Text: say, Voice: voice}, ivr.Play{URL: "u" + text}},
			NumDigits:         len(keys),
			TimeoutSeconds:    len(text),
			InterDigitSeconds: len(query),
			FinishOnKey:       gatherKey,
			DTMF:              true,
			Speech:            len(text)%2 == 0,
			SpeechHints:       []string{text, voice},
			Language:          voice,
		},
		ivr.Redirect{Target: action},
		ivr.Dial{Numbers: []string{dialable}, CallerID: number, TimeoutSeconds: len(number), Action: &action},
		ivr.Record{Action: action, FinishOnKey: recordKeys, PlayBeep: true},
		ivr.Hangup{},
	}
}

// fuzzRender asserts that whatever the strings are, the renderer writes one
// well-formed document in which valid text reads back unchanged, and that
// with the raw values it either refuses them or again writes well-formed XML.
func fuzzRender(t *testing.T, render func(string, []ivr.Step) ([]byte, error), say, base, text, query, voice, number, keys string) {
	steps := fuzzSteps(text, query, voice, number, keys)
	doc, err := render(base, steps)
	if err != nil {
		t.Fatalf("adjusted steps refused: %v", err)
	}
	root := parse(t, doc)
	want := steps[0].(ivr.Say).Text
	if validXMLText(want) {
		if got := find(root, "Response/"+say)[0].Text; got != want {
			t.Fatalf("text round trip: got %q, want %q", got, want)
		}
	}

	raw := []ivr.Step{
		ivr.Say{Text: text, Voice: voice},
		ivr.Gather{Action: ivr.Target{Path: text}, FinishOnKey: keys, DTMF: true},
		ivr.Dial{Numbers: []string{number}},
		ivr.Record{Action: ivr.Target{Query: query}, FinishOnKey: keys},
	}
	if doc, err := render(base, raw); err != nil {
		if doc != nil {
			t.Fatalf("error %v with a document", err)
		}
	} else {
		parse(t, doc)
	}

	msg := ivr.Message{Text: text, To: number, From: voice}
	if doc, err = render(base, []ivr.Step{msg}); err == nil {
		m := find(parse(t, doc), "Response/Message")
		if len(m) != 1 {
			t.Fatalf("want one Message:\n%s", doc)
		}
		if validXMLText(text) && m[0].Text != text {
			t.Fatalf("message round trip: got %q, want %q", m[0].Text, text)
		}
	}
}

func validXMLText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' {
			return false
		}
		if r >= 0x80 && !isXMLChar(r) {
			return false
		}
	}
	return true
}

func FuzzTwilio(f *testing.F) {
	f.Add("Welcome to <Example> & Co.", "attempt=1&lang=es", "Polly.Joanna", "+15551230001", "#")
	f.Fuzz(func(t *testing.T, text, query, voice, number, keys string) {
		fuzzRender(t, Twilio, "Say", testBase, text, query, voice, number, keys)
	})
}

func FuzzPlivo(f *testing.F) {
	f.Add("Welcome to <Example> & Co.", "attempt=1&lang=es", "WOMAN", "+15551230001", "#")
	f.Fuzz(func(t *testing.T, text, query, voice, number, keys string) {
		fuzzRender(t, Plivo, "Speak", testBasePlivo, text, query, voice, number, keys)
	})
}
