package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/ivr-project/ivr/internal/config"
	"github.com/ivr-project/ivr/internal/outbound"
	"github.com/ivr-project/ivr/internal/store"
)

// Callbacks: the callers who asked to be called back (the flow's callback
// action), listed for people, and "Call back": an outbound call through the
// provider the caller called on, which rings the agent first (its answer
// URL says "Callback for <number>" and dials the caller).

// Placer places outbound calls (outbound.Client).
type Placer interface {
	Place(ctx context.Context, provider string, call outbound.Call) (string, error)
}

// The voice paths of a callback's outbound call (internal/voice serves them).
const (
	callbackAgentPath  = "callback/agent"
	callbackStatusPath = "callback/status"
)

var callbackStates = []string{store.CallbackOpen, store.CallbackCalling, store.CallbackDone, store.CallbackFailed}

// callbackState reads ?state= ("" = all).
func callbackState(r *http.Request) (string, error) {
	s := strings.TrimSpace(r.URL.Query().Get("state"))
	if s == "" {
		return "", nil
	}
	for _, k := range callbackStates {
		if s == k {
			return s, nil
		}
	}
	return "", fmt.Errorf("state: write open, calling, done or failed, or leave it out for all")
}

// HandleAPICallbacks answers GET /admin/api/callbacks?state=open|calling|done|failed&limit=N.
func HandleAPICallbacks(db *store.DB) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		state, err := callbackState(r)
		limit, lerr := queryLimit(r.URL.Query())
		if err = errors.Join(err, lerr); err != nil {
			apiFail(w, failure(kindBadRequest, err.Error()))
			return
		}
		cbs, err := db.ListCallbacks(r.Context(), state, limit)
		if err != nil {
			apiFail(w, storeFailure("callbacks", err))
			return
		}
		writeJSON(w, http.StatusOK, struct {
			Callbacks []store.Callback `json:"callbacks"`
		}{cbs})
	})
}

type callbacksView struct {
	State     string
	Error     string
	Agent     string // the agent number last used (prefilled)
	Callbacks []store.Callback
}

// HandleCallbacksPage serves GET /admin/callbacks?state=.
func HandleCallbacksPage(a *Admin) http.Handler {
	tmpl := a.page("callbacks.html")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := callbacksView{State: r.URL.Query().Get("state"), Error: r.URL.Query().Get("error"), Agent: r.URL.Query().Get("agent")}
		state, err := callbackState(r)
		if err != nil {
			v.Error = err.Error()
			a.renderStatus(w, r, tmpl, http.StatusBadRequest, "callbacks", v)
			return
		}
		cbs, err := a.d.Store.ListCallbacks(r.Context(), state, 200)
		if err != nil {
			a.fail(w, r, pageFailure(kindStore, "Store unavailable", "The callbacks could not be read: "+err.Error()))
			return
		}
		v.Callbacks = cbs
		a.render(w, r, tmpl, "callbacks", v)
	})
}

// HandleCallbackCall serves POST /admin/api/callbacks/{id}/call (JSON
// {"agent": "+1..."}: 202 {"provider_call_id": ...}) and the page's form
// POST /admin/callbacks/{id}/call (agent=...: back to the page). Of two
// presses at once one places the call, the other gets 409; a provider API
// that fails or times out leaves the request open with its error (502).
func HandleCallbackCall(a *Admin) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		form := !strings.HasPrefix(r.URL.Path, "/admin/api/")
		agent, err := callbackAgent(w, r, form)
		var id string
		if err == nil {
			id, err = a.callBack(r, chi.URLParam(r, "id"), agent)
		}
		if form {
			back := "/admin/callbacks?agent=" + url.QueryEscape(agent)
			if err != nil {
				back += "&error=" + url.QueryEscape(err.Error())
			}
			http.Redirect(w, r, back, http.StatusSeeOther)
			return
		}
		if err != nil {
			apiFail(w, err)
			return
		}
		writeJSONLine(w, http.StatusAccepted, struct {
			ProviderCallID string `json:"provider_call_id"`
		}{id})
	})
}

