package guard

import (
	"net/netip"
	"sync"
	"time"
)

// Lockout limits guessing of a secret (the admin token) by client address:
// after Max wrong attempts from one client within Window, every attempt from
// it, right or wrong, is refused until Window has passed since the first of
// them. A right answer clears the client's count.
//
// IPv6 clients are counted by their /64 (what one host usually holds), IPv4
// clients by address. At most MaxClients clients are tracked; past that, the
// expired entries are swept and, if it is still full, one entry is dropped,
// so memory stays bounded whatever the number of addresses.
//
// The zero value is not usable; use NewLockout.
type Lockout struct {
	Max        int
	Window     time.Duration
	MaxClients int
	Now        func() time.Time // tests set a clock; nil means time.Now

	mu      sync.Mutex
	clients map[netip.Addr]*attempts
}

type attempts struct {
	first time.Time // start of the current window
	n     int       // wrong attempts in it
}

// NewLockout returns a Lockout allowing limit wrong attempts per client within window.
func NewLockout(limit int, window time.Duration) *Lockout {
	return &Lockout{Max: limit, Window: window, MaxClients: 10000, clients: make(map[netip.Addr]*attempts)}
}

// lockoutKey is the address a client is counted under.
func lockoutKey(a netip.Addr) netip.Addr {
	a = a.Unmap()
	if a.Is6() {
		p, err := a.Prefix(64)
		if err == nil {
			return p.Addr()
		}
	}
	return a
}

func (l *Lockout) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Blocked reports whether client may not try now, and for how long still.
func (l *Lockout) Blocked(client netip.Addr) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	a := l.clients[lockoutKey(client)]
	if a == nil || a.n < l.Max {
		return 0, false
	}
	left := a.first.Add(l.Window).Sub(l.now())
	if left <= 0 {
		return 0, false
	}
	return left, true
}

// Fail counts a wrong attempt by client. It returns true when that attempt
// is the one that locks the client out.
func (l *Lockout) Fail(client netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	k := lockoutKey(client)
	a := l.clients[k]
	if a == nil {
		l.makeRoom(now)
		a = &attempts{first: now}
		l.clients[k] = a
	}
	if now.Sub(a.first) >= l.Window {
		a.first, a.n = now, 0
	}
	a.n++
	return a.n == l.Max
}

// Succeed clears client's wrong attempts.
func (l *Lockout) Succeed(client netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.clients, lockoutKey(client))
}

// makeRoom keeps the table under MaxClients entries (l.mu held).
func (l *Lockout) makeRoom(now time.Time) {
	if len(l.clients) < l.MaxClients {
		return
	}
	for k, a := range l.clients {
		if now.Sub(a.first) >= l.Window {
			delete(l.clients, k)
		}
	}
	for k := range l.clients {
		if len(l.clients) < l.MaxClients {
			return
		}
		delete(l.clients, k)
	}
}
