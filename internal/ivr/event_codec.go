package ivr

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// The stored form of a list of events (one request's, or one event), made
// by AppendEvents and read by DecodeEvents. Version 1:
//
//	blob   = version:byte(1) count:uvarint event*
//	event  = length:uvarint field*        (length: bytes of its fields)
//	field  = key:uvarint value            key = tag<<1 | type
//	value  = varint (type 0, zig-zag)  |  length:uvarint bytes (type 1)
//
// Field tags (never reused; a reader skips tags it does not know, so new
// fields need no new version):
//
//	1 Kind   2 At   3 Menu   4 Heard   5 Entry   6 Digits   7 Key   8 Target
//	9 Var   10 Vars (one field per name)   11 Numbers (one per number)
//	12 Request   13 Outcome   14 Status   15 Duration (ns)   16 Reason
//	17 Branch   18 Cond   19 URL   20 Label   21 Text
//	22 Context (one field per pair, in order: name length:uvarint, name, value)
//	23 Error (its name)   25 Confidence (IEEE 754 bits)   (24: unused)
//
// Zero values are left out. At is kept to the microsecond (as the stores
// keep times): microseconds since the Unix epoch, as the difference from
// the previous event's At in the blob (the first from 0): a request's
// events share their time, so after the first it takes a byte. A zero At
// is left out (and does not move the base). Times decode in UTC.
// Kinds and HeardKinds are their numbers: a kind this version
// does not know decodes as that number (its String is "kind(N)").

// eventsVersion is the first byte of an encoded list of events.
const eventsVersion = 1

const (
	tagKind = iota + 1
	tagAt
	tagMenu
	tagHeard
	tagEntry
	tagDigits
	tagKey
	tagTarget
	tagVar
	tagVars
	tagNumbers
	tagRequest
	tagOutcome
	tagStatus
	tagDuration
	tagReason
	tagBranch
	tagCond
	tagURL
	tagLabel
	tagText
	tagContext
	tagError
	_ // 24: unused
	tagConfidence
)

const (
	typeVarint = 0
	typeBytes  = 1
)

// AppendEvents appends the stored form of evs to dst (see above) and
// returns it; with a dst of enough capacity it does not allocate.
func AppendEvents(dst []byte, evs []Event) []byte {
	return AppendEventsOf(dst, len(evs), func(i int) *Event { return &evs[i] })
}

// AppendEventsOf is AppendEvents of the n events ev returns, in order
// (events held in the caller's own type, without copying them).
func AppendEventsOf(dst []byte, n int, ev func(i int) *Event) []byte {
	dst = append(dst, eventsVersion)
	dst = binary.AppendUvarint(dst, uint64(n))
	var base int64
	for i := range n {
		// Encode the event after a 1-byte length and move it if the
		// length takes more (events are rarely 128 bytes long).
		start := len(dst)
		dst = append(dst, 0)
		dst = appendEvent(dst, ev(i), &base)
		n := len(dst) - start - 1
		if n < 0x80 {
			dst[start] = byte(n)
			continue
		}
		var lb [binary.MaxVarintLen64]byte
		ln := binary.PutUvarint(lb[:], uint64(n))
		dst = slices.Insert(dst, start+1, lb[1:ln]...)
		copy(dst[start:], lb[:ln])
	}
	return dst
}

// EncodeEvents is AppendEvents into a new slice.
func EncodeEvents(evs []Event) []byte {
	return AppendEvents(make([]byte, 0, 2+48*len(evs)), evs)
}

func appendEvent(b []byte, e *Event, base *int64) []byte {
	b = putInt(b, tagKind, int64(e.Kind))
	if !e.At.IsZero() {
		us := e.At.UnixMicro()
		b = binary.AppendUvarint(b, tagAt<<1|typeVarint)
		b = binary.AppendVarint(b, us-*base)
		*base = us
	}
	b = putStr(b, tagMenu, e.Menu)
	b = putInt(b, tagHeard, int64(e.Heard))
	b = putStr(b, tagEntry, e.Entry)
	b = putInt(b, tagDigits, int64(e.Digits))
	b = putStr(b, tagKey, e.Key)
	b = putStr(b, tagTarget, e.Target)
	b = putStr(b, tagVar, e.Var())
	for _, v := range e.Vars() {
		b = putBytes(b, tagVars, v)
	}
	for _, n := range e.Numbers() {
		b = putBytes(b, tagNumbers, n)
	}
	b = putStr(b, tagRequest, e.Request())
	b = putStr(b, tagOutcome, e.Outcome())
	b = putInt(b, tagStatus, int64(e.Status()))
	b = putInt(b, tagDuration, int64(e.Duration()))
	b = putStr(b, tagReason, e.Reason())
	b = putInt(b, tagBranch, int64(e.Branch()))
	b = putStr(b, tagCond, e.Cond())
	b = putStr(b, tagURL, e.URL())
	b = putStr(b, tagLabel, e.Label())
	b = putStr(b, tagText, e.Text())
	if len(e.Context()) > 0 {
		b = appendContext(b, e.Context())
	}
	b = putStr(b, tagError, string(e.Failure()))
	if e.Confidence != 0 {
		b = putInt(b, tagConfidence, int64(math.Float64bits(e.Confidence)))
	}
	return b
}

// appendContext writes the pairs in order.
func appendContext(b []byte, ctx []ContextValue) []byte {
	for _, c := range ctx {
		var kl [binary.MaxVarintLen64]byte
		n := binary.PutUvarint(kl[:], uint64(len(c.Name)))
		b = binary.AppendUvarint(b, tagContext<<1|typeBytes)
		b = binary.AppendUvarint(b, uint64(n+len(c.Name)+len(c.Value)))
		b = append(append(append(b, kl[:n]...), c.Name...), c.Value...)
	}
	return b
}

