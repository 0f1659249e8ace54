package xml

import (
	stdxml "encoding/xml"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ivr-project/ivr/internal/ivr"
)

// whisperDialSteps is a transfer with everything the hand-off adds: a number
// and a SIP URI, a whisper with an accept key, and context.
func whisperDialSteps() []ivr.Step {
	return []ivr.Step{ivr.Dial{
		Numbers:        []string{"+15550001111", "sip:sales@pbx.example.com"},
		CallerID:       "+15550009999",
		TimeoutSeconds: 15,
		Action:         &ivr.Target{Path: "action/dial-done", Query: "menu=agents&ref=agents.0.0"},
		Whisper:        &ivr.Target{Path: "whisper", Query: "call=CA1&menu=agents&ref=agents.0.0&v=tok"},
		AcceptKey:      "1",
		Context:        []ivr.ContextValue{{Name: "account", Value: "12 34&5"}, {Name: "intent_code", Value: "billing"}},
	}}
}

// sdkGrammar is what each provider's SDK XML builder accepts for the
// elements a transfer writes: Twilio's VoiceResponse typings (twilio-node
// lib/twiml/VoiceResponse.d.ts: DialAttributes, NumberAttributes,
// SipAttributes) and Plivo's builder (plivo-node dist/utils/plivoxml.js:
// valid_attributes and nestables of Dial, Number, User), which throws on
// any other attribute.
var sdkGrammar = map[string]map[string][]string{
	ProviderTwilio: {
		"Dial": {"action", "answerOnBridge", "callerId", "events", "hangupOnStar", "method", "passports", "record", "recordingConfigurationId",
			"recordingStatusCallback", "recordingStatusCallbackEvent", "recordingStatusCallbackMethod", "recordingTrack", "referMethod", "referUrl",
			"ringTone", "sequential", "timeLimit", "timeout", "trim"},
		"Number": {"amdStatusCallback", "amdStatusCallbackMethod", "byoc", "machineDetection", "machineDetectionSilenceTimeout",
			"machineDetectionSpeechEndThreshold", "machineDetectionSpeechThreshold", "machineDetectionTimeout", "method", "sendDigits",
			"statusCallback", "statusCallbackEvent", "statusCallbackMethod", "url"},
		"Sip": {"amdStatusCallback", "amdStatusCallbackMethod", "machineDetection", "machineDetectionSilenceTimeout",
			"machineDetectionSpeechEndThreshold", "machineDetectionSpeechThreshold", "machineDetectionTimeout", "method", "password",
			"statusCallback", "statusCallbackEvent", "statusCallbackMethod", "url", "username"},
		"kids": {"Application", "Client", "Conference", "Number", "Queue", "Sim", "Sip", "WhatsApp"},
	},
	ProviderPlivo: {
		"Dial":   {"action", "method", "timeout", "hangupOnStar", "timeLimit", "callerId", "callerName", "confirmSound", "dialMusic", "confirmKey", "redirect", "callbackUrl", "callbackMethod", "digitsMatch", "digitsMatchBLeg", "sipHeaders", "confirmTimeout"},
		"Number": {"sendDigits", "sendOnPreanswer"},
		"User":   {"sendDigits", "sendOnPreanswer", "sipHeaders", "callerId", "callerName"},
		"kids":   {"Number", "User"},
	},
}

