package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/ivr-project/ivr/internal/ivr"
)

// typedEvents is the form call_requests.events are written in: the typed
// events in the engine's stored form (ivr.AppendEvents) and their flow
// revisions.
//
//	row       = typedRowVersion:byte(1) revisions events
//	revisions = runs:uvarint (count:uvarint length:uvarint revision)*
//	events    = ivr.AppendEvents of the row's events (to the end)
//
// The revision runs say which revision each event ran on, in order (a
// request's events share theirs: one run). An event's Node is not stored:
// it reads back as eventNode gives it. Text is stored as the store keeps
// text (txt: valid UTF-8, no NUL), and a zero At as the batch's now.
type typedEvents struct{}

// typedRowVersion is the first byte of a typed row (never '[', the JSON form).
const typedRowVersion = 1

// rowRoom is the room append makes for a row of n events: one allocation
// for most rows.
func rowRoom(n int) int { return 24 + 64*n }

func (typedEvents) append(dst []byte, events []Event, now time.Time) ([]byte, error) {
	dst = slices.Grow(dst, rowRoom(len(events)))
	dst = append(dst, typedRowVersion)
	runs := 0
	for i := range events {
		if i == 0 || events[i].Revision != events[i-1].Revision {
			runs++
		}
	}
	dst = binary.AppendUvarint(dst, uint64(runs))
	for i := 0; i < len(events); {
		j := i + 1
		for j < len(events) && events[j].Revision == events[i].Revision {
			j++
		}
		rev := txt(events[i].Revision)
		dst = binary.AppendUvarint(dst, uint64(j-i))
		dst = binary.AppendUvarint(dst, uint64(len(rev)))
		dst = append(dst, rev...)
		i = j
	}
	var scratch *ivr.Event // made for the rare event to change
	return ivr.AppendEventsOf(dst, len(events), func(i int) *ivr.Event {
		e := &events[i].Event
		if !e.At.IsZero() && clean(e) {
			return e
		}
		if scratch == nil {
			scratch = new(ivr.Event)
		}
		*scratch = *e
		if scratch.At.IsZero() {
			scratch.At = now
		}
		cleanText(scratch)
		return scratch
	}), nil
}

// clean reports whether e's text is kept as it is (cleanText changes nothing).
func clean(e *ivr.Event) bool {
	if !isTxt(e.Menu) || !isTxt(e.Entry) || !isTxt(e.Key) || !isTxt(e.Target) {
		return false
	}
	m := e.More
	if m == nil { // most events: none of the rarer fields
		return true
	}
	for _, s := range [...]string{m.Var, m.Request, m.Outcome, m.Reason, m.Cond, m.URL, m.Label, m.Text, string(m.Error)} {
		if !isTxt(s) {
			return false
		}
	}
	for _, s := range m.Vars {
		if !isTxt(s) {
			return false
		}
	}
	for _, s := range m.Numbers {
		if !isTxt(s) {
			return false
		}
	}
	for _, c := range m.Context {
		if !isTxt(c.Name) || !isTxt(c.Value) {
			return false
		}
	}
	return true
}

// isTxt reports whether txt(s) == s: at once for ASCII without NUL (nearly
// every string an event holds), through txt otherwise.
func isTxt(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == 0 || c >= utf8.RuneSelf {
			return txt(s) == s
		}
	}
	return true
}

// cleanText keeps e's text as the store keeps text (txt). e's More is
// copied before it changes (copies of an event share it).
func cleanText(e *ivr.Event) {
	for _, s := range []*string{&e.Menu, &e.Entry, &e.Key, &e.Target} {
		*s = txt(*s)
	}
	if e.More == nil {
		return
	}
	m := *e.More
	e.More = &m
	for _, s := range []*string{&m.Var, &m.Request, &m.Outcome, &m.Reason, &m.Cond, &m.URL, &m.Label, &m.Text} {
		*s = txt(*s)
	}
	m.Error = ivr.Failure(txt(string(m.Error)))
	m.Vars, m.Numbers = txts(m.Vars), txts(m.Numbers)
	for i, c := range m.Context {
		if txt(c.Name) != c.Name || txt(c.Value) != c.Value {
			m.Context = append([]ivr.ContextValue(nil), m.Context...)
			for j := i; j < len(m.Context); j++ {
				m.Context[j] = ivr.ContextValue{Name: txt(m.Context[j].Name), Value: txt(m.Context[j].Value)}
			}
			break
		}
	}
}

// txts is ss with txt applied, copied only when that changes something.
func txts(ss []string) []string {
	for i, s := range ss {
		if txt(s) != s {
			out := append([]string(nil), ss...)
			for j := i; j < len(out); j++ {
				out[j] = txt(out[j])
			}
			return out
		}
	}
	return ss
}

var errTypedRow = errors.New("not a typed events row")

func (typedEvents) decode(dst []Event, src []byte) ([]Event, error) {
	if len(src) == 0 || src[0] != typedRowVersion {
		return dst, fmt.Errorf("decode events: %w", errTypedRow)
	}
	p := 1
	runs, n := binary.Uvarint(src[p:])
	if n <= 0 || runs > uint64(len(src)) {
		return dst, fmt.Errorf("decode events: %w: revisions", errTypedRow)
	}
	p += n
	type run struct {
		n   uint64
		rev string
	}
	rs := make([]run, runs)
	for i := range rs {
		c, n := binary.Uvarint(src[p:])
		if n <= 0 {
			return dst, fmt.Errorf("decode events: %w: revision %d", errTypedRow, i)
		}
		p += n
		l, n := binary.Uvarint(src[p:])
		if n <= 0 || l > uint64(len(src)-p-n) {
			return dst, fmt.Errorf("decode events: %w: revision %d", errTypedRow, i)
		}
		p += n
		rs[i] = run{c, string(src[p : p+int(l)])}
		p += int(l)
	}
	evs, err := ivr.DecodeEvents(src[p:])
	if err != nil {
		return dst, fmt.Errorf("decode events: %w", err)
	}
	k := 0
	for i := range evs {
		for k < len(rs) && rs[k].n == 0 {
			k++
		}
		e := Event{Event: evs[i]}
		if k < len(rs) {
			e.Revision = rs[k].rev
			rs[k].n--
		}
		e.Node = eventNode(&e)
		dst = append(dst, e)
	}
	return dst, nil
}
