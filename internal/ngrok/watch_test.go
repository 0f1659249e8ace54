package ngrok

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// switchableAgent serves one tunnel whose public URL the test changes; an
// empty URL makes the agent answer 502 (restarting).
type switchableAgent struct {
	url atomic.Pointer[string]
	srv *httptest.Server
}

func newSwitchableAgent(t *testing.T, u string) *switchableAgent {
	a := &switchableAgent{}
	a.url.Store(&u)
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := *a.url.Load()
		if cur == "" {
			http.Error(w, "restarting", http.StatusBadGateway)
			return
		}
		w.Write([]byte(`{"tunnels":[{"public_url":"` + cur + `","proto":"https","config":{"addr":"http://localhost:8080"}}]}`))
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *switchableAgent) set(u string) { a.url.Store(&u) }

func TestWatchFollowsAChangedTunnel(t *testing.T) {
	a := newSwitchableAgent(t, "https://first.ngrok.app")
	var mu sync.Mutex
	var seen [][2]string
	changed := make(chan struct{}, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		Watch(ctx, http.DefaultClient, a.srv.URL, "8080", "https://first.ngrok.app", 5*time.Millisecond, func(old, now string) {
			mu.Lock()
			seen = append(seen, [2]string{old, now})
			mu.Unlock()
			changed <- struct{}{}
		})
		close(done)
	}()
	a.set("") // the agent restarting: the last URL is kept, no change reported
	a.set("https://second.ngrok.app")
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("the changed tunnel was not noticed")
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0] != [2]string{"https://first.ngrok.app", "https://second.ngrok.app"} {
		t.Errorf("changes seen: %v", seen)
	}
}
