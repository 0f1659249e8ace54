package ivr

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// Limits on call state read from a URL query.
const (
	maxCount    = 99 // attempt, invalid and timeouts are capped here
	maxTrail    = 10 // back-trail entries kept (oldest dropped)
	maxRefLen   = 256
	maxIDLen    = 64
	maxInputLen = 64
)

// Query keys of the call state.
const (
	qAttempt  = "attempt"
	qInvalid  = "invalid"
	qTimeouts = "timeouts"
	qLang     = "lang"
	qTrail    = "trail"
	qMenu     = "menu"
	qRef      = "ref"
	qCall     = "call"    // whisper URLs: the caller's call (the agent leg has its own id)
	qRing     = "ring"    // sequential transfers: the index of the number ringing
	qStep     = "step"    // whisper and callback URLs: which answer this is
	qConfirm  = "confirm" // 1: a collect's read-back waits for 1 or 2; 2: after one silence
	qKeys     = "keys"    // 1: the menu takes keys only (speech was not understood)
	qLoops    = "loops"   // menus the call left because their tries ran out (the step limit)
)

var (
	idRE   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	langRE = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$`)
)

// state is the call state carried in action URL queries. Everything is
// optional; parseState never fails: missing or garbage fields are zero.
type state struct {
	Attempt  int      // 0 = not present (menu URL: render fresh)
	Invalid  int      // wrong inputs so far at this menu
	Timeouts int      // no-input timeouts so far at this menu
	Lang     string   // call language tag, "" = flow default
	Trail    []string // menus to go back to, oldest first
	Menu     string   // menu an action URL was issued from
	Ref      string   // action reference (transfer, voicemail)
	Vars     string   // the sealed variables (a Sealer token), "" = none
	Call     string   // whisper URLs: the caller's call id
	Ring     int      // sequential transfers: index of the number rung
	Step     string   // whisper/callback: "answer", "confirm", "enter"; "" = first request
	BadVars  bool     // a v= that cannot be a token: the step fails
	Confirm  int      // 0, or the read-back's answer is awaited (2: after a silence)
	Keys     bool     // keys only: a spoken answer was below min_confidence
	Loops    int      // the call's menus left because their tries ran out (Flow.StepLimit)
}

// parseCount reads a non-negative count; anything unreadable is 0 and large
// values are capped.
func parseCount(s string) int {
	if !allDigits(s) {
		return 0
	}
	if len(s) > 6 {
		return maxCount
	}
	n, _ := strconv.Atoi(s)
	return min(n, maxCount)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// parseState reads the call state from q tolerantly.
func parseState(q url.Values) state {
	var s state
	s.Attempt = parseCount(q.Get(qAttempt))
	s.Invalid = parseCount(q.Get(qInvalid))
	s.Timeouts = parseCount(q.Get(qTimeouts))
	s.Confirm = min(parseCount(q.Get(qConfirm)), 2)
	s.Keys = q.Get(qKeys) == "1"
	s.Loops = parseCount(q.Get(qLoops))
	if l := q.Get(qLang); len(l) <= 35 && langRE.MatchString(l) {
		s.Lang = l
	}
	if m := q.Get(qMenu); idRE.MatchString(m) {
		s.Menu = m
	}
	if r := q.Get(qRef); len(r) <= maxRefLen && printable(r) {
		s.Ref = r
	}
	if c := q.Get(qCall); len(c) <= maxRefLen && printable(c) {
		s.Call = c
	}
	s.Ring = parseCount(q.Get(qRing))
	if st := q.Get(qStep); idRE.MatchString(st) {
		s.Step = st
	}
	if v := q.Get(qVars); v != "" {
		if len(v) <= maxTokenLen && isToken(v) {
			s.Vars = v
		} else {
			s.BadVars = true
		}
	}
	if t := q.Get(qTrail); t != "" && len(t) <= (maxIDLen+1)*maxTrail*2 {
		for id := range strings.SplitSeq(t, ",") {
			if idRE.MatchString(id) {
				s.Trail = append(s.Trail, id)
			}
		}
		if len(s.Trail) > maxTrail {
			s.Trail = s.Trail[len(s.Trail)-maxTrail:]
		}
	}
	return s
}

// isToken reports whether s is base64url without padding.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '\uFFFD' {
			return false
		}
	}
	return true
}

// encode writes the state as a query in stable (sorted) key order, leaving
// out zero fields.
func (s state) encode() string {
	var buf [160]byte // most states fit: one allocation, for the string
	b := buf[:0]
	add := func(k, v string) {
		if len(b) > 0 {
			b = append(b, '&')
		}
		b = append(b, k...)
		b = append(b, '=')
		b = append(b, url.QueryEscape(v)...) // v itself when nothing needs escaping
	}
	// keys in sorted order: attempt, call, confirm, invalid, keys, lang, loops, menu, ref, ring, step, timeouts, trail, v
	if s.Attempt > 0 {
		add(qAttempt, strconv.Itoa(s.Attempt))
	}
	if s.Call != "" {
		add(qCall, s.Call)
	}
	if s.Confirm > 0 {
		add(qConfirm, strconv.Itoa(s.Confirm))
	}
	if s.Invalid > 0 {
		add(qInvalid, strconv.Itoa(s.Invalid))
	}
	if s.Keys {
		add(qKeys, "1")
	}
	if s.Lang != "" {
		add(qLang, s.Lang)
	}
	if s.Loops > 0 {
		add(qLoops, strconv.Itoa(s.Loops))
	}
	if s.Menu != "" {
		add(qMenu, s.Menu)
	}
	if s.Ref != "" {
		add(qRef, s.Ref)
	}
	if s.Ring > 0 {
		add(qRing, strconv.Itoa(s.Ring))
	}
	if s.Step != "" {
		add(qStep, s.Step)
	}
	if s.Timeouts > 0 {
		add(qTimeouts, strconv.Itoa(s.Timeouts))
	}
	for i, id := range s.Trail { // the ids joined by ",", escaped as one value
		if i == 0 {
			add(qTrail, id)
			continue
		}
		b = append(b, "%2C"...)
		b = append(b, url.QueryEscape(id)...)
	}
	if s.Vars != "" {
		add(qVars, s.Vars)
	}
	return string(b)
}

// push returns the trail with id appended (capped, oldest dropped).
func push(trail []string, id string) []string {
	out := make([]string, 0, len(trail)+1)
	out = append(out, trail...)
	out = append(out, id)
	if len(out) > maxTrail {
		out = out[len(out)-maxTrail:]
	}
	return out
}
