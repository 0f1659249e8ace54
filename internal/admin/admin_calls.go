package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ivr-project/ivr/internal/clip"
	"github.com/ivr-project/ivr/internal/store"
)

// listOptions reads the call list's query: limit, cursor, number, status,
// since and until (YYYY-MM-DD; until is inclusive of that whole day).
func listOptions(q url.Values) (store.ListOptions, error) {
	opts := store.ListOptions{
		Cursor: q.Get("cursor"),
		Number: strings.TrimSpace(q.Get("number")),
		Status: strings.TrimSpace(q.Get("status")),
	}
	limit, err := queryLimit(q)
	if err != nil {
		return opts, err
	}
	opts.Limit = limit
	since, err := queryDate(q, "since")
	if err != nil {
		return opts, err
	}
	until, err := queryDate(q, "until")
	if err != nil {
		return opts, err
	}
	opts.Since = since
	if !until.IsZero() {
		opts.Until = until.AddDate(0, 0, 1)
	}
	return opts, nil
}

// queryLimit reads a list's page size, limit (1 to 500; absent = 0, the
// store's default).
func queryLimit(q url.Values) (int, error) {
	v := q.Get("limit")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 500 {
		return 0, errors.New("limit: write a whole number from 1 to 500")
	}
	return n, nil
}

// queryDate reads the date q names (YYYY-MM-DD, a UTC day): the call list's
// and the insights' since and until. Absent or blank is the zero time.
func queryDate(q url.Values, name string) (time.Time, error) {
	v := strings.TrimSpace(q.Get(name))
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: write a date as YYYY-MM-DD (got %q)", name, v)
	}
	return t, nil
}

// callRow is one call in the list, with its path through the flow in short.
type callRow struct {
	store.Call
	Href string
	Path string
}

type callsView struct {
	Filter        struct{ Number, Status, Since, Until string }
	Error         string
	Calls         []callRow
	NextHref      string
	FirstHref     string
	Paged         bool
	Fallbacks     []reasonCount
	Refused       []reasonCount
	FallbackTotal float64
	RefusedTotal  float64
}

type reasonCount struct {
	Reason string
	Count  float64
}

// HandleCallsPage serves GET /admin/calls: recent calls, newest first.
func HandleCallsPage(a *Admin) http.Handler {
	tmpl := a.page("calls.html")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var v callsView
		v.Filter.Number, v.Filter.Status = q.Get("number"), q.Get("status")
		v.Filter.Since, v.Filter.Until = q.Get("since"), q.Get("until")
		v.Fallbacks, v.FallbackTotal = StoredByReason(r.Context(), a.d, store.FailureFallback)
		v.Refused, v.RefusedTotal = StoredByReason(r.Context(), a.d, store.FailureRefused)
		status := http.StatusOK
		opts, err := listOptions(q)
		if err == nil {
			if opts.Limit == 0 {
				opts.Limit = 25
			}
			var calls []store.Call
			var next string
			calls, next, err = a.d.Store.ListCalls(r.Context(), opts)
			for _, c := range calls {
				v.Calls = append(v.Calls, callRow{Call: c, Href: callHref(c), Path: callPath(c.Events)})
			}
			filters := url.Values{}
			for k, val := range map[string]string{"number": v.Filter.Number, "status": v.Filter.Status, "since": v.Filter.Since, "until": v.Filter.Until, "limit": q.Get("limit")} {
				if val != "" {
					filters.Set(k, val)
				}
			}
			v.FirstHref = "/admin/calls?" + filters.Encode()
			v.Paged = opts.Cursor != ""
			if next != "" {
				filters.Set("cursor", next)
				v.NextHref = "/admin/calls?" + filters.Encode()
			}
		}
		if err != nil {
			v.Error, status = err.Error(), http.StatusBadRequest
		}
		a.renderStatus(w, r, tmpl, status, "calls", v)
	})
}

func callHref(c store.Call) string {
	return "/admin/calls/" + url.PathEscape(c.Provider) + "/" + url.PathEscape(c.CallID)
}

// callPath is a call's route through the flow in one line, e.g.
// "play · say · main: enter · [2] option 2 · goto support · support: enter".
func callPath(evs []store.Event) string {
	var parts []string
	menu := ""
	for i := range evs {
		e := &evs[i]
		s := e.Action()
		if in := e.Input(); in != "" {
			s = "[" + in + "] " + s
		}
		if e.Menu != "" && e.Menu != menu {
			s = e.Menu + ": " + s
			menu = e.Menu
		}
		parts = append(parts, strings.TrimSpace(s))
	}
	return clip.Line(strings.Join(parts, " · "), 240)
}

// StoredByReason sums the stored fallback or refusal counts (every
// instance, across restarts) by reason, largest first, with this
// instance's counts not yet flushed to the store.
func StoredByReason(ctx context.Context, d Deps, kind string) ([]reasonCount, float64) {
	totals, err := d.Store.FailureTotals(ctx, kind, time.Time{})
	if err != nil {
		d.Logger.Warn("stored failure counts not read", slog.String("error", err.Error()))
		totals = map[string]int64{}
	}
	d.Failures.Pending(kind, totals)
	out := make([]reasonCount, 0, len(totals))
	total := 0.0
	for r, n := range totals {
		out = append(out, reasonCount{Reason: r, Count: float64(n)})
		total += float64(n)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Reason < out[j].Reason
	})
	return out, total
}

// HandleCallPage serves GET /admin/calls/{provider}/{id}. The id is
// everything after the provider in the decoded path: callHref escapes it
// (a "/" in it too), and the router matches on the still-escaped path.
func HandleCallPage(a *Admin) http.Handler {
	tmpl := a.page("call.html")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		provider, id, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/admin/calls/"), "/")
		c, err := a.d.Store.GetCall(r.Context(), provider, id)
		if errors.Is(err, store.ErrNotFound) {
			a.fail(w, r, pageFailure(kindNotFound, "No such call", "No call "+provider+"/"+id+" is stored (records may have been deleted by retention)."))
			return
		}
		if err != nil {
			a.fail(w, r, pageFailure(kindStore, "Call not loaded", err.Error()))
			return
		}
		a.render(w, r, tmpl, "calls", c)
	})
}