// callbackAgent reads the agent's number: JSON {"agent"} or the form's agent.
func callbackAgent(w http.ResponseWriter, r *http.Request, form bool) (string, error) {
	var agent string
	if form {
		agent = r.PostFormValue("agent")
	} else {
		var body struct {
			Agent string `json:"agent"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&body); err != nil {
			return "", failure(kindBadRequest, `send {"agent": "+15551234567"}: the number to ring first`)
		}
		agent = body.Agent
	}
	agent = strings.TrimSpace(agent)
	if !config.ValidE164(agent) {
		return agent, failure(kindBadRequest, fmt.Sprintf("agent %q: write the agent's number in E.164, like +15551234567", agent))
	}
	return agent, nil
}

// callBack claims callback id and places its call, ringing agent.
func (a *Admin) callBack(r *http.Request, rawID, agent string) (string, error) {
	id, err := strconv.ParseInt(rawID, 10, 64)
	if err != nil || id <= 0 {
		return "", failure(kindNotFound, "no such callback")
	}
	db := a.d.Store
	cb, err := db.ClaimCallback(r.Context(), id, agent)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", failure(kindNotFound, "no such callback")
	case errors.Is(err, store.ErrCallbackBusy):
		return "", failure(kindConflict, fmt.Sprintf("callback %d is being called or is done", id))
	case err != nil:
		return "", failure(kindStore, err.Error())
	}
	if a.d.Outbound == nil {
		err = errors.New("outbound calls are not configured")
	} else {
		from := a.d.Config.CallbackFrom
		if from == "" {
			from = cb.To
		}
		base := a.voiceBase(r, cb.Provider)
		q := "?id=" + strconv.FormatInt(id, 10)
		var callID string
		callID, err = a.d.Outbound.Place(r.Context(), cb.Provider, outbound.Call{To: agent, From: from,
			AnswerURL: base + callbackAgentPath + q, StatusURL: base + callbackStatusPath + q})
		if err == nil {
			if perr := db.CallbackPlaced(context.WithoutCancel(r.Context()), id, callID); perr != nil {
				a.d.Logger.Error("callback placed but not recorded", "callback", id, "error", perr)
			}
			return callID, nil
		}
	}
	a.d.Logger.Warn("callback not placed", "callback", id, "provider", cb.Provider, "error", err)
	if nerr := db.CallbackNotPlaced(context.WithoutCancel(r.Context()), id, err.Error()); nerr != nil {
		a.d.Logger.Error("callback not placed, and its state not restored", "callback", id, "error", nerr)
	}
	return "", failure(kindUpstream, fmt.Sprintf("the call was not placed (the request stays open): %v", err))
}

// voiceBase is the public base of provider's voice routes, as the provider
// reaches them: the live tunnel, IVR_PUBLIC_URL, else this request's origin.
func (a *Admin) voiceBase(r *http.Request, provider string) string {
	base := ""
	if a.d.LivePublicURL != nil {
		base = a.d.LivePublicURL.Load()
	}
	if base == "" {
		base = a.d.Config.PublicURL
	}
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return strings.TrimRight(base, "/") + "/" + provider + "/voice/"
}

// HandleCallbackDone serves POST /admin/api/callbacks/{id}/done (200 with
// the callback) and the page's form POST /admin/callbacks/{id}/done.
func HandleCallbackDone(db *store.DB) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		form := !strings.HasPrefix(r.URL.Path, "/admin/api/")
		id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
		var cb store.Callback
		if err == nil {
			cb, err = db.CallbackDone(r.Context(), id)
		}
		if form {
			back := "/admin/callbacks"
			if err != nil {
				back += "?error=" + url.QueryEscape(err.Error())
			}
			http.Redirect(w, r, back, http.StatusSeeOther)
			return
		}
		if err != nil {
			k := kindOf(err) // the store's not found: 404, else its failure: 503
			if id <= 0 {
				k = kindNotFound
			}
			apiFail(w, failure(k, err.Error()))
			return
		}
		writeJSON(w, http.StatusOK, cb)
	})
}
