package auth

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestMemoryNoncesClaim(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	m := NewMemoryNonces(3, time.Hour)
	m.now = clock.now

	claim := func(key string, expires time.Time, want bool) {
		t.Helper()
		got, err := m.Claim(ctx, key, expires)
		if err != nil || got != want {
			t.Fatalf("Claim(%q) = %v, %v; want %v", key, got, err, want)
		}
	}
	in := func(d time.Duration) time.Time { return clock.t.Add(d) }

	claim("a", in(time.Minute), true)
	claim("a", in(time.Minute), false) // replay
	claim("b", time.Time{}, true)      // zero expires: ttl
	claim("c", in(48*time.Hour), true) // capped at ttl
	if m.Len() != 3 {
		t.Fatalf("Len = %d", m.Len())
	}

	clock.t = clock.t.Add(2 * time.Minute) // "a" expired
	claim("a", in(time.Minute), true)
	claim("b", in(time.Minute), false)

	claim("d", in(30*time.Minute), true) // full: evicts the soonest to expire ("a")
	if m.Len() != 3 {
		t.Fatalf("Len after eviction = %d, want 3", m.Len())
	}
	claim("c", in(time.Minute), false) // still held
	claim("a", in(time.Minute), true)  // was evicted

	clock.t = clock.t.Add(2 * time.Hour) // everything expired
	claim("b", in(time.Minute), true)
	if m.Len() != 1 {
		t.Fatalf("Len after expiry = %d, want 1", m.Len())
	}
	claim("past", clock.t.Add(-time.Second), true) // already expired: accepted, not kept
	if m.Len() != 1 {
		t.Fatalf("Len = %d, want 1", m.Len())
	}
}

func TestMemoryNoncesCanceledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := NewMemoryNonces(0, 0).Claim(ctx, "k", time.Now().Add(time.Minute)); err == nil {
		t.Fatal("canceled context: no error")
	}
}

// TestMemoryNoncesConcurrent: of many goroutines claiming one key, exactly one wins.
func TestMemoryNoncesConcurrent(t *testing.T) {
	m := NewMemoryNonces(1000, time.Minute)
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := m.Claim(context.Background(), "same", time.Now().Add(time.Minute))
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
			_, _ = m.Claim(context.Background(), fmt.Sprint("own-", i), time.Now().Add(time.Minute))
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d winners, want 1", wins.Load())
	}
	if m.Len() != 65 {
		t.Fatalf("Len = %d, want 65", m.Len())
	}
}

func BenchmarkMemoryNoncesClaim(b *testing.B) {
	b.ReportAllocs()
	m := NewMemoryNonces(10_000, time.Hour)
	ctx := context.Background()
	keys := make([]string, 100_000)
	for i := range keys {
		keys[i] = fmt.Sprintf("plivo-v3:%020d", i)
	}
	exp := time.Now().Add(time.Hour)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		_, _ = m.Claim(ctx, keys[i%len(keys)], exp)
	}
}

// TestMemoryNoncesRelease: a released nonce can be claimed again, and
// releases in any order keep the expiry order intact (checked against a
// plain map after every step).
func TestMemoryNoncesRelease(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	m := NewMemoryNonces(1000, time.Hour)
	m.now = clock.now
	model := map[string]time.Time{} // key -> expires
	check := func(step string) {
		t.Helper()
		if len(m.order) != len(m.entries) {
			t.Fatalf("%s: %d in the heap, %d in the map", step, len(m.order), len(m.entries))
		}
		for i, e := range m.order {
			if e.index != i || m.entries[e.key] != e {
				t.Fatalf("%s: heap entry %d (%q) has index %d or is not the map's", step, i, e.key, e.index)
			}
			if l, r := 2*i+1, 2*i+2; (l < len(m.order) && m.order[l].expires.Before(e.expires)) || (r < len(m.order) && m.order[r].expires.Before(e.expires)) {
				t.Fatalf("%s: heap order broken at %d", step, i)
			}
		}
	}
	for i := 0; i < 2000; i++ {
		key := fmt.Sprint("k", (i*7919)%37)
		switch i % 5 {
		case 0, 1, 2:
			exp := clock.t.Add(time.Duration(1+(i*31)%600) * time.Second)
			want := true
			if e, ok := model[key]; ok && e.After(clock.t) {
				want = false
			}
			got, err := m.Claim(ctx, key, exp)
			if err != nil || got != want {
				t.Fatalf("step %d: Claim(%q) = %v, %v; want %v", i, key, got, err, want)
			}
			if got {
				model[key] = exp
			}
		case 3:
			if err := m.Release(ctx, key); err != nil {
				t.Fatal(err)
			}
			delete(model, key)
			if ok, _ := m.Claim(ctx, key, clock.t.Add(time.Minute)); !ok {
				t.Fatalf("step %d: %q not claimable after Release", i, key)
			}
			model[key] = clock.t.Add(time.Minute)
			if err := m.Release(ctx, key); err != nil {
				t.Fatal(err)
			}
			delete(model, key)
		case 4:
			clock.t = clock.t.Add(17 * time.Second)
		}
		check(fmt.Sprint("step ", i))
	}
	if err := m.Release(ctx, "never-claimed"); err != nil {
		t.Errorf("Release of an unknown key: %v", err)
	}
}
