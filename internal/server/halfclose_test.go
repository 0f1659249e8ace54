package server

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/testutil"
	"github.com/ivr-project/ivr/internal/xml"
)

// A request whose client has gone (the server cancels its context when the
// client closes its side of the connection) is still answered in full and
// recorded: only the voice deadline may cut a step short.
func TestClientGoneStillAnsweredAndRecorded(t *testing.T) {
	for _, p := range []string{"twilio", "plivo"} {
		t.Run(p, func(t *testing.T) {
			var logs testutil.Buffer
			app := newTestApp(t, withLogTo(&logs))
			gone, cancel := context.WithCancel(context.Background())
			cancel()

			form := callForm(p)
			w := app.serve(app.request(p, http.MethodPost, "/"+p+"/voice", form).WithContext(gone))
			if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "<Response>") || strings.Contains(w.Body.String(), strings.TrimPrefix(testCallCenter, "+")) {
				t.Fatalf("voice with the client gone: %d %q, want the menu", w.Code, w.Body.String())
			}
			id := form.Get(map[string]string{"twilio": "CallSid", "plivo": "CallUUID"}[p])
			testutil.WaitFor(t, "the step's events", func() bool {
				c, err := app.db.GetCall(context.Background(), p, id)
				return err == nil && len(c.Events) > 0
			})
			if !strings.Contains(logs.String(), "closed its side") {
				t.Errorf("no log line about the client:\n%s", logs.String())
			}

			path := map[string]string{"twilio": "/twilio/status", "plivo": "/plivo/hangup"}[p]
			form.Set("CallStatus", "completed")
			w = app.serve(app.request(p, http.MethodPost, path, form).WithContext(gone))
			if w.Code != http.StatusOK {
				t.Fatalf("status callback with the client gone: %d %q, want 200 (stored)", w.Code, w.Body.String())
			}
			if c, err := app.db.GetCall(context.Background(), p, id); err != nil || c.Status != "completed" {
				t.Errorf("status callback with the client gone: stored %+v, %v", c, err)
			}
		})
	}
}

// The same over a real connection: the client sends its request, shuts its
// writing side (half-close) and reads the answer.
func TestHalfClosedClientGetsTheMenu(t *testing.T) {
	reqCtx := make(chan context.Context, 1)
	app := newTestApp(t, func(d *Deps) {
		d.Render = func(provider, base string, steps []ivr.Step) ([]byte, error) {
			// Render only once the server has seen the half-close (it
			// cancels the request's context), so the order is certain.
			select {
			case ctx := <-reqCtx:
				select {
				case <-ctx.Done():
				case <-time.After(10 * time.Second):
					t.Error("the server never noticed the half-close")
				}
			default:
			}
			if provider == "plivo" {
				return xml.Plivo(base, steps)
			}
			return xml.Twilio(base, steps)
		}
		d.Config.VoiceDeadline = 20 * time.Second
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqCtx <- r.Context()
		app.handler.ServeHTTP(w, r)
	}))
	defer srv.Close()

	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := app.request("twilio", http.MethodPost, "/twilio/voice", callForm("twilio"))
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "<Gather") {
		t.Fatalf("half-closed client got %d %q, want the menu", resp.StatusCode, body)
	}
	testutil.WaitFor(t, "the step's events", func() bool {
		c, err := app.db.GetCall(context.Background(), "twilio", callForm("twilio").Get("CallSid"))
		return err == nil && len(c.Events) > 0
	})
}
