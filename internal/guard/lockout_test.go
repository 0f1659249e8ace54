package guard

import (
	"net/netip"
	"testing"
	"time"
)

func TestLockout(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	l := NewLockout(3, time.Minute)
	l.Now = func() time.Time { return now }
	a := netip.MustParseAddr("192.0.2.1")
	b := netip.MustParseAddr("192.0.2.2")

	for i := 1; i <= 3; i++ {
		if _, blocked := l.Blocked(a); blocked {
			t.Fatalf("blocked before attempt %d", i)
		}
		if locks := l.Fail(a); locks != (i == 3) {
			t.Fatalf("Fail #%d locks = %v", i, locks)
		}
		now = now.Add(10 * time.Second)
	}
	left, blocked := l.Blocked(a)
	if !blocked || left != 30*time.Second {
		t.Fatalf("after 3 wrong: blocked %v for %s, want true for 30s (the window runs from the first)", blocked, left)
	}
	if _, blocked := l.Blocked(b); blocked {
		t.Fatal("another address is blocked too")
	}
	if l.Fail(a) {
		t.Error("a 4th wrong attempt says it locked the client again")
	}

	now = now.Add(30 * time.Second) // the window since the first attempt is over
	if _, blocked := l.Blocked(a); blocked {
		t.Fatal("still blocked after the window")
	}
	l.Fail(a) // a new window: 1 of 3
	if _, blocked := l.Blocked(a); blocked {
		t.Fatal("one wrong attempt in a new window blocks")
	}

	l.Fail(a)
	l.Succeed(a)
	l.Fail(a)
	l.Fail(a)
	if _, blocked := l.Blocked(a); blocked {
		t.Fatal("a right answer did not clear the count")
	}
}

func TestLockoutKeys(t *testing.T) {
	for _, tc := range []struct {
		name      string
		first     string
		second    string
		sameCount bool
	}{
		{"same IPv4", "192.0.2.1", "192.0.2.1", true},
		{"IPv4 neighbours", "192.0.2.1", "192.0.2.2", false},
		{"IPv4-mapped IPv6 is the IPv4 address", "::ffff:192.0.2.1", "192.0.2.1", true},
		{"one IPv6 /64", "2001:db8:1:2::1", "2001:db8:1:2:ffff::9", true},
		{"two IPv6 /64s", "2001:db8:1:2::1", "2001:db8:1:3::1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := NewLockout(2, time.Minute)
			l.Fail(netip.MustParseAddr(tc.first))
			l.Fail(netip.MustParseAddr(tc.second))
			_, blocked := l.Blocked(netip.MustParseAddr(tc.first))
			if blocked != tc.sameCount {
				t.Errorf("blocked = %v, want %v", blocked, tc.sameCount)
			}
		})
	}
}

func TestLockoutBounded(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	l := NewLockout(1, time.Minute)
	l.MaxClients = 3
	l.Now = func() time.Time { return now }
	for i := 0; i < 100; i++ {
		l.Fail(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}))
		if n := len(l.clients); n > 3 {
			t.Fatalf("after %d clients the table holds %d, want at most 3", i+1, n)
		}
	}
	last := netip.AddrFrom4([4]byte{198, 51, 100, 99})
	if _, blocked := l.Blocked(last); !blocked {
		t.Error("the newest client was not kept")
	}
	// Expired entries go first: after the window, new clients do not evict each other at random.
	now = now.Add(2 * time.Minute)
	fresh := []netip.Addr{netip.MustParseAddr("203.0.113.1"), netip.MustParseAddr("203.0.113.2"), netip.MustParseAddr("203.0.113.3")}
	for _, a := range fresh {
		l.Fail(a)
	}
	for _, a := range fresh {
		if _, blocked := l.Blocked(a); !blocked {
			t.Errorf("%s lost while expired entries were there to sweep", a)
		}
	}
}
