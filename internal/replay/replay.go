// Package replay plays the inputs of recorded calls through two flows (the
// live one and a draft) with the engine the live calls use (ivr.Flow.Step),
// as the provider would have sent them: each answer is rendered as the
// server sends it and read back with the provider XML reader `ivr simulate`
// and the admin Try page use (internal/xml). What a call's events give back:
//   - keys ("1", "42") and speech ("speech: billing") in menus;
//   - silences ("timeout");
//   - a collect's entry, stored as its length only ("6 digits"): replayed
//     as that many zeros, so the same length rules apply;
//   - transfer outcomes ("dial no-answer") and voicemails left;
//   - lookups: each fetch replays the outcome the call recorded, in order
//     (ok, or failed with the error its on_error saw: not_found, timeout,
//     ...); the values it saved are never stored, so they replay empty, and
//     a fetch the call never made replays as failed (unavailable);
//   - a spoken answer's confidence, when the provider reported one, so a
//     menu's min_confidence judges it again.
//
// Both flows get the same inputs and the same lookup outcomes, so a path
// that differs comes from the change; a switch on looked-up values cannot
// be told apart, and Faithful says whether the live flow's replay took the
// path the call really took.
package replay

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/seal"
	"github.com/ivr-project/ivr/internal/store"
	"github.com/ivr-project/ivr/internal/xml"
)

// maxReplaySteps bounds one replayed call (redirect loops).
const maxReplaySteps = 200

// Call is one call's path through the live flow and the draft.
type Call struct {
	Provider   string   `json:"provider"`
	CallID     string   `json:"call_id"`
	StartedAt  string   `json:"started_at"`
	LivePath   []string `json:"live_path"`
	DraftPath  []string `json:"draft_path"`
	DivergesAt int      `json:"diverges_at"` // index of the first step that differs
	// Faithful: the live replay entered the menus the recorded call entered.
	Faithful bool `json:"faithful"`
	// Variant is the split variant the recorded call took ("" = none); a
	// replay takes the same one (it is the call id's).
	Variant string `json:"variant,omitempty"`
}

// recordedVariant is the first split variant in a call's events.
func recordedVariant(c store.Call) string {
	for _, e := range c.Events {
		if e.Kind == ivr.EventVariant {
			return e.Label()
		}
	}
	return ""
}

// input is one thing the caller (or the provider) did.
type input struct {
	kind       string // keys, speech, silence, dial, recording
	value      string
	confidence float64 // speech: the recognizer's confidence; 0 = none reported
}

// outcome is a recorded lookup's result: ok, or the failure on_error saw
// ("" = recorded before failures were: unavailable).
type outcome struct {
	ok   bool
	fail ivr.Failure
}

// callInputs reads a recorded call's inputs and lookup outcomes (by
// request name, in order) from its events, and the menus it entered.
func callInputs(c store.Call) (ins []input, lookups map[string][]outcome, entered []string) {
	lookups = map[string][]outcome{}
	legacy, legacyOK := "", false // the last event: a lookup as older calls recorded it
	for i := range c.Events {
		e := &c.Events[i].Event
		if e.Kind == ivr.EventFetch {
			// Older calls recorded a lookup twice: the server's details
			// (without on_error) then the engine's fetch ("ok", or "failed"
			// after a failed lookup). Count that lookup once.
			ok, detailed := e.FetchOK(), e.Outcome() != ""
			if !detailed && e.Request() == legacy && (ok || !legacyOK) {
				legacy = ""
				continue
			}
			lookups[e.Request()] = append(lookups[e.Request()], outcome{ok: ok, fail: e.Failure()})
			legacy, legacyOK = "", false
			if detailed && e.Reason() == "" {
				legacy, legacyOK = e.Request(), ok
			}
			continue
		}
		legacy = ""
		if e.Kind == ivr.EventEnter {
			entered = append(entered, e.Menu)
		}
		if in, ok := heardInput(e); ok {
			ins = append(ins, in)
		}
	}
	return ins, lookups, entered
}

// heardInput is what the caller (or the provider) did for e, as replay
// sends it again; false when e has no input.
func heardInput(e *ivr.Event) (input, bool) {
	switch e.Heard {
	case ivr.HeardNothing:
		return input{}, false
	case ivr.HeardSilence:
		return input{kind: "silence"}, true
	case ivr.HeardDial:
		return input{kind: "dial", value: e.Entry}, true
	case ivr.HeardRecording:
		return input{kind: "recording", value: "https://replay.invalid/recording"}, true
	case ivr.HeardSpokenDigits:
		return input{kind: "speech", value: zeros(e.Digits), confidence: e.Confidence}, true
	case ivr.HeardSpeech:
		return input{kind: "speech", value: e.Entry, confidence: e.Confidence}, true
	case ivr.HeardUnsureSpeech: // below min_confidence: no words kept
		return input{kind: "speech", value: "…", confidence: e.Confidence}, true
	case ivr.HeardSpeechIgnored, ivr.HeardSpeechNoDigits: // speech without usable words
		return input{kind: "speech", value: "…"}, true
	case ivr.HeardDigits:
		return input{kind: "keys", value: zeros(e.Digits)}, true
	case ivr.HeardBadKeys:
		return input{kind: "keys", value: "?"}, true
	}
	return input{kind: "keys", value: e.Input()}, true
}

