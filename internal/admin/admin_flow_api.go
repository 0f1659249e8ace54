package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/ivr-project/ivr/internal/clip"
	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/publish"
	"github.com/ivr-project/ivr/internal/replay"
	"github.com/ivr-project/ivr/internal/store"
)

// The flow publishing API (admin token): the live flow, publish with a
// base revision (409 when stale, 422 with check's problems), the history,
// a diff between any two revisions, rollback, and a check as you type.

// maxFlowBody caps a request carrying a flow's text: the flow parser's
// 1 MiB, JSON-escaped (up to 6 bytes a byte for control characters is not
// a flow anyone writes; twice the size is room for quotes and newlines).
const maxFlowBody = 2*ivr.MaxFileSize + 64<<10

// flowProblem is one of check's problems as the API reports it.
type flowProblem struct {
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Message string `json:"message"`
	Text    string `json:"text"` // "file:line:col: message", as `ivr check` prints it
}

func problemsOf(err error) []flowProblem {
	var ps ivr.Problems
	if !errors.As(err, &ps) {
		return []flowProblem{{Message: err.Error(), Text: err.Error()}}
	}
	out := make([]flowProblem, 0, len(ps))
	for _, p := range ps {
		out = append(out, flowProblem{Line: p.Line, Column: p.Col, Message: p.Msg, Text: p.String()})
	}
	return out
}

// decodeFlowBody reads a JSON body of at most maxFlowBody into v; it
// answers 413 or 400 itself and returns false then. A text over the
// parser's limit is refused with 413 too.
func decodeFlowBody(w http.ResponseWriter, r *http.Request, v any, text func() string) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFlowBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			apiFail(w, failure(kindTooLarge, fmt.Sprintf("the request is over %d bytes: a flow may be at most %d bytes", maxFlowBody, ivr.MaxFileSize)))
			return false
		}
		apiFail(w, failure(kindBadRequest, "bad JSON body: "+err.Error()))
		return false
	}
	if n := len(text()); n > ivr.MaxFileSize {
		apiFail(w, failure(kindTooLarge, fmt.Sprintf("the flow is %d bytes, more than the %d allowed: split long prompts into recordings", n, ivr.MaxFileSize)))
		return false
	}
	return true
}

// flowError is a publishing error for fail: a flow that does not pass check
// (422, its problems), a stale base (409), an unknown revision (404), else
// the store's failure (503).
func flowError(err error) error {
	var ps ivr.Problems
	switch {
	case errors.As(err, &ps):
		return err
	case errors.Is(err, store.ErrConflict):
		return failure(kindConflict, "someone published the flow since this draft was opened: "+
			"reload the live flow, apply your change to it, and publish again ("+err.Error()+")")
	case errors.Is(err, store.ErrNotFound):
		return failure(kindNotFound, "no such flow revision")
	}
	return storeFailure("flow revisions", err)
}

// HandleAPIFlow serves GET /admin/api/flow: the live revision and its text.
func HandleAPIFlow(pub *publish.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rev, err := pub.Live(r.Context())
		if err != nil {
			apiFail(w, flowError(err))
			return
		}
		writeJSON(w, http.StatusOK, struct {
			Revision int64  `json:"revision"`
			Text     string `json:"text"`
			File     string `json:"file,omitempty"` // file mode: the flow file
		}{rev.ID, rev.Text, pub.Source().Path()})
	})
}

// publishRequest is POST /admin/api/flow's body.
type publishRequest struct {
	Text         string `json:"text"`
	BaseRevision int64  `json:"base_revision"`
	Note         string `json:"note"`
	Author       string `json:"author"` // who, as they typed it; "" = "admin"
}

// HandleAPIPublish serves POST /admin/api/flow.
func HandleAPIPublish(pub *publish.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req publishRequest
		if !decodeFlowBody(w, r, &req, func() string { return req.Text }) {
			return
		}
		rev, err := pub.Publish(r.Context(), req.BaseRevision, []byte(req.Text), author(req.Author), clip.Line(req.Note, 500))
		if err != nil {
			apiFail(w, flowError(err))
			return
		}
		writeJSON(w, http.StatusOK, struct {
			Revision int64 `json:"revision"`
		}{rev.ID})
	})
}

func author(s string) string {
	if s = clip.Line(s, 80); s == "" {
		return "admin"
	}
	return s
}

// HandleAPIRollback serves POST /admin/api/flow/rollback {"revision": N}.
func HandleAPIRollback(pub *publish.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Revision int64  `json:"revision"`
			Author   string `json:"author"`
		}
		if !decodeFlowBody(w, r, &req, func() string { return "" }) {
			return
		}
		rev, err := pub.Rollback(r.Context(), req.Revision, author(req.Author))
		if err != nil {
			apiFail(w, flowError(err))
			return
		}
		writeJSON(w, http.StatusOK, struct {
			Revision int64 `json:"revision"`
		}{rev.ID})
	})
}

