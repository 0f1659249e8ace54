package admin

import (
	"errors"
	"net/http"
	"strings"

	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/store"
)

// The admin side's one error path: a handler says what went wrong (an
// error of a kind) and fail answers it with the status of that kind, as
// {"error": "..."} on the JSON API (/admin/api/...) and as the error page
// elsewhere. A store that fails is 503 everywhere: try again shortly. The
// refusals of session.go (401, 403, 429) take the same path; their page
// shows nothing of the admin.

// kind is what went wrong, as far as the answer's status goes.
type kind int

const (
	kindInternal     kind = iota // 500: a bug, a map that could not be drawn
	kindBadRequest               // 400: the request asks for something impossible
	kindNotFound                 // 404
	kindConflict                 // 409: a stale draft
	kindTooLarge                 // 413
	kindInvalid                  // 422: a flow that does not pass check
	kindStore                    // 503: the store failed; the same request may work shortly
	kindUpstream                 // 502: a provider did not serve a recording
	kindUnauthorized             // 401: no admin token or session, or a wrong token
	kindForbidden                // 403: another machine or site, or no CSRF token
	kindLockedOut                // 429: too many wrong tokens from this address lately
)

var statusOf = map[kind]int{
	kindInternal:   http.StatusInternalServerError,
	kindBadRequest: http.StatusBadRequest,
	kindNotFound:   http.StatusNotFound,
	kindConflict:   http.StatusConflict,
	kindTooLarge:   http.StatusRequestEntityTooLarge,
	kindInvalid:    http.StatusUnprocessableEntity,
	kindStore:      http.StatusServiceUnavailable,
	kindUpstream:   http.StatusBadGateway,
	// Refusals: their page shows nothing of the admin (no navigation,
	// banners or CSRF cookie) to whoever was refused.
	kindUnauthorized: http.StatusUnauthorized,
	kindForbidden:    http.StatusForbidden,
	kindLockedOut:    http.StatusTooManyRequests,
}

// refused reports whether k refuses the client itself (401, 403, 429).
func (k kind) refused() bool {
	return k == kindUnauthorized || k == kindForbidden || k == kindLockedOut
}

// adminError is a failure of a kind, in words for people; title heads the
// error page ("" = a generic one).
type adminError struct {
	kind  kind
	title string
	msg   string
}

func (e *adminError) Error() string { return e.msg }

// failure is an error of kind k saying msg.
func failure(k kind, msg string) error { return &adminError{kind: k, msg: msg} }

// pageFailure is failure with the error page's heading.
func pageFailure(k kind, title, msg string) error {
	return &adminError{kind: k, title: title, msg: msg}
}

// storeFailure is a store error while doing what: 503 whatever the handler
// (404 for the store's not found).
func storeFailure(what string, err error) error {
	e := &adminError{kind: kindOf(err), msg: what + ": " + err.Error()}
	if e.kind == kindStore {
		e.title = "Store unavailable"
	}
	return e
}

// kindOf is err's kind: its own, or the store's not found; anything else
// is a store failure (what the admin handlers call is the store).
func kindOf(err error) kind {
	var ae *adminError
	switch {
	case errors.As(err, &ae):
		return ae.kind
	case errors.Is(err, store.ErrNotFound):
		return kindNotFound
	}
	return kindStore
}

// fail answers err: JSON under /admin/api/, the error page elsewhere.
func (a *Admin) fail(w http.ResponseWriter, r *http.Request, err error) {
	if isAPI(r) {
		apiFail(w, err)
		return
	}
	title := "Something went wrong"
	var ae *adminError
	if errors.As(err, &ae) && ae.title != "" {
		title = ae.title
	}
	k, active := kindOf(err), ""
	if k.refused() {
		active = refusedPage
	}
	a.renderStatus(w, r, a.errors, statusOf[k], active, struct{ Title, Message string }{title, err.Error()})
}

// apiFail is fail's JSON answer, for the API handlers that hold no *Admin:
// {"error": "..."}, or {"problems": [...]} (422) for a flow that does not
// pass check.
func apiFail(w http.ResponseWriter, err error) {
	var ps ivr.Problems
	if errors.As(err, &ps) {
		writeJSONLine(w, http.StatusUnprocessableEntity, struct {
			Problems []flowProblem `json:"problems"`
		}{problemsOf(err)})
		return
	}
	writeJSONLine(w, statusOf[kindOf(err)], struct {
		Error string `json:"error"`
	}{err.Error()})
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/admin/api/") }
