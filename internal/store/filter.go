package store

import (
	"strconv"
	"strings"
)

// filter builds a query's WHERE clause with numbered arguments ($1, $2, ...;
// the SQLite driver reads them too).
type filter struct {
	conds []string
	args  []any
}

// arg adds v to the arguments and returns its placeholder.
func (f *filter) arg(v any) string {
	f.args = append(f.args, v)
	return "$" + strconv.Itoa(len(f.args))
}

// and adds a condition.
func (f *filter) and(cond string) { f.conds = append(f.conds, cond) }

// where is " WHERE cond AND cond ...", or "" without conditions.
func (f *filter) where() string {
	if len(f.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(f.conds, " AND ")
}
