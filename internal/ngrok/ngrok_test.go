package ngrok

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// agent serves the ngrok agent API's /api/tunnels JSON shape.
func agent(t *testing.T, body string, status int) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/tunnels" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

const twoTunnels = `{"tunnels":[
 {"name":"other","public_url":"https://other.ngrok.app","proto":"https","config":{"addr":"http://localhost:3000","inspect":true}},
 {"name":"ivr (http)","public_url":"http://abc.ngrok.app","proto":"http","config":{"addr":"http://localhost:8080"}},
 {"name":"ivr","public_url":"https://abc.ngrok.app","proto":"https","config":{"addr":"http://localhost:8080","inspect":true}}
],"uri":"/api/tunnels"}`

func TestDiscover(t *testing.T) {
	cases := []struct {
		name, body, port, want, wantErr string
		status                          int
	}{
		{name: "the https tunnel to our port", body: twoTunnels, port: "8080", want: "https://abc.ngrok.app"},
		{name: "no tunnel to our port: any https one", body: twoTunnels, port: "9999", want: "https://other.ngrok.app"},
		{name: "bare port addr", body: `{"tunnels":[{"public_url":"https://x.ngrok-free.app/","proto":"https","config":{"addr":"8080"}}]}`, port: "8080", want: "https://x.ngrok-free.app"},
		{name: "only http tunnels", body: `{"tunnels":[{"public_url":"http://x.ngrok.app","proto":"http","config":{"addr":"8080"}}]}`, port: "8080", wantErr: "no https tunnel"},
		{name: "garbage", body: `not json`, port: "8080", wantErr: "ngrok agent API"},
		{name: "agent error", body: `{}`, port: "8080", status: 502, wantErr: "502"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status := c.status
			if status == 0 {
				status = 200
			}
			got, err := Discover(context.Background(), http.DefaultClient, agent(t, c.body, status), c.port)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("want error containing %q, got %q, %v", c.wantErr, got, err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

func TestDiscoverNoAgent(t *testing.T) {
	if _, err := Discover(context.Background(), http.DefaultClient, "http://127.0.0.1:1", "8080"); err == nil {
		t.Fatal("no agent must be an error")
	}
}
