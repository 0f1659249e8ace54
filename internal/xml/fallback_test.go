package xml

import (
	"strings"
	"testing"
)

func TestFallback(t *testing.T) {
	for _, tc := range []struct {
		provider, say string
		voice         string
		number        string
	}{
		{ProviderTwilio, "Say", "woman", "+15550100000"},
		{ProviderPlivo, "Speak", "WOMAN", "15550100000"},
	} {
		t.Run(tc.provider, func(t *testing.T) {
			doc, err := Fallback(tc.provider, FallbackConfig{
				Text: "Sorry & goodbye <now>", Voice: "woman", Language: "en-GB", Number: " +15550100000 ",
			})
			if err != nil {
				t.Fatal(err)
			}
			root := parse(t, doc)
			if got := strings.Join(root.childNames(), ","); got != tc.say+",Dial,Hangup" {
				t.Errorf("Response children = %s", got)
			}
			say := find(root, "Response/"+tc.say)
			if len(say) != 1 || say[0].Text != "Sorry & goodbye <now>" {
				t.Fatalf("Response/%s = %+v", tc.say, say)
			}
			attrs(t, say[0], map[string]string{"voice": tc.voice, "language": "en-GB"})
			nums := find(root, "Response/Dial/Number")
			if len(nums) != 1 || nums[0].Text != tc.number {
				t.Errorf("Response/Dial/Number = %+v", nums)
			}
			noAttr(t, find(root, "Response/Dial")[0], "action", "method")
			for _, banned := range []string{"Gather", "GetDigits", "GetInput", "Redirect", "Record"} {
				if n := findAll(root, banned); len(n) > 0 {
					t.Errorf("fallback contains <%s>", banned)
				}
			}
		})
	}
}

func TestFallbackDefaultText(t *testing.T) {
	doc, err := Fallback(ProviderPlivo, FallbackConfig{Number: "+15550100000"})
	if err != nil {
		t.Fatal(err)
	}
	speak := find(parse(t, doc), "Response/Speak")[0]
	if speak.Text != DefaultFallbackText {
		t.Errorf("text %q", speak.Text)
	}
	noAttr(t, speak, "voice", "language")
}

func TestFallbackErrors(t *testing.T) {
	for _, tc := range []struct {
		provider string
		f        FallbackConfig
		msg      string
	}{
		{ProviderTwilio, FallbackConfig{Text: "x"}, "empty call center number"},
		{ProviderPlivo, FallbackConfig{Number: "   "}, "empty call center number"},
		{ProviderPlivo, FallbackConfig{Number: "+1<+2"}, "call center number"},
		{"", FallbackConfig{Number: "+15550100000"}, "unknown provider"},
		{"Twilio", FallbackConfig{Number: "+15550100000"}, "unknown provider"},
	} {
		doc, err := Fallback(tc.provider, tc.f)
		if err == nil || !strings.Contains(err.Error(), tc.msg) || doc != nil {
			t.Errorf("Fallback(%q, %+v) = %q, %v; want error about %q", tc.provider, tc.f, doc, err, tc.msg)
		}
	}
}
