package voice

import (
	"math"
	"strconv"
	"strings"

	"github.com/ivr-project/ivr/internal/store"
)

// callDuration reads a callback's duration in seconds. Whatever the field
// holds, the rest of the callback is kept: surrounding spaces are ignored, a
// fraction is rounded, and a value that cannot be a call's length (negative,
// not a number, longer than store.MaxDurationSeconds) is dropped as unknown.
// note says what was done to a value that was not a plain whole number ("" if
// nothing), for the log.
func callDuration(s string) (seconds int, note string) {
	t := strings.TrimSpace(s)
	if n, err := strconv.Atoi(t); err == nil && n >= 0 && n <= store.MaxDurationSeconds {
		if t != s {
			return n, "spaces around the number ignored"
		}
		return n, ""
	}
	f, err := strconv.ParseFloat(t, 64)
	switch {
	case err != nil && !isRangeErr(err), math.IsNaN(f):
		return 0, "not a number: dropped"
	case f < 0:
		return 0, "negative: dropped"
	case f > store.MaxDurationSeconds:
		return 0, "longer than " + strconv.Itoa(store.MaxDurationSeconds/86400) + " days: dropped"
	}
	return int(math.Round(f)), "not a whole number of seconds: rounded"
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}
