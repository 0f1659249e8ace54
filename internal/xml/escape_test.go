package xml

import (
	"strings"
	"testing"

	"github.com/ivr-project/ivr/internal/ivr"
)

// nasty has everything that must be escaped or replaced.
const nasty = `Tom & Jerry <b>"quoted" 'single'</b> ]]> café 日本 🎉` + "\ttab\nline\r\nCRLF\x00nul\x01\x1f\x7f del \uFFFE \xff\xfe bad utf8"

// sanitized is nasty as a parser must read it back: forbidden characters
// and invalid UTF-8 replaced by U+FFFD, the rest unchanged.
const sanitized = `Tom & Jerry <b>"quoted" 'single'</b> ]]> café 日本 🎉` + "\ttab\nline\r\nCRLF\uFFFDnul\uFFFD\uFFFD\x7f del \uFFFD \uFFFD\uFFFD bad utf8"

const nastyBase = `https://x.test/a&b<c>"d'/`

func TestEscapingRoundTrip(t *testing.T) {
	query := "q=" + nasty
	steps := []ivr.Step{
		ivr.Say{Text: nasty, Voice: nasty, Language: nasty},
		ivr.Play{URL: nasty},
		ivr.Gather{
			Action:      ivr.Target{Path: "menu/a", Query: query},
			Prompts:     []ivr.Step{ivr.Say{Text: nasty}},
			DTMF:        true,
			Speech:      true,
			SpeechHints: []string{"x" + nasty + "y"},
			Language:    nasty,
		},
		ivr.Dial{Numbers: []string{"+1 " + "&'\"é"}, CallerID: nasty},
		ivr.Redirect{Target: ivr.Target{Path: "menu/b", Query: query}},
	}
	for _, tc := range []struct {
		provider, say, gather string
	}{
		{ProviderTwilio, "Say", "Gather"},
		{ProviderPlivo, "Speak", "GetInput"},
	} {
		t.Run(tc.provider, func(t *testing.T) {
			doc, err := Render(tc.provider, nastyBase, steps)
			if err != nil {
				t.Fatal(err)
			}
			root := parse(t, doc)
			say := find(root, "Response/"+tc.say)[0]
			if say.Text != sanitized {
				t.Errorf("text round trip:\n got %q\nwant %q", say.Text, sanitized)
			}
			for _, a := range []string{"voice", "language"} {
				if v, _ := say.attr(a); v != sanitized {
					t.Errorf("%s round trip:\n got %q\nwant %q", a, v, sanitized)
				}
			}
			if got := find(root, "Response/Play")[0].Text; got != sanitized {
				t.Errorf("play URL round trip: %q", got)
			}
			g := find(root, "Response/"+tc.gather)[0]
			wantURL := nastyBase + "menu/a?q=" + sanitized
			if got, _ := g.attr("action"); got != wantURL {
				t.Errorf("action round trip:\n got %q\nwant %q", got, wantURL)
			}
			if got, _ := g.attr("hints"); got != "x"+sanitized+"y" {
				t.Errorf("hints round trip: %q", got)
			}
			if got := find(root, "Response/"+tc.gather+"/"+tc.say)[0].Text; got != sanitized {
				t.Errorf("prompt round trip: %q", got)
			}
			if got := find(root, "Response/Dial/Number")[0].Text; strings.TrimPrefix(got, "+") != "1 &'\"é" {
				t.Errorf("number round trip: %q", got)
			}
			if got := find(root, "Response/Redirect")[0].Text; got != nastyBase+"menu/b?q="+sanitized {
				t.Errorf("redirect round trip: %q", got)
			}
			// Nothing raw that could end a tag or start markup.
			for _, raw := range []string{"<b>", "]]>", "& ", "\x00", "\xff"} {
				if strings.Contains(string(doc), raw) {
					t.Errorf("raw %q in output", raw)
				}
			}
		})
	}
}

func TestAppendEscaped(t *testing.T) {
	for _, tc := range []struct {
		in, text, attr string
	}{
		{"plain", "plain", "plain"},
		{"", "", ""},
		{`a&b<c>d"e'f`, `a&amp;b&lt;c&gt;d"e'f`, `a&amp;b&lt;c&gt;d&quot;e'f`},
		{"t\tn\nr\r", "t\tn\nr&#xD;", "t&#x9;n&#xA;r&#xD;"},
		{"\x00\x08\x0b\x0c\x1f", "\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD", "\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD"},
		{"é日🎉", "é日🎉", "é日🎉"},
		{"\xc3", "\uFFFD", "\uFFFD"},                                 // truncated UTF-8
		{"\xed\xa0\x80", "\uFFFD\uFFFD\uFFFD", "\uFFFD\uFFFD\uFFFD"}, // encoded surrogate
		{"\uFFFE\uFFFF", "\uFFFD\uFFFD", "\uFFFD\uFFFD"},
		{"\U0010FFFF", "\U0010FFFF", "\U0010FFFF"},
	} {
		if got := string(appendEscaped(nil, tc.in, false)); got != tc.text {
			t.Errorf("text %q = %q, want %q", tc.in, got, tc.text)
		}
		if got := string(appendEscaped(nil, tc.in, true)); got != tc.attr {
			t.Errorf("attr %q = %q, want %q", tc.in, got, tc.attr)
		}
	}
}

// BenchmarkAppendEscaped is a prompt's text and an action URL escaped as a
// voice answer escapes them.
func BenchmarkAppendEscaped(b *testing.B) {
	text := "Thanks for calling Example Co. For billing, press 1 or say billing. For support, press 2 or say support. To hear this again, press 9."
	attr := "https://ivr.example.com/twilio/voice/menu/main?attempt=2&s=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdEfGhIjKlMnOp"
	buf := make([]byte, 0, 512)
	b.SetBytes(int64(len(text) + len(attr)))
	for b.Loop() {
		buf = appendEscaped(appendEscaped(buf[:0], text, false), attr, true)
	}
}
