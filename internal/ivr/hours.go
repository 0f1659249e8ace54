package ivr

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Hours are business hours: weekly opening spans in a time zone, holidays,
// and what to do while closed.
type Hours struct {
	TimeZone string
	Weekly   [7][]Span // indexed by time.Weekday; empty = closed all day
	Holidays []Holiday
	// Overrides replace a date's weekly hours (and its holiday): shorter
	// hours, or closed all day. At most one per date.
	Overrides []Override
	Closed    []Action

	loc *time.Location
}

// Span is an opening span in minutes since local midnight, [From, To).
type Span struct{ From, To int }

// Override is one date's own hours: Spans (empty = closed all day).
type Override struct {
	Date  Holiday // Year 0 = every year
	Spans []Span
}

// Holiday is a closed date; Year 0 = every year.
type Holiday struct {
	Year  int
	Month time.Month
	Day   int
}

// Open reports whether the business is open at t. A zero t (unknown time)
// counts as open so that callers are never shut out by a missing clock.
// A date's override wins over its holiday and its weekly hours; an override
// for one year wins over an every-year one.
func (h *Hours) Open(t time.Time) bool {
	if h == nil || t.IsZero() {
		return true
	}
	lt := t.In(h.Location())
	y, m, d := lt.Date()
	min := lt.Hour()*60 + lt.Minute()
	if o := h.override(y, m, d); o != nil {
		return inSpans(o.Spans, min)
	}
	for _, hd := range h.Holidays {
		if hd.on(y, m, d) {
			return false
		}
	}
	return inSpans(h.Weekly[lt.Weekday()], min)
}

// Location is the hours' time zone (UTC when unset).
func (h *Hours) Location() *time.Location {
	if h == nil || h.loc == nil {
		return time.UTC
	}
	return h.loc
}

// override is the date's override: a dated one first, else an every-year one.
func (h *Hours) override(y int, m time.Month, d int) *Override {
	var yearly *Override
	for i := range h.Overrides {
		o := &h.Overrides[i]
		if !o.Date.on(y, m, d) {
			continue
		}
		if o.Date.Year != 0 {
			return o
		}
		yearly = o
	}
	return yearly
}

func (hd Holiday) on(y int, m time.Month, d int) bool {
	return hd.Month == m && hd.Day == d && (hd.Year == 0 || hd.Year == y)
}

func inSpans(spans []Span, min int) bool {
	for _, s := range spans {
		if min >= s.From && min < s.To {
			return true
		}
	}
	return false
}

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// parseDays reads "mon", "mon-fri", "sat,sun", "fri-mon" (wraps).
func parseDays(s string) ([]time.Weekday, error) {
	var out []time.Weekday
	for part := range strings.SplitSeq(strings.ToLower(s), ",") {
		part = strings.TrimSpace(part)
		a, b, isRange := strings.Cut(part, "-")
		from, ok := dayNames[strings.TrimSpace(a)]
		if !ok {
			return nil, fmt.Errorf("unknown day %q: use mon, tue, wed, thu, fri, sat, sun, ranges like mon-fri or lists like sat,sun", strings.TrimSpace(a))
		}
		if !isRange {
			out = append(out, from)
			continue
		}
		to, ok := dayNames[strings.TrimSpace(b)]
		if !ok {
			return nil, fmt.Errorf("unknown day %q: use mon, tue, wed, thu, fri, sat, sun", strings.TrimSpace(b))
		}
		for d := from; ; d = (d + 1) % 7 {
			out = append(out, d)
			if d == to {
				break
			}
		}
	}
	return out, nil
}

// parseSpan reads "08:00-18:00"; the end may be 24:00 and must be after the start.
func parseSpan(s string) (Span, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return Span{}, fmt.Errorf("bad hours %q: write HH:MM-HH:MM, e.g. 08:00-18:00, or closed", s)
	}
	from, err := parseClock(a)
	if err != nil {
		return Span{}, err
	}
	to, err := parseClock(b)
	if err != nil {
		return Span{}, err
	}
	if to <= from {
		return Span{}, fmt.Errorf("hours %q end before they start: split overnight hours over two days (22:00-24:00 and 00:00-06:00)", s)
	}
	return Span{from, to}, nil
}

func parseClock(s string) (int, error) {
	s = strings.TrimSpace(s)
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || len(h) < 1 || len(h) > 2 ||
		hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("bad time %q: write HH:MM from 00:00 to 24:00", s)
	}
	return hh*60 + mm, nil
}

// parseHoliday reads "2026-12-25" (that day) or "12-25" (every year).
func parseHoliday(s string) (Holiday, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return Holiday{Year: t.Year(), Month: t.Month(), Day: t.Day()}, nil
	}
	if t, err := time.Parse("2006-01-02", "2000-"+s); err == nil && len(s) == 5 {
		return Holiday{Month: t.Month(), Day: t.Day()}, nil
	}
	return Holiday{}, fmt.Errorf("bad date %q: write YYYY-MM-DD for one day or MM-DD for every year", s)
}
