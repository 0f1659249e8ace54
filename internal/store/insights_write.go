package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ivr-project/ivr/internal/ivr"
)

// What the insights read is kept up to date as events are written, in the
// same transaction (AddEventBatch):
//   - each event's node id ("menu" or "menu/key") and flow revision;
//   - the call's summary: revision, transferred, fallback, ended_in_flow,
//     last_menu, last_event_at, and from them outcome, hour, flow_seconds
//     and flow_bucket (summary.go);
//   - repeated: a call whose caller calls again within 24 hours;
//   - insight_menu_days: per day, number, provider, revision and menu, how
//     often each kind of event happened (the funnels and option popularity);
//   - voicemails: one row per finished recording.

// Kinds of event the insights count (insight_menu_days.kind).
const (
	KindEnter     = "enter"
	KindOption    = "option"     // detail: the option's key
	KindInvalid   = "invalid"    // an entry that matched no option
	KindSilent    = "silent"     // no entry before the timeout
	KindTransfer  = "transfer"   // a transfer was started
	KindDial      = "dial"       // detail: how the transfer ended (completed, busy, no-answer, ...)
	KindVoicemail = "voicemail"  // a voicemail recording was started
	KindRecording = "recording"  // a voicemail recording came back
	KindFallback  = "fallback"   // detail: the reason
	KindConfirmed = "confirmed"  // a collect's read-back was accepted
	KindRejected  = "rejected"   // a collect's read-back was rejected (2, or silence twice)
	KindRepeat    = "repeat"     // the repeat key replayed the prompt
	KindStepLimit = "step_limit" // the call's step limit was reached (ivr.EventStepLimit)
	KindFetchFail = "fetch_fail" // detail: the request; a fetch failed (its on_error ran)
	KindBranch    = "branch"     // detail: the condition (as the event has it); a switch branch was taken
	KindElse      = "else"       // a switch's else branch was taken
)

// CollectOption is the option key under which a collect menu's valid
// entries ("collected NAME") are counted: a collect menu has no options,
// so it cannot clash with one.
const CollectOption = "collect"

// RepeatWindow is how soon a caller must call again for the earlier call to
// count as a repeat (not really helped).
const RepeatWindow = 24 * time.Hour

// classify maps an event to its kind and detail ("" = not counted), and
// says whether the flow ended the call with it.
func classify(e *Event) (kind, detail string, terminal bool) {
	switch e.Kind {
	case ivr.EventEnter:
		return KindEnter, "", false
	case ivr.EventOption:
		return KindOption, e.Key, false
	case ivr.EventCollected:
		// A collect menu's valid entry is its one choice.
		return KindOption, CollectOption, false
	case ivr.EventInvalid:
		return KindInvalid, "", false
	case ivr.EventConfirmed:
		return KindConfirmed, "", false
	case ivr.EventConfirmRejected:
		return KindRejected, "", false
	case ivr.EventRepeatKey:
		return KindRepeat, "", false
	case ivr.EventStepLimit:
		return KindStepLimit, "", false
	case ivr.EventFetch:
		if e.Reason() == "" {
			return "", "", false // it succeeded
		}
		return KindFetchFail, e.Request(), false
	case ivr.EventSwitch:
		return KindBranch, e.Cond(), false
	case ivr.EventSwitchElse:
		return KindElse, "", false
	case ivr.EventTimeout:
		return KindSilent, "", false
	case ivr.EventTransfer:
		return KindTransfer, "", false
	case ivr.EventHangup, ivr.EventNoAnswer:
		if e.Heard != ivr.HeardDial {
			return "", "", e.Terminal()
		}
		status := e.Entry
		if status == "" {
			status = "unknown"
		}
		return KindDial, status, e.Terminal()
	case ivr.EventVoicemail:
		return KindVoicemail, "", true
	case ivr.EventVoicemailDone:
		return KindRecording, "", true
	case ivr.EventFallback:
		return KindFallback, strings.TrimSpace(e.Reason()), true
	}
	return "", "", false
}

// eventNode is e's stable node id: its Node, else "menu/key" for an option,
// else the menu.
func eventNode(e *Event) string {
	if e.Node != "" {
		return e.Node
	}
	if e.Kind == ivr.EventOption && e.Menu != "" {
		return e.Menu + "/" + e.Key
	}
	return e.Menu
}

type menuDayKey struct {
	day                                        int64
	provider, to, revision, menu, kind, detail string
}

// summariser holds one batch's prepared statements and rollup counts. The
// calls' own summary columns are written by the batch's call upsert, and
// repeat callers marked by one statement per batch (events_batch.go).
type summariser struct {
	d         *DB
	tx        *sql.Tx
	voicemail *sql.Stmt
	counts    map[menuDayKey]int64
	order     []menuDayKey
}

// callSummary is what a batch's events of one call set on its row.
type callSummary struct {
	revision, lastMenu string
	variant            string // the first split variant the call took

	transferred, fallback, ends int
	last                        time.Time // zero: no events (nothing to change)
}

// summarise computes a call's summary from its new events (written in
// order after its earlier ones); now stands in for events without a time.
func summarise(events []Event, now time.Time) callSummary {
	var s callSummary
	for i := range events {
		e := &events[i]
		at := e.At
		if at.IsZero() {
			at = now
		}
		if at.After(s.last) {
			s.last = at
		}
		if s.revision == "" {
			s.revision = e.Revision
		}
		if e.Menu != "" {
			s.lastMenu = e.Menu
		}
		if e.Kind == ivr.EventVariant && s.variant == "" {
			s.variant = e.Label()
		}
		kind, _, terminal := classify(e)
		s.ends = 0
		if terminal {
			s.ends = 1
		}
		switch kind {
		case KindTransfer:
			s.transferred = 1
		case KindFallback:
			s.fallback = 1
		}
	}
	return s
}

