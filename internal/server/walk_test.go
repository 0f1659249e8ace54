package server

import (
	"flag"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of the example-flow walk")

// kindOf names a TwiML or Plivo XML element in provider-neutral words.
var kindOf = map[string]string{
	"Say": "say", "Speak": "say", "Play": "play", "Pause": "pause", "Wait": "pause",
	"Gather": "gather", "GetDigits": "gather", "GetInput": "gather",
	"Dial": "dial", "Record": "record", "Redirect": "redirect", "Hangup": "hangup",
}

// TestExampleFlowWalk plays the bundled example flow key by key on both
// providers through the real router, following the URLs each answer gives
// (gather actions, redirects, dial and record actions) exactly as a provider
// would. Each path's last answer must have the expected shape (parsed XML)
// and match its golden file (testdata/walk; -update rewrites them).
func TestExampleFlowWalk(t *testing.T) {
	type path struct {
		name   string
		inputs []string // "1" keys, "say:billing" speech, "silence", "dial:no-answer", "record"
		want   []string // kinds of the last answer's top-level elements
		text   string   // a phrase the last answer must speak ("" = none checked)
	}
	paths := []path{
		{"answer", nil, []string{"play", "say", "gather", "redirect"}, "Thank you for calling"},
		{"billing", []string{"1"}, []string{"gather", "redirect"}, "calling from 1 4 1 5"},
		{"billing by speech", []string{"say:pay my bill"}, []string{"gather", "redirect"}, "Billing."},
		{"billing balance", []string{"1", "1"}, []string{"say", "gather", "redirect"}, "Your balance"},
		{"billing back", []string{"1", "*"}, []string{"gather", "redirect"}, "For billing, press 1"},
		{"billing top", []string{"1", "0"}, []string{"gather", "redirect"}, "For billing, press 1"},
		{"billing pay transfer", []string{"1", "2"}, []string{"dial"}, ""},
		{"billing pay no answer goes to support", []string{"1", "2", "dial:no-answer"}, []string{"gather", "redirect"}, "Support."},
		{"billing pay answered", []string{"1", "2", "dial:completed"}, []string{"hangup"}, ""},
		{"billing wrong twice", []string{"1", "7", "7"}, []string{"say", "gather", "redirect"}, "start again"},
		{"support technician", []string{"2", "1"}, []string{"dial"}, ""},
		{"support busy to voicemail", []string{"2", "1", "dial:busy"}, []string{"say", "say", "record", "hangup"}, "technicians are busy"},
		{"support voicemail done", []string{"2", "1", "dial:busy", "record"}, []string{"say", "hangup"}, "A technician will call you back"},
		{"hours", []string{"3"}, []string{"say", "gather", "redirect"}, "around the clock"},
		{"news redirect", []string{"4"}, []string{"play", "redirect"}, ""},
		{"news redirect followed", []string{"4", "follow"}, []string{"gather", "redirect"}, ""},
		{"directory exact", []string{"5", "100"}, []string{"dial"}, ""},
		{"directory pattern", []string{"5", "250"}, []string{"say", "dial"}, "sales office"},
		{"directory regex", []string{"5", "310"}, []string{"say", "say", "record", "hangup"}, "out of office"},
		{"directory silent twice", []string{"5", "silence", "silence"}, []string{"say", "hangup"}, "Goodbye"},
		{"voicemail", []string{"6"}, []string{"say", "record", "hangup"}, ""},
		{"agent", []string{"0"}, []string{"say", "dial"}, "Connecting you now"},
		{"spanish quick switch", []string{"9"}, []string{"gather", "redirect"}, "Para facturación"},
		{"spanish carries into billing", []string{"9", "1"}, []string{"gather", "redirect"}, "Facturación."},
		{"language menu", []string{"*"}, []string{"gather", "redirect"}, "For English, press 1"},
		{"language menu spanish", []string{"*", "2"}, []string{"gather", "redirect"}, "Para facturación"},
		{"invalid", []string{"8"}, []string{"gather", "redirect"}, "not one of the choices"},
		{"always wrong", []string{"8", "8", "8"}, []string{"say", "dial"}, "connect you with someone"},
		{"silent", []string{"silence"}, []string{"gather", "redirect"}, "didn't hear anything"},
		{"always silent", []string{"silence", "silence", "silence"}, []string{"say", "hangup"}, "did not hear from you"},
	}
	for _, provider := range []string{"twilio", "plivo"} {
		for _, p := range paths {
			t.Run(provider+"/"+p.name, func(t *testing.T) {
				a := newTestApp(t)
				body := walk(t, a, provider, p.inputs)
				doc := parseXML(t, body)
				var got []string
				for _, c := range doc.Children {
					got = append(got, kindOf[c.Name])
				}
				if strings.Join(got, ",") != strings.Join(p.want, ",") {
					t.Errorf("elements %v, want %v\n%s", got, p.want, body)
				}
				if p.text != "" && !strings.Contains(allText(doc), p.text) {
					t.Errorf("answer does not say %q:\n%s", p.text, body)
				}
				if doc.has("Gather") || doc.has("GetDigits") || doc.has("GetInput") {
					for _, g := range append(doc.find("Response/Gather"), append(doc.find("Response/GetDigits"), doc.find("Response/GetInput")...)...) {
						if !strings.HasPrefix(g.Attr["action"], testPublic+"/"+provider+"/voice/menu/") {
							t.Errorf("gather action %q should be a menu URL on the public base", g.Attr["action"])
						}
					}
				}
				golden(t, filepath.Join("testdata", "walk", provider, strings.ReplaceAll(p.name, " ", "-")+".xml"), body)
			})
		}
	}
}

// walk answers a call and then feeds each input to the URL the previous
// answer points at, returning the last answer.
func walk(t *testing.T, a *testApp, provider string, inputs []string) string {
	t.Helper()
	form := callForm(provider)
	body := post(t, a, provider, "/"+provider+"/voice", form)
	for _, in := range inputs {
		doc := parseXML(t, body)
		f := callForm(provider)
		var next string
		switch {
		case in == "silence" || in == "follow":
			next = firstText(doc, "Response/Redirect")
		case strings.HasPrefix(in, "dial:"):
			next = firstAttr(doc, "Response/Dial", "action")
			f.Set(map[string]string{"twilio": "DialCallStatus", "plivo": "DialStatus"}[provider], strings.TrimPrefix(in, "dial:"))
		case in == "record":
			next = firstAttr(doc, "Response/Record", "action")
			f.Set(map[string]string{"twilio": "RecordingUrl", "plivo": "RecordUrl"}[provider], "https://media.example/rec.mp3")
		case strings.HasPrefix(in, "say:"):
			next = gatherAction(doc)
			f.Set(map[string]string{"twilio": "SpeechResult", "plivo": "Speech"}[provider], strings.TrimPrefix(in, "say:"))
		default:
			next = gatherAction(doc)
			f.Set("Digits", in)
		}
		if next == "" {
			t.Fatalf("input %q: the answer has nowhere to go:\n%s", in, body)
		}
		if !strings.HasPrefix(next, testPublic) {
			t.Fatalf("input %q: next URL %q is not on the public base", in, next)
		}
		body = post(t, a, provider, strings.TrimPrefix(next, testPublic), f)
	}
	return body
}

func post(t *testing.T, a *testApp, provider, path string, form url.Values) string {
	t.Helper()
	w := a.serve(a.request(provider, http.MethodPost, path, form))
	if w.Code != 200 {
		t.Fatalf("POST %s: %d", path, w.Code)
	}
	if n := testutilCount(a); n != 0 {
		t.Fatalf("POST %s answered the fallback:\n%s", path, w.Body.String())
	}
	return w.Body.String()
}

func gatherAction(doc *node) string {
	for _, name := range []string{"Gather", "GetDigits", "GetInput"} {
		if v := firstAttr(doc, "Response/"+name, "action"); v != "" {
			return v
		}
	}
	return ""
}

func firstAttr(doc *node, path, attr string) string {
	if ns := doc.find(path); len(ns) > 0 {
		return ns[0].Attr[attr]
	}
	return ""
}

func firstText(doc *node, path string) string {
	if ns := doc.find(path); len(ns) > 0 {
		return strings.TrimSpace(ns[0].Text)
	}
	return ""
}

func allText(n *node) string {
	s := n.Text
	for _, c := range n.Children {
		s += " " + allText(c)
	}
	return s
}

// golden compares got with the file, or rewrites it with -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden file: %v (run go test ./internal/server -run ExampleFlowWalk -update)", err)
	}
	if string(want) != got {
		t.Errorf("answer differs from %s (rerun with -update if intended):\n got: %s\nwant: %s", path, got, want)
	}
}
