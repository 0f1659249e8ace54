package chart

import (
	"encoding/xml"
	"strings"
	"testing"
)

// svgDoc is what the tests read back from a chart.
type svgDoc struct {
	XMLName xml.Name `xml:"svg"`
	Rects   []struct {
		Class  string  `xml:"class,attr"`
		Height float64 `xml:"height,attr"`
		Width  float64 `xml:"width,attr"`
		Title  string  `xml:"title"`
	} `xml:"rect"`
	Texts []string `xml:"text"`
}

func parse(t *testing.T, s string) svgDoc {
	t.Helper()
	var d svgDoc
	if err := xml.Unmarshal([]byte(s), &d); err != nil {
		t.Fatalf("not well-formed SVG: %v\n%s", err, s)
	}
	return d
}

func TestColumns(t *testing.T) {
	out := Columns("c1", "Calls <per> hour", []string{"10:00", "11:00", "12:00"},
		[]Series{{Name: "contained", Values: []float64{3, 0, 5}}, {Name: "a&b", Values: []float64{1, 2, 0}}}, 600, 200)
	d := parse(t, string(out))
	var bars, legend int
	heights := map[string]float64{}
	for _, r := range d.Rects {
		if r.Title == "" {
			legend++
			continue
		}
		bars++
		heights[r.Title] = r.Height
	}
	if bars != 4 || legend != 2 {
		t.Errorf("%d bars and %d legend keys, want 4 (zero values drawn as nothing) and 2", bars, legend)
	}
	// Heights are proportional: 12:00 contained (5) is 5x 10:00 a&b (1).
	if h1, h5 := heights["10:00 · a&b: 1"], heights["12:00 · contained: 5"]; h1 == 0 || h5 < 4.99*h1 || h5 > 5.01*h1 {
		t.Errorf("heights %v: want 12:00 contained = 5 x 10:00 a&b", heights)
	}
	if !strings.Contains(string(out), "Calls &lt;per&gt; hour") {
		t.Error("title not escaped")
	}
}

func TestColumnsEmpty(t *testing.T) {
	d := parse(t, string(Columns("c", "none", nil, nil, 300, 100)))
	if len(d.Rects) != 0 {
		t.Errorf("empty chart drew %d rects", len(d.Rects))
	}
}

func TestBars(t *testing.T) {
	out := Bars("b", "Options", []Bar{{Label: "1", Value: 10, Note: "50 %"}, {Label: "2", Value: 5}}, 500)
	d := parse(t, string(out))
	if len(d.Rects) != 2 || d.Rects[0].Width != 2*d.Rects[1].Width {
		t.Errorf("rects %+v: want 2, the first twice as long", d.Rects)
	}
	if !strings.Contains(strings.Join(d.Texts, "|"), "10 · 50 %") {
		t.Errorf("texts %q lack the value with its note", d.Texts)
	}
}

func TestNiceScale(t *testing.T) {
	for _, c := range []struct{ v, max, step float64 }{{0, 1, 1}, {3, 3, 1}, {7, 8, 2}, {42, 50, 10}, {1234, 1500, 500}} {
		if m, s := niceScale(c.v); m != c.max || s != c.step {
			t.Errorf("niceScale(%v) = %v, %v; want %v, %v", c.v, m, s, c.max, c.step)
		}
	}
}

func TestBarsEmpty(t *testing.T) {
	d := parse(t, string(Bars("b", "Nothing", nil, 400)))
	if len(d.Rects) != 0 || !strings.Contains(strings.Join(d.Texts, ""), "none in this period") {
		t.Errorf("empty bars: %+v", d)
	}
}

func TestShares(t *testing.T) {
	out := Shares("f", "Funnels", []string{"chose", "invalid", "hung up"},
		[]StackRow{{Label: "main", Values: []float64{6, 2, 2}}, {Label: "empty", Values: []float64{0, 0, 0}}}, 600)
	d := parse(t, string(out))
	var segs []float64
	for _, r := range d.Rects {
		if r.Title != "" {
			segs = append(segs, r.Width)
		}
	}
	if len(segs) != 3 || segs[0] != 3*segs[1] || segs[1] != segs[2] {
		t.Errorf("segments %v: want 3, widths 6:2:2", segs)
	}
	if !strings.Contains(string(out), "main · chose: 6 (60.0 %)") {
		t.Errorf("segment titles lack the share:\n%s", out)
	}
}

// The value text after the longest bar fits inside the chart: the bars
// leave room for the longest "value · note".
func TestBarsValueFits(t *testing.T) {
	out := string(Bars("b", "Hung up", []Bar{{Label: "main", Value: 2, Note: "33.3 % of entries"}, {Label: "account", Value: 1, Note: "100.0 % of entries"}}, 600))
	var doc struct {
		Texts []struct {
			Class string  `xml:"class,attr"`
			X     float64 `xml:"x,attr"`
			Text  string  `xml:",chardata"`
		} `xml:"text"`
	}
	if err := xml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, tx := range doc.Texts {
		if tx.Class != "value" {
			continue
		}
		n++
		if end := tx.X + 7*float64(len([]rune(tx.Text))); end > 600 {
			t.Errorf("%q starts at %.0f and ends near %.0f, past the chart's 600", tx.Text, tx.X, end)
		}
	}
	if n != 2 {
		t.Errorf("%d value texts, want 2", n)
	}
}