const insertVoicemail = `INSERT INTO voicemails (call_ref, at, menu, url, duration_seconds) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (call_ref, url) DO NOTHING`

const upsertMenuDay = `INSERT INTO insight_menu_days (day, provider, to_number, revision, menu, kind, detail, n)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (day, provider, to_number, revision, menu, kind, detail) DO UPDATE SET n = insight_menu_days.n + excluded.n`

// upsertMenuDaysPostgres adds all of a batch's counts in one statement
// (their rows locked in array order: flush's).
const upsertMenuDaysPostgres = `INSERT INTO insight_menu_days (day, provider, to_number, revision, menu, kind, detail, n)
SELECT d, p, t, r, m, k, x, n FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[])
    WITH ORDINALITY AS u(d, p, t, r, m, k, x, n, o) ORDER BY o
ON CONFLICT (day, provider, to_number, revision, menu, kind, detail) DO UPDATE SET n = insight_menu_days.n + excluded.n`

// newSummariser starts a batch's counts; its statements are the ones
// prepared at Open (a batch used to prepare them again: on PostgreSQL a
// round trip and a parse each).
func (d *DB) newSummariser(tx *sql.Tx) *summariser {
	return &summariser{d: d, tx: tx, counts: map[menuDayKey]int64{}}
}

// call counts the kinds of call ref's new events b.Events and adds the
// voicemails among them.
func (s *summariser) call(ctx context.Context, ref int64, b CallEvents) error {
	for i := range b.Events {
		e := &b.Events[i]
		at := e.At
		if at.IsZero() {
			at = s.d.now()
		}
		kind, detail, _ := classify(e)
		if kind != "" {
			s.count(menuDayKey{day: at.UTC().Unix() / 86400, provider: b.Provider, to: b.To, revision: e.Revision,
				menu: e.Menu, kind: kind, detail: detail})
		}
		if e.Recording != nil && kind == KindRecording {
			secs := e.Recording.DurationSeconds
			if secs < 0 || secs > MaxDurationSeconds {
				secs = 0 // not a recording's length: unknown, the same on both databases
			}
			if s.voicemail == nil {
				st, err := s.d.stmt(ctx, s.tx, insertVoicemail)
				if err != nil {
					return fmt.Errorf("prepare voicemail insert: %w", err)
				}
				s.voicemail = st
			}
			if _, err := s.voicemail.ExecContext(ctx, ref, s.d.tv(at), txt(e.Menu), txt(e.Recording.URL), secs); err != nil {
				return fmt.Errorf("add voicemail: %w", err)
			}
		}
	}
	return nil
}

func (s *summariser) count(k menuDayKey) {
	k.provider, k.to, k.revision, k.menu, k.detail = txt(k.provider), txt(k.to), txt(k.revision), txt(k.menu), txt(truncateText(k.detail, 64))
	if _, ok := s.counts[k]; !ok {
		s.order = append(s.order, k)
	}
	s.counts[k]++
}

// flush adds the batch's counts to insight_menu_days.
func (s *summariser) flush(ctx context.Context) error {
	if len(s.order) == 0 {
		return nil
	}
	// One order for every writer: concurrent batches on PostgreSQL lock
	// the rows they add to in the same order, so they cannot deadlock.
	slices.SortFunc(s.order, func(a, b menuDayKey) int {
		return cmp.Or(cmp.Compare(a.day, b.day), cmp.Compare(a.provider, b.provider), cmp.Compare(a.to, b.to),
			cmp.Compare(a.revision, b.revision), cmp.Compare(a.menu, b.menu), cmp.Compare(a.kind, b.kind), cmp.Compare(a.detail, b.detail))
	})
	if s.d.driver == DriverPostgres {
		return s.flushPostgres(ctx)
	}
	st, err := s.d.stmt(ctx, s.tx, upsertMenuDay)
	if err != nil {
		return fmt.Errorf("prepare menu counts: %w", err)
	}
	for _, k := range s.order {
		if _, err := st.ExecContext(ctx, k.day, k.provider, k.to, k.revision, k.menu, k.kind, k.detail, s.counts[k]); err != nil {
			return fmt.Errorf("add menu counts: %w", err)
		}
	}
	return nil
}

// flushPostgres is flush's one statement on PostgreSQL, in s.order.
func (s *summariser) flushPostgres(ctx context.Context) error {
	n := len(s.order)
	days, counts := make([]int64, n), make([]int64, n)
	var texts [6][]string
	for i := range texts {
		texts[i] = make([]string, n)
	}
	for i, k := range s.order {
		days[i], counts[i] = k.day, s.counts[k]
		texts[0][i], texts[1][i], texts[2][i], texts[3][i], texts[4][i], texts[5][i] = k.provider, k.to, k.revision, k.menu, k.kind, k.detail
	}
	st, err := s.d.stmt(ctx, s.tx, upsertMenuDaysPostgres)
	if err != nil {
		return fmt.Errorf("prepare menu counts: %w", err)
	}
	if _, err := st.ExecContext(ctx, days, texts[0], texts[1], texts[2], texts[3], texts[4], texts[5], counts); err != nil {
		return fmt.Errorf("add menu counts: %w", err)
	}
	return nil
}

// truncateText cuts s to at most n bytes on a rune boundary.
func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
