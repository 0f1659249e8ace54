package store

import (
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// The PostgreSQL batch passes its rows as arrays, one per column (unnest).
// pgx encodes a []string, []time.Time or [][]byte by boxing every element
// into an interface: one allocation per element, a third of the writer's
// allocations on a batch of new calls. These array types hand pgx a
// pointer to each element instead (no allocation), of a type whose value
// pgx reads through an interface (TextValuer, TimestamptzValuer,
// BytesValuer). A nil array is SQL NULL, as for pgx's own.

// textArray is a text[] parameter.
type textArray []string

func (a textArray) Dimensions() []pgtype.ArrayDimension { return dimensions(len(a), a == nil) }
func (a textArray) Index(i int) any                     { return (*pgText)(&a[i]) }
func (a textArray) IndexType() any                      { return new(pgText) }

type pgText string

func (s *pgText) TextValue() (pgtype.Text, error) {
	return pgtype.Text{String: string(*s), Valid: true}, nil
}

// timeArray is a timestamptz[] parameter.
type timeArray []time.Time

func (a timeArray) Dimensions() []pgtype.ArrayDimension { return dimensions(len(a), a == nil) }
func (a timeArray) Index(i int) any                     { return (*pgTime)(&a[i]) }
func (a timeArray) IndexType() any                      { return new(pgTime) }

type pgTime time.Time

func (t *pgTime) TimestamptzValue() (pgtype.Timestamptz, error) {
	return pgtype.Timestamptz{Time: time.Time(*t), Valid: true}, nil
}

// byteaArray is a bytea[] parameter; a nil element is NULL.
type byteaArray [][]byte

func (a byteaArray) Dimensions() []pgtype.ArrayDimension { return dimensions(len(a), a == nil) }
func (a byteaArray) Index(i int) any                     { return (*pgBytes)(&a[i]) }
func (a byteaArray) IndexType() any                      { return new(pgBytes) }

type pgBytes []byte

func (b *pgBytes) BytesValue() ([]byte, error) { return *b, nil }

// dimensions is a one-dimensional array's of n elements (nil: NULL).
func dimensions(n int, null bool) []pgtype.ArrayDimension {
	if null {
		return nil
	}
	return []pgtype.ArrayDimension{{Length: int32(n), LowerBound: 1}}
}
