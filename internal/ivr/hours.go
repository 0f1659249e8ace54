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
	Closed   []Action

	loc *time.Location
}

// Span is an opening span in minutes since local midnight, [From, To).
type Span struct{ From, To int }

// Holiday is a closed date; Year 0 = every year.
type Holiday struct {
	Year  int
	Month time.Month
	Day   int
}

// Open reports whether the business is open at t. A zero t (unknown time)
// counts as open so that callers are never shut out by a missing clock.
func (h *Hours) Open(t time.Time) bool {
	if h == nil || t.IsZero() {
		return true
	}
	loc := h.loc
	if loc == nil {
		loc = time.UTC
	}
	lt := t.In(loc)
	y, m, d := lt.Date()
	for _, hd := range h.Holidays {
		if hd.Month == m && hd.Day == d && (hd.Year == 0 || hd.Year == y) {
			return false
		}
	}
	min := lt.Hour()*60 + lt.Minute()
	for _, s := range h.Weekly[lt.Weekday()] {
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
