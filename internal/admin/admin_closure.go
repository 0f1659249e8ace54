package admin

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ivr-project/ivr/internal/clip"
	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/publish"
	"github.com/ivr-project/ivr/internal/store"
)

// The closure switch: one click (or POST /admin/api/closure) puts every new
// call on every instance onto a message and then voicemail, hang-up or a
// transfer, until its end time or until lifted. Each change is a flow
// revision (same text) with who and when; the Service syncs it to every
// instance with the revisions.

// closureRequest is POST /admin/api/closure's body (and the page's form).
type closureRequest struct {
	Message string  `json:"message"`
	Then    string  `json:"then"`
	Until   *string `json:"until"` // RFC 3339, or null/absent: until lifted
	Author  string  `json:"author"`
}

const maxClosureMessage = 1000

// closureOf checks req at now and makes the closure to store.
func closureOf(req closureRequest, now time.Time) (*store.Closure, error) {
	c := &store.Closure{Message: strings.TrimSpace(req.Message), Then: strings.TrimSpace(req.Then), By: author(req.Author), At: now.UTC()}
	if c.Then == "" {
		c.Then = ivr.ClosureVoicemail
	}
	if !ivr.ValidClosureThen(c.Then) {
		return nil, fmt.Errorf("then must be voicemail, hangup or transfer (got %q)", clip.Line(c.Then, 40))
	}
	if c.Message == "" {
		return nil, fmt.Errorf("message: write what callers hear, e.g. \"We are closed today because of the storm.\"")
	}
	if n := len([]rune(c.Message)); n > maxClosureMessage {
		return nil, fmt.Errorf("message is %d characters, at most %d", n, maxClosureMessage)
	}
	if req.Until != nil && strings.TrimSpace(*req.Until) != "" {
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(*req.Until))
		if err != nil {
			return nil, fmt.Errorf("until: write an RFC 3339 time like 2026-12-24T18:00:00Z, or null for until lifted (got %q)", clip.Line(*req.Until, 40))
		}
		if !t.After(now) {
			return nil, fmt.Errorf("until %s is not in the future", t.UTC().Format(time.RFC3339))
		}
		t = t.UTC()
		c.Until = &t
	}
	return c, nil
}

// closureJSON is GET /admin/api/closure's answer for an active closure.
type closureJSON struct {
	Message  string     `json:"message"`
	Then     string     `json:"then"`
	Until    *time.Time `json:"until"`
	SetBy    string     `json:"set_by"`
	SetAt    time.Time  `json:"set_at"`
	Revision int64      `json:"revision,omitempty"`
}

func toClosureJSON(c *store.Closure, rev int64) closureJSON {
	return closureJSON{Message: c.Message, Then: c.Then, Until: c.Until, SetBy: c.By, SetAt: c.At, Revision: rev}
}

// HandleAPIClosure serves GET /admin/api/closure: the active closure, or {}.
func HandleAPIClosure(flows *publish.Source) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := flows.Closure(time.Now())
		if c == nil {
			writeJSON(w, http.StatusOK, struct{}{})
			return
		}
		writeJSON(w, http.StatusOK, toClosureJSON(c, 0))
	})
}

// HandleAPISetClosure serves POST /admin/api/closure.
func HandleAPISetClosure(pub *publish.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req closureRequest
		if !decodeFlowBody(w, r, &req, func() string { return "" }) {
			return
		}
		c, err := closureOf(req, time.Now())
		if err != nil {
			apiFail(w, failure(kindBadRequest, err.Error()))
			return
		}
		rev, err := pub.SetClosure(r.Context(), c, c.By)
		if err != nil {
			apiFail(w, flowError(err))
			return
		}
		writeJSON(w, http.StatusOK, toClosureJSON(c, rev.ID))
	})
}

// HandleAPILiftClosure serves DELETE /admin/api/closure[?author=NAME].
func HandleAPILiftClosure(pub *publish.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rev, err := pub.SetClosure(r.Context(), nil, author(r.URL.Query().Get("author")))
		if err != nil {
			apiFail(w, flowError(err))
			return
		}
		writeJSON(w, http.StatusOK, struct {
			Revision int64 `json:"revision"`
		}{rev.ID})
	})
}

type closureView struct {
	Closure *closureJSON
	Error   string
	Form    closureRequest
	Until   string // the form's until, as typed
}

// HandleClosurePage serves GET /admin/closure: the switch, on or off.
func HandleClosurePage(a *Admin) http.Handler {
	tmpl := a.page("closure.html")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := closureView{Form: closureRequest{Then: ivr.ClosureVoicemail}}
		if c := a.d.Flows.Closure(time.Now()); c != nil {
			j := toClosureJSON(c, 0)
			v.Closure = &j
		}
		a.render(w, r, tmpl, "closure", v)
	})
}

// HandleClosureForm serves POST /admin/closure: action=set (message, then,
// until as the browser's local date-time or RFC 3339, author) or
// action=lift, then back to the page.
func HandleClosureForm(a *Admin) http.Handler {
	tmpl := a.page("closure.html")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who := author(r.PostFormValue("author"))
		if r.PostFormValue("action") == "lift" {
			if _, err := a.d.Publisher.SetClosure(r.Context(), nil, who); err != nil {
				a.fail(w, r, pageFailure(kindStore, "Closure not lifted", err.Error()))
				return
			}
			http.Redirect(w, r, "/admin/closure", http.StatusSeeOther)
			return
		}
		until := formUntil(r.PostFormValue("until"))
		req := closureRequest{Message: r.PostFormValue("message"), Then: r.PostFormValue("then"), Until: &until, Author: who}
		c, err := closureOf(req, time.Now())
		if err == nil {
			_, err = a.d.Publisher.SetClosure(r.Context(), c, who)
		}
		if err != nil {
			a.renderStatus(w, r, tmpl, http.StatusBadRequest, "closure", closureView{Error: err.Error(), Form: req, Until: r.PostFormValue("until")})
			return
		}
		http.Redirect(w, r, "/admin/closure", http.StatusSeeOther)
	})
}

// formUntil turns a datetime-local value ("2026-12-24T18:00", read as
// UTC, as the page says) into RFC 3339; anything else is passed on as typed.
func formUntil(v string) string {
	v = strings.TrimSpace(v)
	if t, err := time.Parse("2006-01-02T15:04", v); err == nil {
		return t.Format(time.RFC3339)
	}
	return v
}