// TestDialInSDKGrammar: every attribute and child of the rendered <Dial> is
// one the provider's SDK builder knows.
func TestDialInSDKGrammar(t *testing.T) {
	for provider, base := range map[string]string{ProviderTwilio: testBase, ProviderPlivo: testBasePlivo} {
		out, err := Render(provider, base, whisperDialSteps())
		if err != nil {
			t.Fatal(err)
		}
		g := sdkGrammar[provider]
		dial := find(parse(t, out), "Response/Dial")[0]
		check := func(n node) {
			for _, a := range n.Attrs {
				if !contains(g[n.XMLName.Local], a.Name.Local) {
					t.Errorf("%s <%s %s>: not in the SDK's grammar", provider, n.XMLName.Local, a.Name.Local)
				}
			}
		}
		check(dial)
		for _, k := range dial.Children {
			if !contains(g["kids"], k.XMLName.Local) {
				t.Errorf("%s <Dial><%s>: not a noun the SDK nests in Dial", provider, k.XMLName.Local)
			}
			check(k)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestDialWhisperAttributes(t *testing.T) {
	tw, err := Twilio(testBase, whisperDialSteps())
	if err != nil {
		t.Fatal(err)
	}
	whisper := testBase + "whisper?call=CA1&menu=agents&ref=agents.0.0&v=tok"
	kids := find(parse(t, tw), "Response/Dial")[0].Children
	if len(kids) != 2 || kids[0].XMLName.Local != "Number" || kids[1].XMLName.Local != "Sip" {
		t.Fatalf("twilio dial nouns %v", kids)
	}
	for _, k := range kids {
		attrs(t, k, map[string]string{"url": whisper, "method": "POST"})
	}
	if got, want := kids[1].Text, "sip:sales@pbx.example.com?X-IVR-Account=12%2034%265&X-IVR-Intent-Code=billing"; got != want {
		t.Errorf("twilio <Sip> %q, want %q", got, want)
	}
	if strings.Contains(kids[0].Text, "X-IVR") {
		t.Errorf("context on a phone number: %q", kids[0].Text)
	}

	pl, err := Plivo(testBasePlivo, whisperDialSteps())
	if err != nil {
		t.Fatal(err)
	}
	dial := find(parse(t, pl), "Response/Dial")[0]
	attrs(t, dial, map[string]string{"confirmSound": testBasePlivo + "whisper?call=CA1&menu=agents&ref=agents.0.0&v=tok", "confirmKey": "1"})
	user := find(parse(t, pl), "Response/Dial/User")
	if len(user) != 1 || user[0].Text != "sip:sales@pbx.example.com" {
		t.Fatalf("plivo <User> %v", user)
	}
	attrs(t, user[0], map[string]string{"sipHeaders": "IVR-Account=12_34_5,IVR-Intent-Code=billing"})
	noAttr(t, find(parse(t, pl), "Response/Dial/Number")[0], "url", "sipHeaders")
}

func TestDialRefusesBadAcceptKey(t *testing.T) {
	d := whisperDialSteps()[0].(ivr.Dial)
	d.AcceptKey = "12"
	for _, p := range []string{ProviderTwilio, ProviderPlivo} {
		if _, err := Render(p, testBase, []ivr.Step{d}); err == nil {
			t.Errorf("%s: accept key 12 rendered", p)
		}
	}
}

// TestDialMatchesSDKOracle: the rendered whisper transfer is the document
// each provider's own SDK builds for it (testdata/sdk/*.xml, written by
// testdata/sdk/oracle.js with twilio-node and plivo-node), compared as
// trees: same elements, attributes and text, whatever the order and
// indentation.
func TestDialMatchesSDKOracle(t *testing.T) {
	for provider, base := range map[string]string{ProviderTwilio: testBase, ProviderPlivo: testBasePlivo} {
		ours, err := Render(provider, base, whisperDialSteps())
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := os.ReadFile(filepath.Join("testdata", "sdk", provider+"_dial_whisper.xml"))
		if err != nil {
			t.Fatal(err)
		}
		var sdk node // plivo-node writes no XML declaration
		if err := stdxml.Unmarshal(theirs, &sdk); err != nil {
			t.Fatal(err)
		}
		if a, b := canonical(parse(t, ours)), canonical(sdk); a != b {
			t.Errorf("%s differs from the SDK's document:\n ours: %s\nsdk's: %s", provider, a, b)
		}
	}
}

// canonical writes a parsed tree with sorted attributes and trimmed text.
func canonical(n node) string {
	as := make([]string, 0, len(n.Attrs))
	for _, a := range n.Attrs {
		as = append(as, a.Name.Local+"="+a.Value)
	}
	sort.Strings(as)
	var b strings.Builder
	b.WriteString("<" + n.XMLName.Local + " " + strings.Join(as, " ") + ">" + strings.TrimSpace(n.Text))
	for _, k := range n.Children {
		b.WriteString(canonical(k))
	}
	b.WriteString("</" + n.XMLName.Local + ">")
	return b.String()
}

// The reader (simulate, Try) finds the whisper and the accept key.
func TestReadDialWhisper(t *testing.T) {
	for provider, base := range map[string]string{ProviderTwilio: testBase, ProviderPlivo: testBasePlivo} {
		out, err := Render(provider, base, whisperDialSteps())
		if err != nil {
			t.Fatal(err)
		}
		vs, err := Parse(provider, out)
		if err != nil {
			t.Fatal(err)
		}
		d, ok := vs[0].(Dial)
		if !ok {
			t.Fatalf("%s: read %T", provider, vs[0])
		}
		if d.Whisper != base+"whisper?call=CA1&menu=agents&ref=agents.0.0&v=tok" {
			t.Errorf("%s whisper %q", provider, d.Whisper)
		}
		if len(d.Numbers) != 2 || !strings.Contains(d.Numbers[1], "sip:sales@pbx.example.com") {
			t.Errorf("%s numbers %q", provider, d.Numbers)
		}
		if provider == ProviderPlivo && d.AcceptKey != "1" {
			t.Errorf("plivo accept key %q", d.AcceptKey)
		}
	}
}