// zeros stands for a collect's entry, of which only the length is stored.
func zeros(n int) string {
	if n < 0 || n > 64 {
		return "0"
	}
	return strings.Repeat("0", n)
}

// Run plays each call through live and draft and returns the calls
// whose paths differ, and how many calls' live replay did not enter the
// menus the call really entered (recorded on another flow, or steered by
// looked-up values).
//
// It stops between calls once ctx is done (the client left): the caller
// then checks ctx.Err() and answers nothing.
func Run(ctx context.Context, live, draft *ivr.Flow, calls []store.Call) (changed []Call, unfaithful int) {
	changed = []Call{}
	// The replayed calls' variables are sealed with a key of this replay's
	// own: the tokens never leave it. On failure (no randomness) a flow
	// that keeps variables replays as an error.
	var sealer ivr.Sealer
	if box, err := seal.NewRandom(); err == nil {
		sealer = box
	}
	for _, c := range calls {
		if ctx.Err() != nil {
			break
		}
		ins, lookups, entered := callInputs(c)
		lp := replayOne(live, sealer, c, ins, lookups)
		dp := replayOne(draft, sealer, c, ins, lookups)
		faithful := sameMenus(lp, entered)
		if !faithful {
			unfaithful++
		}
		at := firstDiff(lp, dp)
		if at < 0 {
			continue
		}
		changed = append(changed, Call{Provider: c.Provider, CallID: c.CallID, StartedAt: c.StartedAt.UTC().Format("2006-01-02T15:04:05Z"),
			LivePath: lp, DraftPath: dp, DivergesAt: at, Faithful: faithful, Variant: recordedVariant(c)})
	}
	return changed, unfaithful
}

func firstDiff(a, b []string) int {
	for i := range max(len(a), len(b)) {
		if i >= len(a) || i >= len(b) || a[i] != b[i] {
			return i
		}
	}
	return -1
}

// sameMenus: the path's menus are the recorded entered menus.
func sameMenus(path, entered []string) bool {
	var menus []string
	for _, p := range path {
		if !strings.HasPrefix(p, "(") && !strings.Contains(p, ": ") {
			menus = append(menus, p)
		}
	}
	return firstDiff(menus, entered) < 0
}

// replayOne plays one call through f and returns its path: the menus
// entered, wrong entries ("main: invalid"), read-backs answered
// ("account: confirmed", "account: confirm rejected"), the repeat key
// ("main: repeat_key"), transfers, voicemails and hang-ups in parentheses
// ("(hangup)", "(transfer +1555...)").
func replayOne(f *ivr.Flow, sealer ivr.Sealer, c store.Call, ins []input, recorded map[string][]outcome) []string {
	outcomes := map[string][]outcome{}
	for k, v := range recorded {
		outcomes[k] = append([]outcome(nil), v...)
	}
	path := []string{}
	req := ivr.Request{Call: ivr.Call{Provider: c.Provider, ID: c.CallID, From: c.From, To: c.To, Now: c.StartedAt}, Sealer: sealer}
	for range maxReplaySteps {
		res, err := stepWithLookups(f, req, outcomes)
		if err != nil {
			return append(path, "error: "+err.Error())
		}
		path = appendPath(path, res.Events)
		next, ok := nextRequest(req, res.Steps, &ins)
		if !ok {
			return path
		}
		req = next
	}
	return append(path, "stopped after "+strconv.Itoa(maxReplaySteps)+" steps")
}

// stepWithLookups runs Step, answering the lookups it asks for with the
// recorded outcomes.
func stepWithLookups(f *ivr.Flow, req ivr.Request, outcomes map[string][]outcome) (ivr.Result, error) {
	req.Lookups = nil
	for range ivr.MaxFetchesPerStep + 1 {
		res, err := f.Step(req)
		if err != nil || res.Need == nil {
			return res, err
		}
		name := res.Need.Request
		var o outcome
		if q := outcomes[name]; len(q) > 0 {
			o, outcomes[name] = q[0], q[1:]
		}
		// Replay has no secrets: a lookup it cannot build (Unsent) takes
		// the recorded outcome too, as every fetch recorded one.
		lr := ivr.LookupResult{Request: name, OK: o.ok, Failure: o.fail}
		if o.ok {
			lr.Values = map[string]string{}
			for v := range res.Need.Save {
				lr.Values[v] = ""
			}
		}
		req.Lookups = append(req.Lookups, lr)
	}
	return f.Step(req)
}

