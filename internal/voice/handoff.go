package voice

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ivr-project/ivr/internal/auth"
	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/store"
)

// The hand-off's provider side: a callback the flow took is stored before
// the caller hears the thanks (a store that fails gives the fallback, so the
// caller reaches the call center instead of a lost request), and the legs
// of a callback's outbound call: the agent's answer URL whispers "Callback
// for <number>" and dials the caller; the dial's outcome and the outbound
// call's status callback close or fail the request.

// Paths of a callback's outbound call, under /{provider}/voice/.
const (
	CallbackAgentPath  = "callback/agent"  // the agent's answer URL
	CallbackDialedPath = "callback/dialed" // the outcome of dialing the caller
	CallbackStatusPath = "callback/status" // the outbound call's status callback
)

// storeCallback stores the callback the flow took in this step.
func storeCallback(ctx context.Context, db *store.DB, call ivr.Call, req *ivr.CallbackRequest) (store.Callback, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	cb, _, err := db.AddCallback(ctx, store.Callback{Provider: call.Provider, CallID: call.ID, Number: req.Number,
		To: e164(call.To), Context: req.Context})
	return cb, err
}

// e164 writes a provider's number as E.164 (Plivo sends "1555..." without
// the "+"); anything else is kept.
func e164(n string) string {
	if n != "" && n[0] != '+' && strings.Trim(n, "0123456789") == "" {
		return "+" + n
	}
	return n
}

// handoffNotices asks for the hand-off's webhook events on the events that
// report them: transfer.started and callback.requested (with the stored
// callback's id).
func handoffNotices(evs []store.Event, callbackID int64) {
	for i := range evs {
		e := &evs[i].Event
		switch e.Kind {
		case ivr.EventTransfer:
			evs[i].Notice = &store.Notice{Type: store.EventTransferStarted,
				Data: map[string]any{"numbers": e.Numbers(), "context": contextData(e.Context())}}
		case ivr.EventCallbackRequested:
			data := map[string]any{"number": "", "context": contextData(e.Context())}
			if len(e.Numbers()) > 0 {
				data["number"] = e.Numbers()[0]
			}
			if callbackID > 0 {
				data["callback_id"] = callbackID
			}
			evs[i].Notice = &store.Notice{Type: store.EventCallbackRequested, Data: data}
		}
	}
}

// contextData is a context as the event's JSON object.
func contextData(cs []ivr.ContextValue) map[string]string {
	m := make(map[string]string, len(cs))
	for _, c := range cs {
		m[c.Name] = c.Value
	}
	return m
}

// HandleCallbackLeg answers the requests of a callback's outbound call
// (CallbackAgentPath, CallbackDialedPath, CallbackStatusPath with ?id=N),
// signed by the provider like every webhook. from is IVR_CALLBACK_FROM
// ("" = the number the caller called).
func HandleCallbackLeg(p *Provider, db *store.DB, from string, urls auth.URLResolver, fail Failer) http.Handler {
	prefix := "/" + p.Provider + "/voice"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		params := auth.Params(r.Context())
		id, err := strconv.ParseInt(r.URL.Query().Get("id"), 10, 64)
		if err != nil || id <= 0 {
			fail.voice(w, r, "callback", fmt.Errorf("callback leg %s: no callback id", r.URL.Path))
			return
		}
		cb, err := db.GetCallback(r.Context(), id)
		if err != nil {
			fail.voice(w, r, "callback", fmt.Errorf("callback leg: %w", err))
			return
		}
		// The outbound call's id as the callback knows it: Twilio's CallSid;
		// Plivo's request_uuid rides in RequestUUID ("" = not checked).
		leg := params.Get(p.CallID)
		if p.Provider == "plivo" {
			leg = params.Get("RequestUUID")
		}
		var steps []ivr.Step
		switch chi.URLParam(r, "step") {
		case "agent":
			steps = agentSteps(cb, from)
		case "dialed":
			status := strings.ToLower(firstOf(params.Get, p.DialStatus...))
			reached := status == "completed" || status == "answered" || status == "answer"
			err = db.CallbackOutcome(r.Context(), id, leg, reached, "the caller did not answer ("+status+")")
			steps = []ivr.Step{ivr.Hangup{}}
			if !reached {
				steps = []ivr.Step{ivr.Say{Text: "The caller did not answer. The callback stays open. Goodbye."}, ivr.Hangup{}}
			}
		case "status":
			if status := strings.ToLower(params.Get("CallStatus")); status != "" && status != "completed" && status != "in-progress" {
				err = db.CallbackOutcome(r.Context(), id, leg, false, "the agent did not answer ("+status+")")
			}
		default:
			fail.voice(w, r, "not_found", fmt.Errorf("callback leg: unknown step %q", chi.URLParam(r, "step")))
			return
		}
		if err != nil {
			fail.voice(w, r, "callback", err)
			return
		}
		body, err := p.render(p.voiceBase(urls, r, prefix), steps)
		if err != nil {
			fail.voice(w, r, "render", err)
			return
		}
		h := w.Header()
		h["Content-Type"] = p.contentTypeHeader[:1:1]
		h["Cache-Control"] = p.noStoreHeader[:1:1]
		w.Write(body)
	})
}

// agentSteps is what the agent hears on answering a callback: "Callback
// for <number>", then the caller is dialed from from (or the number the
// caller called).
func agentSteps(cb store.Callback, from string) []ivr.Step {
	if cb.State != store.CallbackCalling {
		return []ivr.Step{ivr.Say{Text: "This callback is no longer open. Goodbye."}, ivr.Hangup{}}
	}
	if from == "" {
		from = cb.To
	}
	dialed := ivr.Target{Path: CallbackDialedPath, Query: "id=" + strconv.FormatInt(cb.ID, 10)}
	return []ivr.Step{
		ivr.Say{Text: "Callback for " + spelledNumber(cb.Number) + "."},
		ivr.Dial{Numbers: []string{cb.Number}, CallerID: from, TimeoutSeconds: 30, Action: &dialed},
	}
}

// spelledNumber reads a number digit by digit: "+1555" -> "1 5 5 5".
func spelledNumber(n string) string {
	var b strings.Builder
	for _, c := range n {
		if c >= '0' && c <= '9' {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteRune(c)
		}
	}
	return b.String()
}
