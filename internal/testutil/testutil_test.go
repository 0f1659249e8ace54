package testutil

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestBufferConcurrentWrites(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				b.Write([]byte("x"))
			}
		})
	}
	wg.Wait()
	if n := len(b.String()); n != 800 {
		t.Fatalf("wrote 800 bytes, buffer holds %d", n)
	}
	b.Reset()
	if b.String() != "" {
		t.Fatal("Reset left content")
	}
}

func TestEventually(t *testing.T) {
	var n atomic.Int32
	if !Eventually(time.Second, func() bool { return n.Add(1) >= 3 }) {
		t.Fatal("a condition true on the third poll was not seen")
	}
	if Eventually(20*time.Millisecond, func() bool { return false }) {
		t.Fatal("a condition never true was reported true")
	}
}

func TestLoadVectors(t *testing.T) {
	vs := LoadVectors(t)
	if vs.Tokens.PublicBase == "" || vs.Tokens.Twilio == "" || vs.Tokens.Plivo == "" {
		t.Fatalf("tokens not read: %+v", vs.Tokens)
	}
	for _, v := range vs.Vectors {
		if v.Name == "" || v.URL == "" || !strings.HasPrefix(v.Provider, "twilio") && !strings.HasPrefix(v.Provider, "plivo") {
			t.Fatalf("vector not read whole: %+v", v)
		}
	}
}