// HandleAPIRevisions serves GET /admin/api/flow/revisions (newest first).
func HandleAPIRevisions(db *store.DB) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		revs, err := db.FlowRevisions(r.Context(), 200)
		if err != nil {
			apiFail(w, flowError(err))
			return
		}
		writeJSON(w, http.StatusOK, struct {
			Revisions []store.FlowRevision `json:"revisions"`
		}{revs})
	})
}

// HandleAPIRevision serves GET /admin/api/flow/revisions/{n}: one with its text.
func HandleAPIRevision(db *store.DB) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.ParseInt(chi.URLParam(r, "n"), 10, 64)
		if err != nil {
			apiFail(w, failure(kindBadRequest, "the revision is a number"))
			return
		}
		rev, err := db.FlowRevisionByID(r.Context(), n)
		if err != nil {
			apiFail(w, flowError(err))
			return
		}
		writeJSON(w, http.StatusOK, rev)
	})
}

// HandleAPIDiff serves GET /admin/api/flow/diff?from=N&to=M: a unified
// line diff between two revisions.
func HandleAPIDiff(db *store.DB) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var revs [2]store.FlowRevision
		for i, name := range []string{"from", "to"} {
			n, err := strconv.ParseInt(r.URL.Query().Get(name), 10, 64)
			if err != nil {
				apiFail(w, failure(kindBadRequest, "diff takes ?from=N&to=M, two revision numbers"))
				return
			}
			if revs[i], err = db.FlowRevisionByID(r.Context(), n); err != nil {
				apiFail(w, flowError(err))
				return
			}
		}
		writeJSON(w, http.StatusOK, struct {
			From int64  `json:"from"`
			To   int64  `json:"to"`
			Diff string `json:"diff"`
		}{revs[0].ID, revs[1].ID, publish.Diff(revs[0].Text, revs[1].Text, revName(revs[0].ID), revName(revs[1].ID))})
	})
}

func revName(n int64) string { return "revision " + strconv.FormatInt(n, 10) }

// HandleAPICheck serves POST /admin/api/flow/check {"text"}: check's
// problems as you type (200 with an empty list when the draft passes).
func HandleAPICheck(pub *publish.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Text string `json:"text"`
		}
		if !decodeFlowBody(w, r, &req, func() string { return req.Text }) {
			return
		}
		probs := []flowProblem{}
		if _, err := pub.Check([]byte(req.Text)); err != nil {
			probs = problemsOf(err)
		}
		writeJSON(w, http.StatusOK, struct {
			Problems []flowProblem `json:"problems"`
		}{probs})
	})
}

// maxReplayCalls caps POST /admin/api/flow/replay's "calls".
const maxReplayCalls = 1000

// HandleAPIReplay serves POST /admin/api/flow/replay {"text", "calls"}:
// the inputs of the last N recorded calls through the live flow and the
// draft (see replay.Run), with the text diff live → draft.
func HandleAPIReplay(pub *publish.Service, db *store.DB) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Text  string `json:"text"`
			Calls int    `json:"calls"`
		}
		if !decodeFlowBody(w, r, &req, func() string { return req.Text }) {
			return
		}
		if req.Calls <= 0 || req.Calls > maxReplayCalls {
			apiFail(w, failure(kindBadRequest, fmt.Sprintf("calls must be 1 to %d", maxReplayCalls)))
			return
		}
		draft, err := pub.Check([]byte(req.Text))
		if err != nil {
			apiFail(w, flowError(err))
			return
		}
		calls, err := recentCalls(r, db, req.Calls)
		if err != nil {
			apiFail(w, storeFailure("read recent calls", err))
			return
		}
		live := pub.Source().Flow()
		changed, unfaithful := replay.Run(r.Context(), live, draft, calls)
		if r.Context().Err() != nil {
			return // the client left: nobody reads the answer
		}
		writeJSON(w, http.StatusOK, struct {
			Replayed   int           `json:"replayed"`
			Changed    []replay.Call `json:"changed"`
			Unfaithful int           `json:"unfaithful"` // live replay differs from the recorded call
			Diff       string        `json:"diff"`
		}{len(calls), changed, unfaithful, publish.Diff(string(pub.Source().Text()), req.Text, "live", "draft")})
	})
}

// recentCalls reads the newest n calls with their events, a page at a time.
func recentCalls(r *http.Request, db *store.DB, n int) ([]store.Call, error) {
	var out []store.Call
	cursor := ""
	for len(out) < n {
		page, next, err := db.ListCalls(r.Context(), store.ListOptions{Limit: min(n-len(out), 500), Cursor: cursor})
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == "" || len(page) == 0 {
			break
		}
		cursor = next
	}
	return out, nil
}
