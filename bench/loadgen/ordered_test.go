package main

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// callLog is a test server's record of the requests of each call.
type callLog struct {
	mu       sync.Mutex
	seen     map[string][]string // CallSid -> "path digits" in arrival order
	inflight map[string]bool
	overlaps int // a request of a call arrived while another of it was unanswered
	total    int
}

func newCallLog() *callLog {
	return &callLog{seen: map[string][]string{}, inflight: map[string]bool{}}
}

// handler records each request, takes a little while (so that the
// connections' requests interleave) and answers with answer(path).
func (l *callLog) handler(answer func(w http.ResponseWriter, r *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		sid := r.PostForm.Get("CallSid")
		l.mu.Lock()
		if l.inflight[sid] {
			l.overlaps++
		}
		l.inflight[sid] = true
		l.seen[sid] = append(l.seen[sid], r.URL.Path+" "+r.PostForm.Get("Digits"))
		l.total++
		l.mu.Unlock()
		time.Sleep(50 * time.Microsecond)
		l.mu.Lock()
		l.inflight[sid] = false
		l.mu.Unlock()
		answer(w, r)
	})
}

// writeCallFile signs calls mixed calls for the server at base into a file.
func writeCallFile(t *testing.T, base string, calls int) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "calls.txt")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeCalls(f, base, "token", "beef01", calls, mixes["mixed"], false); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return name
}

var mixedOrder = []string{"/twilio/voice ", "/twilio/voice/menu/main 1", "/twilio/voice/menu/main 3", "/twilio/status "}

// TestCallsInOrder: every call's requests reach the server in the mix's
// order, one at a time, each call whole (a call started is finished), and
// the counts match what the server saw.
func TestCallsInOrder(t *testing.T) {
	log := newCallLog()
	srv := httptest.NewServer(log.handler(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte("<Response><Say>hello</Say></Response>"))
	}))
	defer srv.Close()
	const calls = 5000 // more than the run sends: no call is sent twice
	o, err := loadOrdered(writeCallFile(t, srv.URL, calls))
	if err != nil {
		t.Fatal(err)
	}
	if o.numCalls() != calls || len(o.reqs)-1 != calls*len(mixedOrder) {
		t.Fatalf("loaded %d calls, %d requests; want %d, %d", o.numCalls(), len(o.reqs)-1, calls, calls*len(mixedOrder))
	}
	res := o.run(8, 150*time.Millisecond)
	if res.repeated {
		t.Fatalf("the run went round its %d calls; make the file longer", calls)
	}
	if res.errors != 0 || res.non200 != 0 || res.firstErr != "" {
		t.Fatalf("errors %d, non-200 %d (%s)", res.errors, res.non200, res.firstErr)
	}
	for i := range res.byPos {
		if res.byPos[i].n != res.calls {
			t.Fatalf("%d latencies of the calls' request %d, want one a call (%d)", res.byPos[i].n, i+1, res.calls)
		}
	}
	if res.calls == 0 || res.requests != res.calls*int64(len(mixedOrder)) || res.ok != res.requests || res.hist.n != res.ok {
		t.Fatalf("calls %d, requests %d, ok %d, latencies %d: want every call's %d requests ok", res.calls, res.requests, res.ok, res.hist.n, len(mixedOrder))
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	if log.total != int(res.requests) || len(log.seen) != int(res.calls) {
		t.Fatalf("the server saw %d requests of %d calls; the driver counted %d of %d", log.total, len(log.seen), res.requests, res.calls)
	}
	if log.overlaps != 0 {
		t.Fatalf("%d requests arrived while another request of their call was unanswered", log.overlaps)
	}
	for sid, got := range log.seen {
		if !slices.Equal(got, mixedOrder) {
			t.Fatalf("call %s: requests %q, want %q", sid, got, mixedOrder)
		}
	}
}

