package ivr

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/ivr-project/ivr/internal/testutil"
)

// FuzzParse: any input either parses into a flow the engine can walk, or
// gives Problems; never a panic. Seeds: testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add(Example())
	f.Add([]byte(logicFlow))
	f.Add([]byte(inputFlow))
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
		box := testSealer(t)
		if _, err := stepThrough(fl, Request{Call: call, Sealer: box}); err != nil {
			t.Fatalf("answer: %v", err)
		}
		for _, n := range fl.Numbers {
			c := call
			c.To = strings.TrimPrefix(n.Number, "+")
			if _, err := stepThrough(fl, Request{Call: c, Sealer: box}); err != nil {
				t.Fatalf("answer %s: %v", c.To, err)
			}
		}
		for _, m := range fl.Menus() {
			path := "menu/" + m.ID
			inputs := []Input{{}, {Digits: "1"}, {Digits: "99#"}, {Speech: "hello there"}, {Digits: "12345678"}, {Speech: "1 2 3 4 5 6"}}
			for _, o := range m.Options {
				inputs = append(inputs, Input{Digits: o.Key})
				for _, w := range o.Words {
					inputs = append(inputs, Input{Speech: w})
				}
			}
			for _, q := range []string{"", "attempt=1", "attempt=3&invalid=9&timeouts=9&trail=a,b"} {
				v, _ := url.ParseQuery(q)
				for _, in := range inputs {
					res, err := stepThrough(fl, Request{Call: call, Path: path, Query: v, Input: in, Sealer: box})
					if err != nil {
						if strings.Contains(err.Error(), "lookups in one step") {
							continue // a flow that fetches in a loop: an error by design
						}
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

// stepThrough runs a step to the end, answering its lookups: failed,
// then succeeded with every save variable set to "1", in turn.
func stepThrough(fl *Flow, req Request) (Result, error) {
	for i := 0; ; i++ {
		res, err := fl.Step(req)
		if err != nil || res.Need == nil {
			return res, err
		}
		if len(res.Steps) > 0 || len(res.Events) > 0 || i > MaxFetchesPerStep {
			return res, errors.New("a lookup result did not move the step on")
		}
		if res.Need.Unsent != "" {
			req.Lookups = append(req.Lookups, res.Need.UnsentResult())
			continue
		}
		r := LookupResult{Request: res.Need.Request, OK: i%2 == 1, Values: map[string]string{}}
		for v := range res.Need.Save {
			r.Values[v] = "1"
		}
		req.Lookups = append(req.Lookups, r)
	}
}

// FuzzState: any query gives a bounded state that survives an encode and
// parse round trip, and the engine never panics on it.
func FuzzState(f *testing.F) {
	for _, s := range []string{
		"", "attempt=2", "attempt=1&invalid=1&lang=es-ES&trail=main,billing",
		"attempt=-1&invalid=abc&timeouts=99999999999999999999",
		"lang=%3Cx%3E&trail=,,a/b,main&menu=..&ref=main.1.0",
		"ref=%ff%fe&attempt=1&attempt=2", "trail=" + "a,b,c,d,e,f,g,h,i,j,k,l,m",
		"attempt=1&v=b_8yEgedrj6m3U0gQRfZevYeQDEJ4izGTLi4F3avaT5K6yi48Si9vk80Mvsc", "v=%21%21", "v=",
		"attempt=2&confirm=1&keys=1", "confirm=99&keys=yes", "confirm=2&invalid=1",
	} {
		f.Add(s)
	}
	flow, input := mustExample(f), testutil.MustParse(f, Parse, inputFlow)
	f.Fuzz(func(t *testing.T, raw string) {
		q, _ := url.ParseQuery(raw)
		s := parseState(q)
		for _, n := range []int{s.Attempt, s.Invalid, s.Timeouts} {
			if n < 0 || n > maxCount {
				t.Fatalf("count out of range: %+v", s)
			}
		}
		if len(s.Trail) > maxTrail || len(s.Ref) > maxRefLen || len(s.Vars) > maxTokenLen {
			t.Fatalf("state too big: %+v", s)
		}
		enc := s.encode()
		q2, err := url.ParseQuery(enc)
		if err != nil {
			t.Fatalf("encode %q: %v", enc, err)
		}
		s.BadVars = false // an unreadable v= is not written again
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
		for _, path := range []string{"menu/main", "menu/account"} { // the input controls
			for _, in := range []Input{{}, {Digits: "*"}, {Digits: "2"}, {Speech: "yes", Confidence: 0.2, HasConfidence: true}} {
				input.Step(Request{Path: path, Query: q, Input: in})
			}
		}
	})
}

// FuzzCondition: any condition text compiles (then runs on any values
// without panicking) or gives an error at an offset inside the text.
func FuzzCondition(f *testing.F) {
	for _, s := range []string{
		`status == "active" && balance > 0`, `!(balance >= 10.5) || from == "+1555"`,
		`balance`, `len(status)`, `status ==`, `a.b`, `1 + 2 > 3`, `"x" < status and not (balance != -1)`,
		`status in ["a"]`, `balance > status`, `provider == "plivo" or language == "es-ES"`,
	} {
		f.Add(s, "42.50", "active")
	}
	vars := []string{"status", "balance"}
	f.Fuzz(func(t *testing.T, src, v1, v2 string) {
		c, err := compileCond(src, vars, false)
		if err != nil {
			var ce *condError
			if !errors.As(err, &ce) || ce.off < 0 || ce.off > len(src) || ce.msg == "" {
				t.Fatalf("%q: error %v", src, err)
			}
			return
		}
		for _, n := range c.names {
			if !isCondName(n, vars) {
				t.Fatalf("%q reads unknown %q", src, n)
			}
		}
		env := map[string]any{"status": cmpValue{v2}, "balance": cmpValue{v1}, "from": v1, "to": v2, "provider": "twilio", "language": "en-US"}
		if _, err := c.eval(env); err != nil {
			t.Fatalf("%q on %q %q: %v", src, v1, v2, err)
		}
	})
}

// FuzzVars: decodeVars reads only what encode writes, within the limits.
func FuzzVars(f *testing.F) {
	f.Add(vars{{"account", "12345678"}, {"status", "active"}}.encode())
	f.Add([]byte{1})
	f.Add([]byte{1, 1, 'a', 1, 'x'})
	f.Fuzz(func(t *testing.T, b []byte) {
		vs, err := decodeVars(b)
		if err != nil {
			return
		}
		if len(vs) > MaxVariables {
			t.Fatalf("%d variables", len(vs))
		}
		for _, v := range vs {
			if len(v.name) > MaxVarNameLen || len(v.value) > MaxVarValueLen {
				t.Fatalf("too long: %+v", v)
			}
		}
		if !reflect.DeepEqual(vs.encode(), b) {
			t.Fatalf("not canonical: %v", b)
		}
	})
}

// FuzzExpand: the placeholder scanner substitutes exactly what
// placeholderRE matches (the reference), in one pass.
func FuzzExpand(f *testing.F) {
	for _, s := range []string{"", "Hi {{from}}!", "{{ a }}{{b}}", "{{{x}}", "{{x}}}", "{{a{b}}", "{{}}", "{{ \t}}", "x{{y", "{{a|digits}} {{ b | c }}", "}}{{"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		value := func(name string) string { return "<" + name + "{{x}}>" }
		want := placeholderRE.ReplaceAllStringFunc(s, func(m string) string {
			name, filter := splitFilter(placeholderRE.FindStringSubmatch(m)[1])
			if filter == filterDigits {
				return spelled(value(name))
			}
			return value(name)
		})
		if got := expand(s, value); got != want {
			t.Fatalf("expand(%q) = %q, want %q", s, got, want)
		}
	})
}
