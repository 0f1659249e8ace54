package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/ivr"
)

// TestStore is the one suite every back end must pass.
func TestStore(t *testing.T) {
	forEachStore(t, func(t *testing.T, dsn newDSN) {
		t.Run("Migrations", func(t *testing.T) { testMigrations(t, dsn) })
		t.Run("EventsAndGetCall", func(t *testing.T) { testEventsAndGetCall(t, dsn) })
		t.Run("UpdateStatus", func(t *testing.T) { testUpdateStatus(t, dsn) })
		t.Run("Paging", func(t *testing.T) { testPaging(t, dsn) })
		t.Run("Filters", func(t *testing.T) { testFilters(t, dsn) })
		t.Run("Messages", func(t *testing.T) { testMessages(t, dsn) })
		t.Run("Claim", func(t *testing.T) { testClaim(t, dsn) })
		t.Run("Retention", func(t *testing.T) { testRetention(t, dsn) })
		t.Run("TwoInstances", func(t *testing.T) { testTwoInstances(t, dsn) })
		t.Run("Text", func(t *testing.T) { testText(t, dsn) })
	})
}

func TestOpenErrors(t *testing.T) {
	for _, dsn := range []string{"", "mysql://x", "sqlite:", "ivr.db"} {
		if d, err := Open(context.Background(), dsn); err == nil {
			d.Close()
			t.Errorf("Open(%q) succeeded, want error", dsn)
		}
	}
	d := openT(t, "sqlite::memory:")
	if d.Driver() != DriverSQLite {
		t.Errorf("Driver = %q", d.Driver())
	}
	if err := d.AddEvents(ctxT(t), "twilio", "CA1", "+1", "+2", []Event{{Event: ivr.Event{At: at(0), Menu: "main"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.GetCall(ctxT(t), "twilio", "CA1"); err != nil {
		t.Fatalf("memory store lost its data between statements: %v", err)
	}
}

func TestRedact(t *testing.T) {
	got := redact("postgres://ivr:s3cret@db:5432/ivr?sslmode=disable")
	if strings.Contains(got, "s3cret") {
		t.Errorf("redact leaked the password: %s", got)
	}
}

func TestMigrationsMatch(t *testing.T) {
	sq, err := migrations(DriverSQLite)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := migrations(DriverPostgres)
	if err != nil {
		t.Fatal(err)
	}
	if len(sq) == 0 || len(sq) != len(pg) {
		t.Fatalf("sqlite has %d migrations, postgres %d", len(sq), len(pg))
	}
	for i := range sq {
		if sq[i].Version != pg[i].Version || sq[i].Name != pg[i].Name {
			t.Errorf("migration %d: sqlite %s, postgres %s", i, sq[i].Name, pg[i].Name)
		}
	}
}

func testMigrations(t *testing.T, newDSN newDSN) {
	dsn := newDSN(t)
	ctx := ctxT(t)
	want, _ := migrations(DriverSQLite)
	// Several instances starting at once on an empty database.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			d, err := Open(ctx, dsn)
			if err == nil {
				err = d.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Open %d: %v", i, err)
		}
	}
	for range 2 { // and again: idempotent
		d := openT(t, dsn)
		v, err := d.SchemaVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v != want[len(want)-1].Version {
			t.Errorf("SchemaVersion = %d, want %d", v, want[len(want)-1].Version)
		}
		var n int
		if err := d.sql.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != len(want) {
			t.Errorf("schema_migrations has %d rows, want %d", n, len(want))
		}
		d.Close()
	}
	// A database from a newer program is refused.
	d := openT(t, dsn)
	if _, err := d.sql.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', $1)`, d.tv(time.Now())); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if d2, err := Open(ctx, dsn); err == nil || !strings.Contains(err.Error(), "newer") {
		if d2 != nil {
			d2.Close()
		}
		t.Errorf("Open of a newer schema: err = %v, want 'newer'", err)
	}
}

func testEventsAndGetCall(t *testing.T, newDSN newDSN) {
	d := openT(t, newDSN(t))
	ctx := ctxT(t)
	if _, err := d.GetCall(ctx, "twilio", "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetCall unknown: err = %v, want ErrNotFound", err)
	}
	first := []Event{{Event: legacyEvent(at(10), "main", "", "say")}, {Event: legacyEvent(at(12), "main", "1", "menu billing")}}
	second := []Event{{Event: legacyEvent(at(15), "billing", "", "timeout")}, {Event: legacyEvent(at(16), "billing", "#", "hangup")}}
	if err := d.AddEvents(ctx, "twilio", "CA1", "+15550001", "+15550002", first); err != nil {
		t.Fatal(err)
	}
	// Later events may come without numbers; they do not blank them.
	if err := d.AddEvents(ctx, "twilio", "CA1", "", "", second); err != nil {
		t.Fatal(err)
	}
	if err := d.AddEvents(ctx, "plivo", "CA1", "+1", "+2", nil); err != nil { // same id, other provider
		t.Fatal(err)
	}
	c, err := d.GetCall(ctx, "twilio", "CA1")
	if err != nil {
		t.Fatal(err)
	}
	want := Call{
		Provider: "twilio", CallID: "CA1", From: "+15550001", To: "+15550002",
		StartedAt: at(10), Events: append(append([]Event{}, first...), second...),
	}
	for i := range want.Events { // stored with its node id
		want.Events[i].Node = want.Events[i].Menu
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("GetCall =\n%+v\nwant\n%+v", c, want)
	}
	p, err := d.GetCall(ctx, "plivo", "CA1")
	if err != nil {
		t.Fatal(err)
	}
	if p.Events == nil || len(p.Events) != 0 || p.From != "+1" {
		t.Errorf("plivo call = %+v", p)
	}

	// The JSON shape of the call records API.
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"provider", "call_id", "from", "to", "status", "started_at", "ended_at", "duration_seconds", "events", "hangup_cause"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b)
		}
	}
	ev := m["events"].([]any)[0].(map[string]any)
	for _, k := range []string{"at", "menu", "input", "action"} {
		if _, ok := ev[k]; !ok {
			t.Errorf("event JSON lacks %q: %s", k, b)
		}
	}
}