func appendPath(path []string, evs []ivr.Event) []string {
	for i := range evs {
		e := &evs[i]
		switch e.Kind {
		case ivr.EventEnter:
			path = append(path, e.Menu)
		case ivr.EventInvalid, ivr.EventMaxFailures, ivr.EventMaxTimeouts, ivr.EventClosed,
			ivr.EventConfirmed, ivr.EventConfirmRejected, ivr.EventRepeatKey:
			path = append(path, strings.TrimPrefix(e.Menu+": ", ": ")+e.Action())
		case ivr.EventTransfer, ivr.EventVoicemail, ivr.EventHangup, ivr.EventNoAnswer:
			path = append(path, "("+strings.ReplaceAll(e.Action(), "_", " ")+")")
		}
	}
	return path
}

// nextRequest is the provider's next request after steps, consuming the
// input it needs; false when the call ends there (or the caller did
// nothing more). The steps are read as the provider reads them: rendered
// as the server answers the call's provider, then played with the reader
// `ivr simulate` and the Try page use (xml.NextTurn). Steps the server
// cannot render end the call, as its fallback would.
func nextRequest(prev ivr.Request, steps []ivr.Step, ins *[]input) (ivr.Request, bool) {
	req := ivr.Request{Call: prev.Call, Sealer: prev.Sealer}
	t, prefix, ok := readAnswer(prev.Call.Provider, steps)
	if !ok {
		return req, false
	}
	var in input
	switch t.Stop.(type) {
	case xml.Gather:
		if in, ok = take(ins, "keys", "speech", "silence"); !ok {
			return req, false // hung up while the menu waited
		}
		to, ok := xml.Next(t.Stop)
		switch in.kind {
		case "keys":
			req.Input.Digits = in.value
		case "speech":
			req.Input.Speech = in.value
			req.Input.Confidence, req.Input.HasConfidence = in.confidence, in.confidence > 0
		case "silence":
			to, ok = t.Silence()
		}
		return req, ok && target(&req, prefix, to)
	case xml.Redirect:
		to, _ := xml.Next(t.Stop)
		return req, target(&req, prefix, to)
	case xml.Dial:
		in.kind = "dial"
	case xml.Record:
		in.kind = "recording"
	default: // a hang-up, or the end of the answer
		return req, false
	}
	to, ok := xml.Next(t.Stop) // a dial without an action ends the call
	if !ok {
		return req, false
	}
	if in, ok = take(ins, in.kind); !ok {
		return req, false
	}
	if in.kind == "dial" {
		req.DialStatus = in.value
	} else {
		req.RecordingURL = in.value
	}
	return req, target(&req, prefix, to)
}

// readAnswer renders steps as the server answers provider (Plivo XML for
// "plivo", else TwiML) and reads the answer's first turn; prefix is the
// voice routes' path; false when the steps do not render.
func readAnswer(provider string, steps []ivr.Step) (t xml.Turn, prefix string, ok bool) {
	render := xml.Twilio
	if provider != xml.ProviderPlivo {
		provider = xml.ProviderTwilio
	} else {
		render = xml.Plivo
	}
	prefix = "/" + provider + "/voice"
	doc, err := render(replayOrigin+prefix+"/", steps)
	if err != nil {
		return t, prefix, false
	}
	verbs, err := xml.Parse(provider, doc)
	if err != nil {
		return t, prefix, false
	}
	return xml.NextTurn(verbs), prefix, true
}

// replayOrigin is the origin of the URLs in the answers replay reads.
const replayOrigin = "https://replay.invalid"

// take consumes the next input when it is of one of kinds.
func take(ins *[]input, kinds ...string) (input, bool) {
	if len(*ins) == 0 {
		return input{}, false
	}
	in := (*ins)[0]
	if !slices.Contains(kinds, in.kind) {
		return input{}, false
	}
	*ins = (*ins)[1:]
	return in, true
}

// target points req at the answer's URL to, as the voice handler reads a
// request's path (under prefix) and query; false when to is not one of the
// server's own URLs.
func target(req *ivr.Request, prefix string, to xml.Request) bool {
	u, err := url.Parse(to.URL)
	if err != nil || u.Scheme+"://"+u.Host != replayOrigin || !strings.HasPrefix(u.Path, prefix) {
		return false
	}
	req.Path = strings.TrimPrefix(strings.TrimPrefix(u.Path, prefix), "/")
	req.Query = u.Query()
	return true
}
