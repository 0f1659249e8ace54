package store

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// TestPgArrays: the batch's array parameters encode as pgx's own arrays do
// (a nil element or array is NULL) and without an allocation per element.
func TestPgArrays(t *testing.T) {
	m := pgtype.NewMap()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 123000, time.UTC)
	for _, c := range []struct {
		name      string
		oid       uint32
		ours, pgx any
		back      any // decodes into
		want      any
	}{
		{"text", pgtype.TextArrayOID, textArray{"a", "", "ü"}, []string{"a", "", "ü"}, &[]string{}, []string{"a", "", "ü"}},
		{"timestamptz", pgtype.TimestamptzArrayOID, timeArray{t0, t0.Add(time.Hour)}, []time.Time{t0, t0.Add(time.Hour)}, &[]time.Time{}, []time.Time{t0, t0.Add(time.Hour)}},
		{"bytea", pgtype.ByteaArrayOID, byteaArray{{1, 2}, nil, {}}, [][]byte{{1, 2}, nil, {}}, &[][]byte{}, [][]byte{{1, 2}, nil, {}}},
	} {
		got, err := m.Encode(c.oid, pgtype.BinaryFormatCode, c.ours, nil)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		want, err := m.Encode(c.oid, pgtype.BinaryFormatCode, c.pgx, nil)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: encoded %x, pgx's own %x", c.name, got, want)
		}
		if err := m.Scan(c.oid, pgtype.BinaryFormatCode, got, c.back); err != nil {
			t.Fatalf("%s: decode: %v", c.name, err)
		}
		// (%v: times compare by instant and zone, not representation)
		if back := reflect.ValueOf(c.back).Elem().Interface(); fmt.Sprintf("%#v", back) != fmt.Sprintf("%#v", c.want) && fmt.Sprint(back) != fmt.Sprint(c.want) {
			t.Errorf("%s: decoded %v, want %v", c.name, back, c.want)
		}
	}
	if got, err := m.Encode(pgtype.TextArrayOID, pgtype.BinaryFormatCode, textArray(nil), nil); err != nil || got != nil {
		t.Errorf("nil textArray: %x, %v; want NULL", got, err)
	}
	// Allocations do not grow with the number of elements.
	allocs := func(n int) float64 {
		texts, times, blobs := make(textArray, n), make(timeArray, n), make(byteaArray, n)
		for i := range n {
			texts[i], times[i], blobs[i] = "+14155550100", t0, []byte{1, 2, 3}
		}
		buf := make([]byte, 0, 1<<20)
		return testing.AllocsPerRun(10, func() {
			for _, v := range []any{texts, times, blobs} {
				_, _ = m.Encode(arrayOID(v), pgtype.BinaryFormatCode, v, buf[:0])
			}
		})
	}
	if few, many := allocs(10), allocs(1000); many > few+5 {
		t.Errorf("encoding 3 arrays of 1,000 elements: %.0f allocations, of 10: %.0f", many, few)
	}
}

func arrayOID(v any) uint32 {
	switch v.(type) {
	case textArray:
		return pgtype.TextArrayOID
	case timeArray:
		return pgtype.TimestamptzArrayOID
	}
	return pgtype.ByteaArrayOID
}
