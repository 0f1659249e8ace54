package admin

import (
	"context"
	"net/http"
	"strings"

	"github.com/ivr-project/ivr/internal/voice"
)

// "Try the draft": the editor's keypad plays the draft it sends with each
// step instead of the live flow. The draft rides in the in-process
// request's context (set only here, never from a request), the voice
// handler plays it, and records nothing for it.

// tryDraft checks tr's draft and returns ctx carrying it. It answers the
// request itself (done) when the draft does not pass check, and for the
// hang-up of a draft call, which has no record to close.
func (a *Admin) tryDraft(ctx context.Context, w http.ResponseWriter, tr TryRequest) (context.Context, bool) {
	f, err := a.d.Publisher.Check([]byte(tr.Draft))
	if err != nil {
		var lines []string
		for _, p := range problemsOf(err) {
			lines = append(lines, p.Text)
		}
		apiFail(w, failure(kindInvalid, "the draft does not pass check; fix it first:\n"+strings.Join(lines, "\n")))
		return ctx, true
	}
	if tr.Hangup {
		writeJSONLine(w, http.StatusOK, TryResponse{Provider: tr.Provider, CallID: tr.CallID, Status: http.StatusOK,
			End: &tryEnd{Kind: "end", Text: "Hung up (calls on the draft are not recorded)."}})
		return ctx, true
	}
	return voice.WithDraft(ctx, f), false
}
