// Package chart draws the admin dashboard's charts as inline SVG on the
// server: stacked columns for time series and horizontal bars for
// rankings. No script runs in the page (the admin's CSP allows none
// inline); colours come from CSS classes in the admin stylesheet
// (chart-s0 ... chart-s5), and each bar carries a <title> tooltip with its
// exact value.
package chart

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/ivr-project/ivr/internal/clip"
)

// Series is one named, stacked part of a column chart.
type Series struct {
	Name   string
	Values []float64 // one per label
}

// Columns draws stacked columns, one per label, with a y axis, thinned x
// labels and a legend. width and height are the SVG's viewBox size.
func Columns(id, title string, labels []string, series []Series, width, height int) template.HTML {
	const left, right, top, bottom = 48, 8, 24, 40
	plotW, plotH := float64(width-left-right), float64(height-top-bottom)
	totals := make([]float64, len(labels))
	for _, s := range series {
		for i := range labels {
			if i < len(s.Values) {
				totals[i] += s.Values[i]
			}
		}
	}
	maxV := 0.0
	for _, t := range totals {
		maxV = math.Max(maxV, t)
	}
	ymax, step := niceScale(maxV)
	var b strings.Builder
	open(&b, "chart", id, title, width, height)
	for v := 0.0; v <= ymax+step/2; v += step { // grid and y labels
		y := float64(top) + plotH - v/ymax*plotH
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, left, width-right, y, y)
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="%.1f" text-anchor="end">%s</text>`, left-4, y+4, num(v))
	}
	if len(labels) > 0 {
		slot := plotW / float64(len(labels))
		barW := math.Max(1, slot*0.8)
		every := int(math.Ceil(float64(len(labels)) / (plotW / 90))) // at most one x label per 90 units
		for i, l := range labels {
			x := float64(left) + float64(i)*slot + (slot-barW)/2
			base := float64(top) + plotH
			for si, s := range series {
				if i >= len(s.Values) || s.Values[i] <= 0 {
					continue
				}
				h := s.Values[i] / ymax * plotH
				base -= h
				fmt.Fprintf(&b, `<rect class="chart-s%d" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s · %s: %s</title></rect>`,
					si%6, x, base, barW, h, esc(l), esc(s.Name), num(s.Values[i]))
			}
			if every < 1 || i%every == 0 {
				fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x+barW/2, height-bottom+14, esc(l))
			}
		}
	}
	names := make([]string, len(series))
	for i, s := range series {
		names[i] = s.Name
	}
	legend(&b, names, left, height)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// Bar is one row of a horizontal bar chart.
type Bar struct {
	Label string
	Value float64
	Note  string // shown after the value, e.g. "12 %"
}

// Bars draws one horizontal bar per row, longest = the largest value.
func Bars(id, title string, bars []Bar, width int) template.HTML {
	const rowH, labelW = 22, 140
	// Room right of the longest bar for the longest value text (about 7
	// units a character at the bars' 12px), so "2 · 33.3 % of entries" is
	// not cut at the edge; the bars keep at least a third of the width.
	valueW := 90
	for _, r := range bars {
		valueW = max(valueW, 7*utf8.RuneCountInString(barValue(r))+12)
	}
	valueW = min(valueW, (width-labelW)*2/3)
	if len(bars) == 0 {
		return template.HTML(fmt.Sprintf(`<svg class="chart bars" id="%s" role="img" aria-label="%s" viewBox="0 0 %d 30" xmlns="http://www.w3.org/2000/svg">`+
			`<title>%s</title><text class="axis" x="0" y="20">none in this period</text></svg>`, esc(id), esc(title), width, esc(title)))
	}
	height := rowH*len(bars) + 8
	maxV := 0.0
	for _, r := range bars {
		maxV = math.Max(maxV, r.Value)
	}
	var b strings.Builder
	open(&b, "chart bars", id, title, width, height)
	plotW := float64(width - labelW - valueW)
	for i, r := range bars {
		y := 4 + i*rowH
		w := 0.0
		if maxV > 0 {
			w = r.Value / maxV * plotW
		}
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="%d" text-anchor="end">%s</text>`, labelW-6, y+14, esc(clip.Runes(r.Label, 22)))
		fmt.Fprintf(&b, `<rect class="chart-s%d" x="%d" y="%d" width="%.1f" height="%d"><title>%s: %s</title></rect>`,
			i%6, labelW, y+2, math.Max(w, 1), rowH-6, esc(r.Label), num(r.Value))
		fmt.Fprintf(&b, `<text class="value" x="%.1f" y="%d">%s</text>`, float64(labelW)+math.Max(w, 1)+6, y+14, esc(barValue(r)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// barValue is the text written after a bar: its value and note.
func barValue(r Bar) string {
	if r.Note != "" {
		return num(r.Value) + " · " + r.Note
	}
	return num(r.Value)
}

// niceScale returns an axis maximum >= v and a tick step (1, 2 or 5 times a
// power of ten, about five ticks).
func niceScale(v float64) (ymax, step float64) {
	if v <= 0 {
		return 1, 1
	}
	raw := v / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	switch f := raw / mag; {
	case f <= 1:
		step = mag
	case f <= 2:
		step = 2 * mag
	case f <= 5:
		step = 5 * mag
	default:
		step = 10 * mag
	}
	if step < 1 {
		step = 1 // counts: whole numbers only
	}
	return math.Ceil(v/step) * step, step
}

// num formats a count or measure briefly: 1234 -> "1234", 12.345 -> "12.3".
func num(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func esc(s string) string { return html.EscapeString(s) }

// open starts a chart's <svg> (class, id, viewBox) with its <title>.
func open(b *strings.Builder, class, id, title string, width, height int) {
	fmt.Fprintf(b, `<svg class="%s" id="%s" role="img" aria-label="%s" viewBox="0 0 %d %d" xmlns="http://www.w3.org/2000/svg">`,
		class, esc(id), esc(title), width, height)
	fmt.Fprintf(b, `<title>%s</title>`, esc(title))
}

// legend writes a swatch and a name per series along the bottom of a
// chart height high, from x = left.
func legend(b *strings.Builder, names []string, left, height int) {
	x := float64(left)
	for si, n := range names {
		fmt.Fprintf(b, `<rect class="chart-s%d" x="%.1f" y="%d" width="10" height="10"/>`, si%6, x, height-14)
		fmt.Fprintf(b, `<text class="legend" x="%.1f" y="%d">%s</text>`, x+14, height-5, esc(n))
		x += 14 + 7*float64(len(n)) + 16
	}
}

// StackRow is one bar of a Shares chart: its parts, in the order of the
// chart's names.
type StackRow struct {
	Label  string
	Values []float64
}

// Shares draws one horizontal bar per row split into its parts, each bar
// as wide as the chart (100 %), with a legend: where a menu's callers went.
func Shares(id, title string, names []string, rows []StackRow, width int) template.HTML {
	const rowH, labelW, rightW = 24, 140, 60
	height := rowH*len(rows) + 26
	var b strings.Builder
	open(&b, "chart shares", id, title, width, height)
	plotW := float64(width - labelW - rightW)
	for i, r := range rows {
		y := 4 + i*rowH
		total := 0.0
		for _, v := range r.Values {
			total += v
		}
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="%d" text-anchor="end">%s</text>`, labelW-6, y+15, esc(clip.Runes(r.Label, 22)))
		x := float64(labelW)
		for si, v := range r.Values {
			if v <= 0 || total == 0 {
				continue
			}
			w := v / total * plotW
			name := ""
			if si < len(names) {
				name = names[si]
			}
			fmt.Fprintf(&b, `<rect class="chart-s%d" x="%.1f" y="%d" width="%.1f" height="%d"><title>%s · %s: %s (%.1f %%)</title></rect>`,
				si%6, x, y+2, w, rowH-8, esc(r.Label), esc(name), num(v), v/total*100)
			x += w
		}
		fmt.Fprintf(&b, `<text class="value" x="%d" y="%d">%s</text>`, width-rightW+6, y+15, num(total))
	}
	legend(&b, names, labelW, height)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