// TestCallsInOrderStatuses: answers other than 200 are counted (the call
// goes on), a connection the server closes is dialled again, and the
// calls wrap around (reported) when the file runs out. One connection: with
// more, a call sent again could overlap its earlier sending.
func TestCallsInOrderStatuses(t *testing.T) {
	log := newCallLog()
	srv := httptest.NewServer(log.handler(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/twilio/status":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/twilio/voice":
			w.Header().Set("Connection", "close")
			_, _ = w.Write([]byte("<Response/>"))
		default: // a long answer: chunked
			_, _ = w.Write([]byte(strings.Repeat("<Say>x</Say>", 1000)))
		}
	}))
	defer srv.Close()
	const calls = 3
	o, err := loadOrdered(writeCallFile(t, srv.URL, calls))
	if err != nil {
		t.Fatal(err)
	}
	res := o.run(1, 100*time.Millisecond)
	if !res.repeated || res.calls <= calls {
		t.Fatalf("calls %d of %d, repeated %v: want the run to go round", res.calls, calls, res.repeated)
	}
	if res.errors != 0 {
		t.Fatalf("errors %d (%s)", res.errors, res.firstErr)
	}
	if res.non200 != res.calls || res.ok != 3*res.calls || !strings.Contains(res.firstErr, "503") {
		t.Fatalf("calls %d: non-200 %d, ok %d (%s); want one 503 and 3 ok per call", res.calls, res.non200, res.ok, res.firstErr)
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	if log.total != int(res.requests) || log.overlaps != 0 {
		t.Fatalf("the server saw %d requests (%d overlapping); the driver sent %d", log.total, log.overlaps, res.requests)
	}
	for sid, got := range log.seen {
		for i, g := range got {
			if want := mixedOrder[i%len(mixedOrder)]; g != want {
				t.Fatalf("call %s: request %d is %q, want %q (all: %q)", sid, i, g, want, got)
			}
		}
	}
	var b strings.Builder
	res.print(&b, calls)
	for _, want := range []string{"mode=calls-in-order conns=1 ", " non200=", "\nlatency_ms p50=", "\nlatency_ms_by_request 1:p50=", " 3:p50=", "\ncalls_sent 3\n", "\ncalls_repeated true\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("print: no %q in\n%s", want, b.String())
		}
	}
}

// TestReadResponse: the answers the driver reads, back to back on one
// connection, each read whole.
func TestReadResponse(t *testing.T) {
	tests := []struct {
		name     string
		response string
		code     int
		keep     bool
		wantErr  bool
	}{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/xml\r\n\r\nhello", 200, true, false},
		{"chunked with trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\na;x=y\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n", 200, true, false},
		{"closes", "HTTP/1.1 503 Service Unavailable\r\nconnection: Close\r\ncontent-length: 0\r\n\r\n", 503, false, false},
		{"HTTP/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, false, false},
		{"HTTP/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", 200, true, false},
		{"no content", "HTTP/1.1 204 No Content\r\nDate: x\r\n\r\n", 204, true, false},
		{"to the end", "HTTP/1.1 200 OK\r\n\r\nall of it", 200, false, false},
		{"not HTTP", "SSH-2.0-OpenSSH\r\n\r\n", 0, false, true},
		{"bad length", "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", 0, false, true},
		{"bad chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0, false, true},
		{"cut short", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 0, false, true},
	}
	const next = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.response
			if !tt.wantErr {
				in += next
			}
			br := bufio.NewReader(strings.NewReader(in))
			code, keep, err := readResponse(br)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if code != tt.code || keep != tt.keep {
				t.Fatalf("code %d keep %v, want %d %v", code, keep, tt.code, tt.keep)
			}
			if !keep {
				return // the rest is not a response of this connection
			}
			if code, _, err := readResponse(br); err != nil || code != 200 {
				t.Fatalf("the next response: %d, %v (the first was not read whole)", code, err)
			}
		})
	}
}

// TestHistogram: percentiles within the buckets' 1/128 precision.
func TestHistogram(t *testing.T) {
	var h histogram
	for i := 1; i <= 100000; i++ {
		h.add(time.Duration(i) * time.Microsecond)
	}
	for _, p := range []float64{0, 1, 50, 90, 99, 99.9} {
		want := time.Duration(1+p/100*99999) * time.Microsecond
		got := h.pct(p)
		if got > want || float64(want-got) > float64(want)/128+float64(time.Microsecond) {
			t.Errorf("p%v = %v, want %v within 1/128 below", p, got, want)
		}
	}
	if h.pct(100) != 100*time.Millisecond {
		t.Errorf("max %v, want 100ms", h.pct(100))
	}
	for us := uint64(0); us < 1<<20; us += 7 {
		i := histIndex(us)
		if lo := histLow(i); lo > us || (i+1 < histBuckets && histLow(i+1) <= us) {
			t.Fatalf("%d µs: bucket %d from %d to %d", us, i, lo, histLow(i+1))
		}
	}
}
