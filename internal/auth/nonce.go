package auth

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// NonceStore remembers nonces of authentic requests. Claim records key until
// expires and reports true if key was not already held (an unexpired claim), false
// if it was: a replay. The middlewares claim a nonce only after its signature
// checked out, so a forged request never uses up a nonce. internal/store's DB
// implements it for nonces that survive restarts and are shared between instances.
type NonceStore interface {
	Claim(ctx context.Context, key string, expires time.Time) (bool, error)
}

// NonceReleaser is a NonceStore that can give a claimed nonce back (see
// ReleaseNonce): both MemoryNonces and internal/store's DB are.
type NonceReleaser interface {
	Release(ctx context.Context, key string) error
}

// MemoryNonces is an in-process NonceStore: bounded, expiring, safe for
// concurrent use. When full, the entry closest to expiry is dropped to make room.
type MemoryNonces struct {
	capacity int
	ttl      time.Duration
	now      func() time.Time

	mu      sync.Mutex
	entries map[string]*nonceEntry
	order   nonceHeap // by expiry, soonest first
}

type nonceEntry struct {
	key     string
	expires time.Time
	index   int // in order
}

// NewMemoryNonces returns a store of at most capacity nonces (capacity <= 0
// means DefaultNonceCapacity). ttl (if > 0) caps how long any nonce is kept
// and is the lifetime of a Claim with a zero expires.
func NewMemoryNonces(capacity int, ttl time.Duration) *MemoryNonces {
	if capacity <= 0 {
		capacity = DefaultNonceCapacity
	}
	return &MemoryNonces{capacity: capacity, ttl: ttl, now: time.Now, entries: make(map[string]*nonceEntry)}
}

// Claim implements NonceStore.
func (m *MemoryNonces) Claim(ctx context.Context, key string, expires time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	now := m.now()
	if m.ttl > 0 && (expires.IsZero() || expires.After(now.Add(m.ttl))) {
		expires = now.Add(m.ttl)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for len(m.order) > 0 && !m.order[0].expires.After(now) {
		e := heap.Pop(&m.order).(*nonceEntry)
		delete(m.entries, e.key)
	}
	if _, held := m.entries[key]; held {
		return false, nil
	}
	if !expires.After(now) {
		return true, nil // already expired: nothing to remember
	}
	for len(m.order) >= m.capacity {
		e := heap.Pop(&m.order).(*nonceEntry)
		delete(m.entries, e.key)
	}
	e := &nonceEntry{key: key, expires: expires}
	heap.Push(&m.order, e)
	m.entries[key] = e
	return true, nil
}

// Release implements NonceReleaser: key is no longer held.
func (m *MemoryNonces) Release(ctx context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, held := m.entries[key]; held {
		heap.Remove(&m.order, e.index)
		delete(m.entries, key)
	}
	return nil
}

// Len returns the number of nonces held (expired ones may still be counted until
// the next Claim).
func (m *MemoryNonces) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

type nonceHeap []*nonceEntry

func (h nonceHeap) Len() int           { return len(h) }
func (h nonceHeap) Less(i, j int) bool { return h[i].expires.Before(h[j].expires) }
func (h nonceHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *nonceHeap) Push(x any) {
	e := x.(*nonceEntry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *nonceHeap) Pop() any {
	old := *h
	n := len(old)
	e := old[n-1]
	old[n-1] = nil
	*h = old[:n-1]
	return e
}
