package server

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ivr-project/ivr/internal/store"
)

// depthAtWrite is a ResponseWriter that notes the record writer's queue
// depth when the answer's first byte is written.
type depthAtWrite struct {
	*httptest.ResponseRecorder
	events *store.Writer
	depth  int
	wrote  bool
}

func (d *depthAtWrite) Write(b []byte) (int, error) {
	if !d.wrote {
		d.wrote, d.depth = true, d.events.Depth()
	}
	return d.ResponseRecorder.Write(b)
}

func (d *depthAtWrite) Flush() { d.ResponseRecorder.Flush() }

// TestStepRecordsQueuedBeforeAnswer: a voice step's records are queued
// before its answer goes out, so the status callback the answer leads to
// (the provider sends it once the caller hangs up) finds them queued and
// leaves the call's summary to the writer's batch (store.Writer.UpdateStatus).
func TestStepRecordsQueuedBeforeAnswer(t *testing.T) {
	events := store.NewWriter(nil, 100, nil) // not running: the queue keeps what is queued
	a := newTestApp(t, func(d *Deps) { d.Events = events })
	for _, provider := range []string{"twilio", "plivo"} {
		before := events.Depth()
		w := &depthAtWrite{ResponseRecorder: httptest.NewRecorder(), events: events}
		a.handler.ServeHTTP(w, a.request(provider, http.MethodPost, "/"+provider+"/voice", callForm(provider)))
		if w.Code != http.StatusOK || !w.wrote {
			t.Fatalf("%s: answer %d, written %v", provider, w.Code, w.wrote)
		}
		if w.depth != before+1 {
			t.Errorf("%s: %d records queued when the answer was written, want %d", provider, w.depth-before, 1)
		}
	}
}
