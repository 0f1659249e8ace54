package xml

import "strings"

// What the phone does next: the one interpreter of a document read by
// Parse, shared by the three places that play provider XML from the
// outside: `ivr simulate` (the provider's side of a whole call), the admin
// "Try it" page (one step at a time) and flow replay (recorded calls'
// inputs through the answers the server would give). Each decides what the
// caller does (keys, speech, silence, a dial's outcome); this file says,
// the same way for Twilio and Plivo, what the phone plays, where it stops
// to wait or leaves the document, and which request follows.

// Turn is one stretch of a document as the phone plays it: what the caller
// hears, then the verb that waits for the caller or leaves the document.
type Turn struct {
	// Heard is what plays first, in order: Say, Play, Pause, DTMF and
	// Unknown verbs, a gather's own prompts included (they play before it
	// listens).
	Heard []Verb
	// Stop ends the turn: a Gather, Dial, Record, Redirect or Hangup; nil
	// when the document ran out (the provider then hangs up).
	Stop Verb
	// Rest is what follows Stop in the document. It plays when the call
	// carries on here: a gather that got no input, a dial or recording
	// whose request is not followed (or not made), a scheduled hang-up.
	Rest []Verb
}

// NextTurn plays verbs up to the first one that waits for the caller or
// leaves the document.
func NextTurn(verbs []Verb) Turn {
	var t Turn
	for i, v := range verbs {
		switch v := v.(type) {
		case Gather:
			t.Heard = append(t.Heard, v.Prompts...)
			t.Stop, t.Rest = v, verbs[i+1:]
			return t
		case Dial, Record, Redirect, Hangup:
			t.Stop, t.Rest = v, verbs[i+1:]
			return t
		default:
			t.Heard = append(t.Heard, v)
		}
	}
	return t
}

// Request is a request the provider makes for the next document.
type Request struct {
	URL    string // as written; "" = the current document's URL (Twilio)
	Method string // "GET" or "POST"
	// Follow: the answer is played next. When false (Plivo
	// redirect="false") the provider sends the request, ignores its answer
	// and the current document carries on.
	Follow bool
}

// Next is the request the provider makes when v is done (the caller's
// input, the dial's outcome or the recording goes with it); false when v
// sends none: a Plivo gather or record without an action, a dial without
// an action, a hang-up, a prompt.
func Next(v Verb) (Request, bool) {
	switch v := v.(type) {
	case Gather:
		return Request{URL: v.Action, Method: v.Method, Follow: v.Follow}, v.Post
	case Dial:
		return Request{URL: v.Action, Method: v.Method, Follow: v.Follow}, v.Action != ""
	case Record:
		return Request{URL: v.Action, Method: v.Method, Follow: v.Follow}, v.Post
	case Redirect:
		return Request{URL: v.URL, Method: v.Method, Follow: true}, true
	}
	return Request{}, false
}

// Silence is the request that follows when the caller gives t's gather no
// input: the gather's action when it asks to hear of empty results
// (Twilio actionOnEmptyResult), else the Redirect that ends the next turn
// of the rest (the menu asking again). False when t does not end in a
// gather, or silence leads to no request (the rest hangs up or runs out).
func (t Turn) Silence() (Request, bool) {
	g, ok := t.Stop.(Gather)
	if !ok {
		return Request{}, false
	}
	if g.OnEmpty {
		return Next(g)
	}
	if r, ok := NextTurn(t.Rest).Stop.(Redirect); ok {
		return Next(r)
	}
	return Request{}, false
}

// Press is what the provider sends for keys pressed at g: the digits up to
// g's finish key (and the key that ended the input, "" if none) or up to
// g's digit count.
func (g Gather) Press(keys string) (digits, finished string) {
	for i := 0; i < len(keys); i++ {
		if g.FinishOnKey != "" && strings.IndexByte(g.FinishOnKey, keys[i]) >= 0 {
			return keys[:i], keys[i : i+1]
		}
		if g.NumDigits > 0 && i+1 == g.NumDigits {
			return keys[:i+1], ""
		}
	}
	return keys, ""
}

// Valid reports whether g accepts digits: every key among its valid digits
// (Plivo validDigits; any key when it names none). Otherwise the provider
// treats the input as none.
func (g Gather) Valid(digits string) bool {
	return g.ValidDigits == "" || strings.Trim(digits, g.ValidDigits) == ""
}
