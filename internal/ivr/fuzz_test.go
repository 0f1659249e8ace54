package ivr

import (
	"errors"
	"net/url"
	"reflect"
	"testing"
)

// FuzzParse: any input either parses into a flow the engine can walk, or
// gives Problems; never a panic. Seeds: testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add(Example())
	f.Fuzz(func(t *testing.T, data []byte) {
		fl, err := Parse("fuzz.yaml", data)
		if err != nil {
			var ps Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("error is not Problems: %v", err)
			}
			for _, p := range ps {
				if p.Msg == "" || p.Line < 0 || p.Col < 0 {
					t.Fatalf("bad problem %+v", p)
				}
			}
			return
		}
		call := Call{Provider: "twilio", From: "+15551234567", To: "+15005550006", Now: openTime}
		if _, err := fl.Step(Request{Call: call}); err != nil {
			t.Fatalf("answer: %v", err)
		}
		for _, m := range fl.Menus() {
			path := "menu/" + m.ID
			inputs := []Input{{}, {Digits: "1"}, {Digits: "99#"}, {Speech: "hello there"}}
			for _, o := range m.Options {
				inputs = append(inputs, Input{Digits: o.Key})
				for _, w := range o.Words {
					inputs = append(inputs, Input{Speech: w})
				}
			}
			for _, q := range []string{"", "attempt=1", "attempt=3&invalid=9&timeouts=9&trail=a,b"} {
				v, _ := url.ParseQuery(q)
				for _, in := range inputs {
					res, err := fl.Step(Request{Call: call, Path: path, Query: v, Input: in})
					if err != nil {
						t.Fatalf("%s?%s %+v: %v", path, q, in, err)
					}
					if len(res.Steps) == 0 {
						t.Fatalf("%s?%s %+v: no steps", path, q, in)
					}
				}
			}
		}
		if _, err := fl.Reply(SMS{Text: "help"}); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzState: any query gives a bounded state that survives an encode and
// parse round trip, and the engine never panics on it.
func FuzzState(f *testing.F) {
	for _, s := range []string{
		"", "attempt=2", "attempt=1&invalid=1&lang=es-ES&trail=main,billing",
		"attempt=-1&invalid=abc&timeouts=99999999999999999999",
		"lang=%3Cx%3E&trail=,,a/b,main&menu=..&ref=main.1.0",
		"ref=%ff%fe&attempt=1&attempt=2", "trail=" + "a,b,c,d,e,f,g,h,i,j,k,l,m",
	} {
		f.Add(s)
	}
	flow := mustExample(f)
	f.Fuzz(func(t *testing.T, raw string) {
		q, _ := url.ParseQuery(raw)
		s := parseState(q)
		for _, n := range []int{s.Attempt, s.Invalid, s.Timeouts} {
			if n < 0 || n > maxCount {
				t.Fatalf("count out of range: %+v", s)
			}
		}
		if len(s.Trail) > maxTrail || len(s.Ref) > maxRefLen {
			t.Fatalf("state too big: %+v", s)
		}
		enc := s.encode()
		q2, err := url.ParseQuery(enc)
		if err != nil {
			t.Fatalf("encode %q: %v", enc, err)
		}
		if s2 := parseState(q2); !reflect.DeepEqual(s, s2) {
			t.Fatalf("round trip:\n%+v\n%+v", s, s2)
		}
		if enc2 := parseState(q2).encode(); enc2 != enc {
			t.Fatalf("encode not stable: %q %q", enc, enc2)
		}
		for _, path := range []string{"", "menu/main", "menu/directory", PathDialDone, PathVoicemailDone} {
			for _, in := range []Input{{}, {Digits: "1"}, {Speech: "billing"}} {
				flow.Step(Request{Path: path, Query: q, Input: in, DialStatus: "busy"})
			}
		}
	})
}
