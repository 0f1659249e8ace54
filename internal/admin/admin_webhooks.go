package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/ivr-project/ivr/internal/store"
)

// The event webhooks' outbox in the admin: what was sent, what is waiting,
// what failed and why, and a retry button.

// outboxOptions reads the list's query: state, type, call_id, before (an
// event id: older events), limit.
func outboxOptions(q url.Values) (store.OutboxListOptions, error) {
	o := store.OutboxListOptions{
		State:  strings.TrimSpace(q.Get("state")),
		Type:   strings.TrimSpace(q.Get("type")),
		CallID: strings.TrimSpace(q.Get("call_id")),
	}
	switch o.State {
	case "", store.OutboxPending, store.OutboxDelivered, store.OutboxFailed:
	default:
		return o, fmt.Errorf("state: write %s, %s or %s", store.OutboxPending, store.OutboxDelivered, store.OutboxFailed)
	}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return o, errors.New("before: write an event id (a whole number)")
		}
		o.Before = n
	}
	limit, err := queryLimit(q)
	o.Limit = limit
	return o, err
}

type webhookRow struct {
	store.OutboxEvent
	CallHref string
	Body     string // the payload, indented
}

type webhooksView struct {
	Target   string // the receiver's host, "" when webhooks are off
	Filter   struct{ State, Type string }
	Error    string
	Counts   map[string]int
	Events   []webhookRow
	NextHref string
}

// HandleWebhooksPage serves GET /admin/webhooks: events newest first with
// their delivery state.
func HandleWebhooksPage(a *Admin) http.Handler {
	tmpl := a.page("webhooks.html")
	target := ""
	if u, err := url.Parse(a.d.Config.WebhookURL); err == nil && a.d.Config.WebhookURL != "" {
		target = u.Scheme + "://" + u.Host // never the path or credentials
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := webhooksView{Target: target}
		q := r.URL.Query()
		v.Filter.State, v.Filter.Type = q.Get("state"), q.Get("type")
		opts, err := outboxOptions(q)
		if err != nil {
			v.Error = err.Error()
			a.renderStatus(w, r, tmpl, http.StatusBadRequest, "webhooks", v)
			return
		}
		evs, err := a.d.Store.ListOutbox(r.Context(), opts)
		if err == nil {
			v.Counts, err = a.d.Store.OutboxCounts(r.Context())
		}
		if err != nil {
			a.fail(w, r, pageFailure(kindStore, "Store unavailable", "The webhook outbox could not be read: "+err.Error()))
			return
		}
		for _, e := range evs {
			row := webhookRow{OutboxEvent: e, Body: string(e.Payload)}
			if e.CallID != "" {
				row.CallHref = callHref(store.Call{Provider: e.Provider, CallID: e.CallID})
			}
			var b bytes.Buffer
			if json.Indent(&b, e.Payload, "", "  ") == nil {
				row.Body = b.String()
			}
			v.Events = append(v.Events, row)
		}
		if n := store.PageSize(opts.Limit); len(evs) == n {
			next := url.Values{}
			for k, val := range map[string]string{"state": opts.State, "type": opts.Type, "call_id": opts.CallID} {
				if val != "" {
					next.Set(k, val)
				}
			}
			next.Set("before", strconv.FormatInt(evs[len(evs)-1].ID, 10))
			v.NextHref = "/admin/webhooks?" + next.Encode()
		}
		a.render(w, r, tmpl, "webhooks", v)
	})
}

// HandleAPIWebhooks serves GET /admin/api/webhooks: the same list as JSON,
// {"events": [...], "counts": {"pending": N, ...}, "next": "ID"}.
func HandleAPIWebhooks(db *store.DB) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		opts, err := outboxOptions(r.URL.Query())
		if err != nil {
			apiFail(w, failure(kindBadRequest, err.Error()))
			return
		}
		evs, err := db.ListOutbox(r.Context(), opts)
		var counts map[string]int
		if err == nil {
			counts, err = db.OutboxCounts(r.Context())
		}
		if err != nil {
			apiFail(w, failure(kindStore, "read the webhook outbox: "+err.Error()))
			return
		}
		next := ""
		if len(evs) == store.PageSize(opts.Limit) {
			next = strconv.FormatInt(evs[len(evs)-1].ID, 10)
		}
		writeJSONLine(w, http.StatusOK, struct {
			Events []store.OutboxEvent `json:"events"`
			Counts map[string]int      `json:"counts"`
			Next   string              `json:"next"`
		}{evs, counts, next})
	})
}

// HandleWebhookRetry serves POST /admin/webhooks/{id}/retry: the event is
// due again now (a failed one is retried, a delivered one sent once more).
// A form post is sent back to the list; a bearer request gets JSON.
func HandleWebhookRetry(a *Admin) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bearer, _ := r.Context().Value(bearerKey{}).(bool)
		id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
		if err == nil {
			err = a.d.Store.RetryOutbox(r.Context(), id)
		}
		switch {
		case err != nil && bearer:
			if id == 0 {
				err = failure(kindNotFound, err.Error())
			}
			apiFail(w, storeFailure("retry", err)) // not found: 404
		case err != nil:
			a.fail(w, r, pageFailure(kindNotFound, "Not retried", "That webhook event could not be retried: "+err.Error()))
		case bearer:
			writeJSONLine(w, http.StatusOK, map[string]int64{"retried": id})
		default:
			back := "/admin/webhooks"
			if s := r.PostFormValue("state"); s != "" {
				back += "?state=" + url.QueryEscape(s)
			}
			http.Redirect(w, r, back, http.StatusSeeOther)
		}
	})
}