func putInt(b []byte, tag uint64, v int64) []byte {
	if v == 0 {
		return b
	}
	b = binary.AppendUvarint(b, tag<<1|typeVarint)
	return binary.AppendVarint(b, v)
}

func putStr(b []byte, tag uint64, s string) []byte {
	if s == "" {
		return b
	}
	return putBytes(b, tag, s)
}

// putBytes writes s even when empty (a repeated field keeps its place).
func putBytes(b []byte, tag uint64, s string) []byte {
	b = binary.AppendUvarint(b, tag<<1|typeBytes)
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// errBadEvents is the error of a blob DecodeEvents cannot read.
var errBadEvents = errors.New("not a stored list of events")

// DecodeEvents reads a list of events stored by AppendEvents. It never
// panics on any input (stored bytes may be damaged): an error says why it
// cannot read b. The strings share one copy of b.
func DecodeEvents(b []byte) ([]Event, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty", errBadEvents)
	}
	if b[0] != eventsVersion {
		return nil, fmt.Errorf("%w: version %d (this version reads %d)", errBadEvents, b[0], eventsVersion)
	}
	s := string(b) // one allocation for every string
	p := 1
	count, n := binary.Uvarint(b[p:])
	if n <= 0 {
		return nil, fmt.Errorf("%w: no count", errBadEvents)
	}
	p += n
	if count > uint64(len(b)-p) { // every event takes at least a byte
		return nil, fmt.Errorf("%w: %d events in %d bytes", errBadEvents, count, len(b)-p)
	}
	evs := make([]Event, count)
	var base int64
	for i := range evs {
		size, n := binary.Uvarint(b[p:])
		if n <= 0 || size > uint64(len(b)-p-n) {
			return nil, fmt.Errorf("%w: event %d is cut short", errBadEvents, i)
		}
		p += n
		if err := decodeEvent(s[p:p+int(size)], &evs[i], &base); err != nil {
			return nil, fmt.Errorf("%w: event %d: %w", errBadEvents, i, err)
		}
		p += int(size)
	}
	if p != len(b) {
		return nil, fmt.Errorf("%w: %d bytes after the events", errBadEvents, len(b)-p)
	}
	return evs, nil
}

func decodeEvent(s string, e *Event, base *int64) error {
	for len(s) > 0 {
		key, n := uvarint(s)
		if n <= 0 {
			return errors.New("bad field key")
		}
		s = s[n:]
		tag := key >> 1
		if key&1 == typeVarint {
			v, n := varint(s)
			if n <= 0 {
				return fmt.Errorf("field %d: bad number", tag)
			}
			s = s[n:]
			setInt(e, tag, v, base)
			continue
		}
		l, n := uvarint(s)
		if n <= 0 || l > uint64(len(s)-n) {
			return fmt.Errorf("field %d: cut short", tag)
		}
		v := s[n : n+int(l)]
		s = s[n+int(l):]
		if err := setStr(e, tag, v); err != nil {
			return err
		}
	}
	return nil
}

func setInt(e *Event, tag uint64, v int64, base *int64) {
	switch tag {
	case tagKind:
		e.Kind = EventKind(v)
	case tagAt:
		*base += v
		e.At = time.UnixMicro(*base).UTC()
	case tagHeard:
		e.Heard = HeardKind(v)
	case tagDigits:
		e.Digits = int(v)
	case tagStatus:
		if v != 0 {
			e.Edit().Status = int(v)
		}
	case tagDuration:
		if v != 0 {
			e.Edit().Duration = time.Duration(v)
		}
	case tagBranch:
		if v != 0 {
			e.Edit().Branch = int(v)
		}
	case tagConfidence:
		e.Confidence = math.Float64frombits(uint64(v))
	}
}

func setStr(e *Event, tag uint64, v string) error {
	switch tag {
	case tagMenu:
		e.Menu = v
	case tagEntry:
		e.Entry = v
	case tagKey:
		e.Key = v
	case tagTarget:
		e.Target = v
	case tagVar:
		if v != "" {
			e.Edit().Var = v
		}
	case tagVars:
		m := e.Edit()
		m.Vars = append(m.Vars, v)
	case tagNumbers:
		m := e.Edit()
		m.Numbers = append(m.Numbers, v)
	case tagRequest:
		if v != "" {
			e.Edit().Request = v
		}
	case tagOutcome:
		if v != "" {
			e.Edit().Outcome = v
		}
	case tagReason:
		if v != "" {
			e.Edit().Reason = v
		}
	case tagCond:
		if v != "" {
			e.Edit().Cond = v
		}
	case tagURL:
		if v != "" {
			e.Edit().URL = v
		}
	case tagLabel:
		if v != "" {
			e.Edit().Label = v
		}
	case tagText:
		if v != "" {
			e.Edit().Text = v
		}
	case tagError:
		if v != "" {
			e.Edit().Error = Failure(v)
		}
	case tagContext:
		kl, n := uvarint(v)
		if n <= 0 || kl > uint64(len(v)-n) {
			return errors.New("context: bad name")
		}
		m := e.Edit()
		m.Context = append(m.Context, ContextValue{Name: v[n : n+int(kl)], Value: v[n+int(kl):]})
	}
	return nil
}

// uvarint is binary.Uvarint on a string (no copy).
func uvarint(s string) (uint64, int) {
	var x uint64
	var sh uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		c := s[i]
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				return 0, -(i + 1)
			}
			return x | uint64(c)<<sh, i + 1
		}
		x |= uint64(c&0x7f) << sh
		sh += 7
	}
	return 0, 0
}

// varint is binary.Varint (zig-zag) on a string.
func varint(s string) (int64, int) {
	ux, n := uvarint(s)
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x, n
}