func testUpdateStatus(t *testing.T, newDSN newDSN) {
	d := openT(t, newDSN(t))
	ctx := ctxT(t)
	must := func(u StatusUpdate) {
		t.Helper()
		if err := d.UpdateStatus(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	get := func(id string) Call {
		t.Helper()
		c, err := d.GetCall(ctx, "twilio", id)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if err := d.AddEvents(ctx, "twilio", "CA1", "+1", "+2", []Event{{Event: legacyEvent(at(0), "main", "", "answer")}}); err != nil {
		t.Fatal(err)
	}
	must(StatusUpdate{Provider: "twilio", CallID: "CA1", Status: "in-progress", At: at(1)})
	if c := get("CA1"); c.Status != "in-progress" || c.EndedAt != nil || !c.StartedAt.Equal(at(0)) {
		t.Fatalf("after in-progress: %+v", c)
	}
	done := StatusUpdate{Provider: "twilio", CallID: "CA1", From: "+1", To: "+2", Status: "completed", At: at(42), DurationSeconds: 42, HangupCause: "NORMAL_CLEARING", Final: true}
	must(done)
	want := get("CA1")
	end := at(42)
	if want.Status != "completed" || want.EndedAt == nil || !want.EndedAt.Equal(end) || want.DurationSeconds != 42 ||
		want.HangupCause != "NORMAL_CLEARING" || !want.StartedAt.Equal(at(0)) || len(want.Events) != 1 {
		t.Fatalf("after completed: %+v", want)
	}
	// A provider retry, and a late non-final callback, change nothing.
	must(done)
	retry := done
	retry.At = at(50) // a retry re-delivered later
	must(retry)
	must(StatusUpdate{Provider: "twilio", CallID: "CA1", Status: "ringing", At: at(43)})
	if got := get("CA1"); !reflect.DeepEqual(got, want) {
		t.Errorf("after retries:\n%+v\nwant\n%+v", got, want)
	}

	// A final callback for a call never seen: started = end - duration.
	must(StatusUpdate{Provider: "twilio", CallID: "CA2", From: "+3", To: "+4", Status: "no-answer", At: at(100), DurationSeconds: 30, Final: true})
	c := get("CA2")
	if !c.StartedAt.Equal(at(70)) || c.Status != "no-answer" || c.From != "+3" || c.Events == nil {
		t.Errorf("CA2 = %+v", c)
	}
	// Out of order: completed before ringing.
	must(StatusUpdate{Provider: "twilio", CallID: "CA3", Status: "completed", At: at(200), Final: true})
	must(StatusUpdate{Provider: "twilio", CallID: "CA3", Status: "ringing", At: at(190)})
	if c := get("CA3"); c.Status != "completed" || !c.StartedAt.Equal(at(190)) || c.EndedAt == nil || !c.EndedAt.Equal(at(200)) {
		t.Errorf("CA3 = %+v", c)
	}
	if err := d.UpdateStatus(ctx, StatusUpdate{Provider: "twilio"}); err == nil {
		t.Error("UpdateStatus without call id succeeded")
	}
}

func testPaging(t *testing.T, newDSN newDSN) {
	d := openT(t, newDSN(t))
	ctx := ctxT(t)
	// 37 calls; groups of three share a started_at, so the tiebreak matters.
	var want []string
	for i := range 37 {
		id := fmt.Sprintf("CA%02d", i)
		if err := d.AddEvents(ctx, "twilio", id, "+1", "+2", []Event{{Event: ivr.Event{At: at(i / 3), Menu: "main"}}}); err != nil {
			t.Fatal(err)
		}
		want = append([]string{id}, want...) // newest (and, on ties, latest inserted) first
	}
	for _, limit := range []int{1, 5, 10, 36, 37, 38, 500} {
		var got []string
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > 40 {
				t.Fatalf("limit %d: too many pages", limit)
			}
			calls, next, err := d.ListCalls(ctx, ListOptions{Limit: limit, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			if len(calls) > limit {
				t.Fatalf("limit %d: page of %d", limit, len(calls))
			}
			for _, c := range calls {
				got = append(got, c.CallID)
				if len(c.Events) != 1 {
					t.Errorf("%s has %d events", c.CallID, len(c.Events))
				}
			}
			if next == "" {
				break
			}
			if len(calls) != limit {
				t.Fatalf("limit %d: short page of %d with a next cursor", limit, len(calls))
			}
			cursor = next
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("limit %d: got %v\nwant %v", limit, got, want)
		}
	}
	// Default and maximum page sizes.
	for i := range 520 {
		if err := d.AddEvents(ctx, "plivo", fmt.Sprintf("P%03d", i), "+1", "+2", nil); err != nil {
			t.Fatal(err)
		}
	}
	if calls, next, _ := d.ListCalls(ctx, ListOptions{}); len(calls) != 50 || next == "" {
		t.Errorf("default page: %d calls, next %q", len(calls), next)
	}
	if calls, _, _ := d.ListCalls(ctx, ListOptions{Limit: 10000}); len(calls) != 500 {
		t.Errorf("max page: %d calls", len(calls))
	}
	for _, bad := range []string{"!!", "djE", "eHl6", encodeCursor(at(0), 1)[:5]} {
		if _, _, err := d.ListCalls(ctx, ListOptions{Cursor: bad}); !errors.Is(err, ErrBadCursor) {
			t.Errorf("cursor %q: err = %v, want ErrBadCursor", bad, err)
		}
	}
}

func testFilters(t *testing.T, newDSN newDSN) {
	d := openT(t, newDSN(t))
	ctx := ctxT(t)
	add := func(id, from, to, status string, sec int) {
		t.Helper()
		if err := d.AddEvents(ctx, "twilio", id, from, to, []Event{{Event: ivr.Event{At: at(sec)}}}); err != nil {
			t.Fatal(err)
		}
		if status != "" {
			if err := d.UpdateStatus(ctx, StatusUpdate{Provider: "twilio", CallID: id, Status: status, At: at(sec + 1), Final: status == "completed"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	add("A", "+100", "+900", "completed", 0)
	add("B", "+200", "+100", "busy", 10)
	add("C", "+300", "+900", "completed", 20)
	add("D", "+100", "+900", "", 30)
	add("E", "+400", "+900", "completed", 40)
	ids := func(o ListOptions) []string {
		t.Helper()
		var out []string
		for {
			calls, next, err := d.ListCalls(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range calls {
				out = append(out, c.CallID)
			}
			if next == "" {
				return out
			}
			o.Cursor = next
		}
	}
	for _, tc := range []struct {
		name string
		o    ListOptions
		want []string
	}{
		{"all", ListOptions{}, []string{"E", "D", "C", "B", "A"}},
		{"number from or to", ListOptions{Number: "+100"}, []string{"D", "B", "A"}},
		{"status", ListOptions{Status: "completed"}, []string{"E", "C", "A"}},
		{"since", ListOptions{Since: at(20)}, []string{"E", "D", "C"}},
		{"until", ListOptions{Until: at(20)}, []string{"B", "A"}},
		{"window", ListOptions{Since: at(10), Until: at(40)}, []string{"D", "C", "B"}},
		{"combined, paged", ListOptions{Number: "+900", Status: "completed", Limit: 1}, []string{"E", "C", "A"}},
		{"none", ListOptions{Number: "+555"}, nil},
	} {
		if got := ids(tc.o); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func testMessages(t *testing.T, newDSN newDSN) {
	d := openT(t, newDSN(t))
	ctx := ctxT(t)
	msgs := []Message{
		{Provider: "twilio", ID: "SM1", Direction: "in", From: "+1", To: "+2", Text: "HELP", At: at(0)},
		{Provider: "twilio", ID: "", Direction: "out", From: "+2", To: "+1", Text: "reply", At: at(1)},
		{Provider: "twilio", ID: "", Direction: "out", From: "+2", To: "+1", Text: "reply 2", At: at(2)},
		{Provider: "plivo", ID: "SM1", Direction: "in", From: "+3", To: "+2", Text: "hi", At: at(3)},
		{Provider: "twilio", ID: "SM1", Direction: "in", From: "+1", To: "+2", Text: "HELP", At: at(0)}, // retry
	}
	for _, m := range msgs {
		if err := d.AddMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	got, err := d.ListMessages(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []Message{msgs[3], msgs[2], msgs[1], msgs[0]}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ListMessages =\n%+v\nwant\n%+v", got, want)
	}
	if got, _ := d.ListMessages(ctx, 2); len(got) != 2 {
		t.Errorf("ListMessages(2) returned %d", len(got))
	}
	if err := d.AddMessage(ctx, Message{Provider: "twilio", Direction: "sideways"}); err == nil {
		t.Error("bad direction accepted")
	}
}

func testClaim(t *testing.T, newDSN newDSN) {
	d := openT(t, newDSN(t))
	ctx := ctxT(t)
	clk := &clock{t: at(0)}
	d.now = clk.now
	claim := func(key string, exp time.Time) bool {
		t.Helper()
		ok, err := d.Claim(ctx, key, exp)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !claim("n1", at(300)) {
		t.Fatal("first claim refused")
	}
	if claim("n1", at(300)) {
		t.Fatal("replay accepted")
	}
	clk.t = at(299)
	if claim("n1", at(600)) {
		t.Fatal("replay accepted just before expiry")
	}
	clk.t = at(300)
	if !claim("n1", at(600)) {
		t.Fatal("claim after expiry refused")
	}
	if claim("n1", at(900)) {
		t.Fatal("replay of the renewed claim accepted")
	}
	// Released (the request it came with could not be stored): claimable again, once.
	if err := d.Release(ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	if !claim("n1", at(900)) {
		t.Fatal("claim after Release refused")
	}
	if claim("n1", at(900)) {
		t.Fatal("replay after the new claim accepted")
	}
	if err := d.Release(ctx, "never-claimed"); err != nil {
		t.Fatalf("Release of an unknown key: %v", err)
	}
	// Racing claims of one key: exactly one wins.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			ok, err := d.Claim(ctx, "race", at(1000))
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d racing claims won, want 1", wins.Load())
	}
	var ns interface {
		Claim(ctx context.Context, key string, expires time.Time) (bool, error)
	} = d
	_ = ns
}

func testRetention(t *testing.T, newDSN newDSN) {
	d := openT(t, newDSN(t))
	ctx := ctxT(t)
	clk := &clock{t: at(1000)}
	d.now = clk.now
	for i, sec := range []int{0, 10, 500, 900} {
		id := fmt.Sprintf("C%d", i)
		if err := d.AddEvents(ctx, "twilio", id, "+1", "+2", []Event{{Event: ivr.Event{At: at(sec)}}, {Event: ivr.Event{At: at(sec + 1)}}}); err != nil {
			t.Fatal(err)
		}
		if err := d.AddMessage(ctx, Message{Provider: "twilio", ID: id, Direction: "in", At: at(sec)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, exp := range []int{999, 1000, 1001} {
		if _, err := d.Claim(ctx, fmt.Sprint("n", exp), at(exp)); err != nil {
			t.Fatal(err)
		}
	}
	n, err := d.DeleteOlderThan(ctx, at(500))
	if err != nil {
		t.Fatal(err)
	}
	if n != 2+2+2 { // calls C0, C1; their messages; nonces expiring at 999 and 1000
		t.Errorf("DeleteOlderThan = %d, want 6", n)
	}
	calls, _, err := d.ListCalls(ctx, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 2 || calls[0].CallID != "C3" || calls[1].CallID != "C2" {
		t.Errorf("calls left: %+v", calls)
	}
	events := storedEvents(t, d)
	if events != 4 {
		t.Errorf("%d events left, want 4", events)
	}
	if msgs, _ := d.ListMessages(ctx, 0); len(msgs) != 2 {
		t.Errorf("%d messages left, want 2", len(msgs))
	}
	if ok, _ := d.Claim(ctx, "n1001", at(2000)); ok {
		t.Error("unexpired nonce was deleted")
	}
}

func testTwoInstances(t *testing.T, newDSN newDSN) {
	dsn := newDSN(t)
	a, b := openT(t, dsn), openT(t, dsn)
	ctx := ctxT(t)
	exp := time.Now().Add(time.Hour)
	if ok, err := a.Claim(ctx, "nonce-x", exp); err != nil || !ok {
		t.Fatalf("claim on a: %v %v", ok, err)
	}
	if ok, err := b.Claim(ctx, "nonce-x", exp); err != nil || ok {
		t.Fatalf("claim of the same key on b: ok=%v err=%v, want refused", ok, err)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			db := a
			if i%2 == 1 {
				db = b
			}
			u := StatusUpdate{Provider: "plivo", CallID: fmt.Sprintf("two-%02d", i), Status: "completed", At: at(i), Final: true}
			if err := db.UpdateStatus(ctx, u); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	calls, _, err := a.ListCalls(ctx, ListOptions{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 20 {
		t.Errorf("ListCalls on a sees %d calls, want 20 (written by a and b)", len(calls))
	}
}

func testText(t *testing.T, newDSN newDSN) {
	d := openT(t, newDSN(t))
	ctx := ctxT(t)
	loc := time.FixedZone("X", -5*3600)
	when := time.Date(2026, 3, 1, 7, 0, 0, 123456789, loc)
	ev := []Event{{Event: legacyEvent(when, "m\x00enu", "\xff\xfe", "ünïcødé ☎")}}
	if err := d.AddEvents(ctx, "twilio", "CAx", "+1", "+2", ev); err != nil {
		t.Fatal(err)
	}
	c, err := d.GetCall(ctx, "twilio", "CAx")
	if err != nil {
		t.Fatal(err)
	}
	got := c.Events[0]
	if !got.At.Equal(when.Truncate(time.Microsecond)) || got.At.Location() != time.UTC {
		t.Errorf("time %v (%v), want %v in UTC", got.At, got.At.Location(), when)
	}
	if got.Menu != "menu" || got.Input() != "\uFFFD" || got.Action() != "ünïcødé ☎" {
		t.Errorf("text = %q %q %q", got.Menu, got.Input(), got.Action())
	}
}

func TestRedactUnparsable(t *testing.T) {
	for _, dsn := range []string{
		"postgres://ivr:p%zz#s3cretpw@db:5432/ivr",
		"postgres://ivr:s3c@retpw@db:5432/ivr?x=%zz",
		"postgres://db/ivr?sslmode=disable&password=s3cretpw",
		"postgres://db/ivr?x=%zz&password=s3cretpw",
	} {
		got := redact(dsn)
		if strings.Contains(got, "retpw") {
			t.Errorf("redact(%q) = %q: the password shows", dsn, got)
		}
		if !strings.Contains(got, "db") {
			t.Errorf("redact(%q) = %q: the host is gone", dsn, got)
		}
	}
}
