package server

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ivr-project/ivr/internal/testutil"
)

func withLogTo(w *testutil.Buffer) appOption {
	return func(d *Deps) {
		d.Logger = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
}

// What a request sends (its path, a call id, an error quoting its URL) is
// logged capped: a megabyte path does not make a megabyte log line.
func TestLogLinesCapped(t *testing.T) {
	long := strings.Repeat("a", 1<<20)
	for _, p := range []string{"twilio", "plivo"} {
		t.Run(p, func(t *testing.T) {
			var logs testutil.Buffer
			app := newTestApp(t, withLogTo(&logs))
			// Unsigned, on an unknown path: refused, logged with its path.
			r := httptest.NewRequest(http.MethodPost, "/"+p+"/voice/"+long, strings.NewReader("x=1"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			app.serve(r)
			// Signed, with a megabyte call id and a megabyte path the flow does not know.
			form := callForm(p)
			form.Set(map[string]string{"twilio": "CallSid", "plivo": "CallUUID"}[p], long)
			app.serve(app.request(p, http.MethodPost, "/"+p+"/voice/menu/"+long[:4000], form))
			// A signature for another URL: the diagnosis quotes the URL.
			r = app.request(p, http.MethodPost, "/"+p+"/voice", form)
			r.URL.Path += "/" + long[:100000]
			r.RequestURI = r.URL.Path
			app.serve(r)

			out := logs.String()
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) < 3 {
				t.Fatalf("want at least 3 log lines, got %d:\n%.2000s", len(lines), out)
			}
			for _, l := range lines {
				if len(l) > 8<<10 {
					t.Errorf("log line of %d bytes: %.300s…", len(l), l)
				}
			}
			if !strings.Contains(out, "bytes)") {
				t.Errorf("no log value says it was cut:\n%.2000s", out)
			}
		})
	}
}
