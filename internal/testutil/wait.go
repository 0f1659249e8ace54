package testutil

import (
	"testing"
	"time"
)

// WaitTimeout is how long WaitFor waits before it fails the test.
const WaitTimeout = 30 * time.Second

// Eventually polls cond until it is true (true) or timeout has passed
// (false). It polls often at first and then every 100ms, so a slow
// condition (an HTTP round trip, a browser page) is not hammered.
func Eventually(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	pause := time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(pause)
		pause = min(2*pause, 100*time.Millisecond)
	}
	return true
}

// WaitFor polls cond until it is true, and fails the test (naming what it
// waited for) when it is still false after WaitTimeout.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	WaitForWithin(t, WaitTimeout, what, cond)
}

// WaitForWithin is WaitFor with a timeout of its own.
func WaitForWithin(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Eventually(timeout, cond) {
		t.Fatalf("timed out after %s waiting for %s", timeout, what)
	}
}
