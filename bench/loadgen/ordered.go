package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The calls-in-order run (-requests FILE -calls-in-order): a closed loop in
// which each of -conns workers owns one keep-alive connection and sends one
// call's requests one after another (the next only once the previous has
// been answered), then the next call's, as a provider does: the final
// status after the call's last answer. wrk's rotation (rotateScript) hands
// each next request to whichever connection is free, so a call's requests
// go out at once on different connections and its status often overtakes
// its answer and menu steps.
//
// The requests are sent as written by -calls (raw HTTP, built once at
// load), and the answers are read with a small HTTP/1.1 reader that keeps
// nothing: the driver shares the machine with the server it measures, so
// it allocates nothing per request and reports its own CPU per request.

// orderedCalls is a -calls file ready to send.
type orderedCalls struct {
	buf   []byte // every request, raw HTTP with CRLF line ends
	reqs  []int  // request i is buf[reqs[i]:reqs[i+1]]
	calls []int  // call c is requests calls[c] to calls[c+1]-1
	addr  string // host:port of the first request's Host header
}

// loadOrdered reads a file written by -calls (one request a line, tabs for
// CRLF) and groups consecutive requests of the same CallSid into calls.
func loadOrdered(name string) (*orderedCalls, error) {
	raw, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read requests: %w", err)
	}
	o := &orderedCalls{buf: make([]byte, 0, len(raw)+len(raw)/4)}
	var prev []byte
	for line := range bytes.Lines(raw) {
		line = bytes.TrimSuffix(line, []byte("\n"))
		head, body, ok := bytes.Cut(line, []byte("\t\t"))
		if !ok || !bytes.Contains(head, []byte(" HTTP/1.1")) {
			return nil, fmt.Errorf("read requests: %s: not a request line: %.80q", name, line)
		}
		if o.addr == "" {
			_, host, _ := bytes.Cut(head, []byte("\tHost: "))
			host, _, _ = bytes.Cut(host, []byte("\t"))
			if len(host) == 0 {
				return nil, fmt.Errorf("read requests: %s: the first request has no Host header", name)
			}
			o.addr = string(host)
		}
		sid := formValue(body, "CallSid")
		if len(o.reqs) == 0 || !bytes.Equal(sid, prev) || len(sid) == 0 {
			o.calls = append(o.calls, len(o.reqs))
			prev = sid
		}
		o.reqs = append(o.reqs, len(o.buf))
		for _, b := range head {
			if b == '\t' {
				o.buf = append(o.buf, '\r', '\n')
			} else {
				o.buf = append(o.buf, b)
			}
		}
		o.buf = append(o.buf, "\r\n\r\n"...)
		o.buf = append(o.buf, body...)
	}
	if len(o.reqs) == 0 {
		return nil, fmt.Errorf("read requests: %s is empty", name)
	}
	o.reqs = append(o.reqs, len(o.buf))
	o.calls = append(o.calls, len(o.reqs)-1)
	return o, nil
}

// orderedMain is the -calls-in-order run; it fails when a request failed
// or was answered with another status than 200 (after printing the figures).
func orderedMain(file string, conns int, d time.Duration) error {
	if file == "" || conns <= 0 || d <= 0 {
		return errors.New("-calls-in-order needs -requests, and -conns and -duration above 0")
	}
	o, err := loadOrdered(file)
	if err != nil {
		return err
	}
	res := o.run(conns, d)
	res.print(os.Stdout, o.numCalls())
	if n := res.failed(); n > 0 {
		return fmt.Errorf("%d of %d requests failed or were not answered 200", n, res.requests)
	}
	return nil
}

// formValue is the raw (still encoded) value of key in a form body.
func formValue(body []byte, key string) []byte {
	for len(body) > 0 {
		var kv []byte
		kv, body, _ = bytes.Cut(body, []byte("&"))
		if k, v, ok := bytes.Cut(kv, []byte("=")); ok && string(k) == key {
			return v
		}
	}
	return nil
}

func (o *orderedCalls) numCalls() int { return len(o.calls) - 1 }

// orderedResults is what a calls-in-order run measured.
type orderedResults struct {
	conns                       int
	calls, requests, ok, non200 int64
	errors                      int64
	repeated                    bool
	hist                        histogram
	byPos                       [maxPositions]histogram // by the request's place in its call
	elapsed                     time.Duration
	cpu                         time.Duration // the driver's own (user + system)
	firstErr                    string
}

// runOrdered sends o's calls, each in order on one of conns connections,
// starting new calls for d; a call started is always finished.
func (o *orderedCalls) run(conns int, d time.Duration) *orderedResults {
	res := &orderedResults{conns: conns}
	var (
		next     atomic.Int64
		stop     atomic.Bool
		mu       sync.Mutex
		wg       sync.WaitGroup
		firstErr sync.Once
	)
	cpu0 := cpuTime()
	start := time.Now()
	timer := time.AfterFunc(d, func() { stop.Store(true) })
	defer timer.Stop()
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &orderedWorker{o: o}
			w.loop(&next, &stop, func(err error) {
				firstErr.Do(func() {
					mu.Lock()
					res.firstErr = err.Error()
					mu.Unlock()
				})
			})
			mu.Lock()
			res.calls += w.calls
			res.requests += w.requests
			res.ok += w.ok
			res.non200 += w.non200
			res.errors += w.errors
			for i := range w.byPos {
				res.hist.merge(&w.byPos[i])
				res.byPos[i].merge(&w.byPos[i])
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.cpu = cpuTime() - cpu0
	res.repeated = next.Load() > int64(o.numCalls())
	return res
}

// callTimeout bounds a call's requests on one connection (set once a call).
const callTimeout = 30 * time.Second

// orderedWorker is one connection's loop and counts.
type orderedWorker struct {
	o                                   *orderedCalls
	conn                                net.Conn
	br                                  *bufio.Reader
	calls, requests, ok, non200, errors int64
	byPos                               [maxPositions]histogram
}

// maxPositions: latencies are kept apart for a call's first requests; the
// last holds the requests from there on.
const maxPositions = 4

func (w *orderedWorker) loop(next *atomic.Int64, stop *atomic.Bool, fail func(error)) {
	defer func() {
		if w.conn != nil {
			w.conn.Close()
		}
	}()
	n := int64(w.o.numCalls())
	for !stop.Load() {
		c := int(next.Add(1)-1) % int(n)
		w.calls++
		if w.conn != nil {
			_ = w.conn.SetDeadline(time.Now().Add(callTimeout))
		}
		for r := w.o.calls[c]; r < w.o.calls[c+1]; r++ {
			w.requests++
			t0 := time.Now()
			code, err := w.send(w.o.buf[w.o.reqs[r]:w.o.reqs[r+1]])
			switch {
			case err != nil:
				w.errors++
				fail(err)
			case code != 200:
				w.non200++
				fail(fmt.Errorf("unexpected status %d", code))
			default:
				w.ok++
				w.byPos[min(r-w.o.calls[c], maxPositions-1)].add(time.Since(t0))
			}
		}
	}
}

// send writes req on the worker's connection (dialled when there is none)
// and reads the answer's status; on an error, or an answer that closes the
// connection, the next request dials again.
func (w *orderedWorker) send(req []byte) (int, error) {
	if w.conn == nil {
		c, err := net.DialTimeout("tcp", w.o.addr, 10*time.Second)
		if err != nil {
			return 0, err
		}
		_ = c.SetDeadline(time.Now().Add(callTimeout))
		w.conn = c
		if w.br == nil {
			w.br = bufio.NewReaderSize(c, 16<<10)
		} else {
			w.br.Reset(c)
		}
	}
	code, keep, err := w.roundTrip(req)
	if err != nil || !keep {
		w.conn.Close()
		w.conn = nil
	}
	return code, err
}

func (w *orderedWorker) roundTrip(req []byte) (code int, keep bool, err error) {
	if _, err := w.conn.Write(req); err != nil {
		return 0, false, err
	}
	return readResponse(w.br)
}

var errResponse = errors.New("malformed HTTP response")

// readResponse reads one HTTP/1.1 response from br and discards its body:
// its status code, and whether the connection stays open.
func readResponse(br *bufio.Reader) (code int, keep bool, err error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, false, fmt.Errorf("%w: status line %.40q", errResponse, line)
	}
	code = parseBase(line[9:12], 10)
	if code < 100 {
		return 0, false, fmt.Errorf("%w: status line %.40q", errResponse, line)
	}
	keep = line[7] == '1' // HTTP/1.1 keeps the connection by default
	length, chunked := -1, false
	for {
		h, err := br.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		if len(h) <= 2 {
			break // the blank line
		}
		name, value, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return 0, false, fmt.Errorf("%w: header %.40q", errResponse, h)
		}
		value = bytes.TrimSpace(value)
		switch {
		case asciiEqualFold(name, "content-length"):
			if length = parseBase(value, 10); length < 0 {
				return 0, false, fmt.Errorf("%w: content-length %q", errResponse, value)
			}
		case asciiEqualFold(name, "transfer-encoding"):
			chunked = asciiEqualFold(value, "chunked")
		case asciiEqualFold(name, "connection"):
			if asciiEqualFold(value, "close") {
				keep = false
			} else if asciiEqualFold(value, "keep-alive") {
				keep = true
			}
		}
	}
	switch {
	case chunked:
		err = discardChunked(br)
	case length >= 0:
		_, err = br.Discard(length)
	case code == 204 || code == 304 || code < 200:
	default: // the body runs to the end of the connection
		_, err = io.Copy(io.Discard, br)
		keep = false
	}
	if err != nil {
		return 0, false, err
	}
	return code, keep, nil
}

// discardChunked reads a chunked body and its trailers.
func discardChunked(br *bufio.Reader) error {
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		size, _, _ := bytes.Cut(bytes.TrimSpace(line), []byte(";"))
		n := parseBase(size, 16)
		if n < 0 {
			return fmt.Errorf("%w: chunk size %.20q", errResponse, line)
		}
		if n == 0 {
			for { // trailers, then the blank line
				t, err := br.ReadSlice('\n')
				if err != nil {
					return err
				}
				if len(t) <= 2 {
					return nil
				}
			}
		}
		if _, err := br.Discard(n + 2); err != nil {
			return err
		}
	}
}

// parseBase is the number b in base 10 or 16, -1 when b is not one (or
// too long); without strconv's string (an allocation per answer read).
func parseBase(b []byte, base int) int {
	if len(b) == 0 || len(b) > 12 {
		return -1
	}
	n := 0
	for _, c := range b {
		d := 16
		switch {
		case '0' <= c && c <= '9':
			d = int(c - '0')
		case 'a' <= c && c <= 'f':
			d = int(c-'a') + 10
		case 'A' <= c && c <= 'F':
			d = int(c-'A') + 10
		}
		if d >= base {
			return -1
		}
		n = n*base + d
	}
	return n
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// cpuTime is the process's CPU time so far (user + system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// histogram counts latencies in microseconds with 1/128 relative
// precision (log-linear buckets; no allocation per sample).
type histogram struct {
	counts [histBuckets]uint32
	n      int64
	max    time.Duration
}

const (
	histSub     = 7  // 128 buckets per power of two
	histMaxBits = 40 // up to 2^40 µs (longer ones count as that)
	histBuckets = (histMaxBits - histSub + 1) << histSub
)

func histIndex(us uint64) int {
	if us < 1<<(histSub+1) {
		return int(us)
	}
	shift := bits.Len64(us) - histSub - 1
	return shift<<histSub + int(us>>shift)
}

// histLow is the smallest value of bucket i.
func histLow(i int) uint64 {
	if i < 1<<(histSub+1) {
		return uint64(i)
	}
	shift := i>>histSub - 1
	return uint64(i-shift<<histSub) << shift
}

func (h *histogram) add(d time.Duration) {
	us := min(uint64(max(d.Microseconds(), 0)), 1<<histMaxBits-1)
	h.counts[histIndex(us)]++
	h.n++
	h.max = max(h.max, d)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// pct is the p-th percentile (the lower bound of its bucket).
func (h *histogram) pct(p float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	if p >= 100 {
		return h.max
	}
	rank := int64(p / 100 * float64(h.n-1))
	var seen int64
	for i, c := range h.counts {
		seen += int64(c)
		if seen > rank {
			return time.Duration(histLow(i)) * time.Microsecond
		}
	}
	return h.max
}

func (r *orderedResults) failed() int64 { return r.errors + r.non200 }

// print writes the run's figures: requests/s over the run (every call
// started was finished), latency percentiles of the answers that were
// 200, the driver's own CPU per request and the calls sent.
func (r *orderedResults) print(w io.Writer, distinct int) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d.Microseconds())/1000) }
	perReq := 0.0
	if r.requests > 0 {
		perReq = float64(r.cpu.Microseconds()) / float64(r.requests)
	}
	fmt.Fprintf(w, "mode=calls-in-order conns=%d calls=%d requests=%d ok=%d non200=%d errors=%d elapsed_s=%.3f rate=%.0f driver_cpu_us_per_request=%.1f\n",
		r.conns, r.calls, r.requests, r.ok, r.non200, r.errors, r.elapsed.Seconds(), float64(r.requests)/r.elapsed.Seconds(), perReq)
	fmt.Fprintf(w, "latency_ms p50=%s p90=%s p99=%s p99.9=%s max=%s\n",
		ms(r.hist.pct(50)), ms(r.hist.pct(90)), ms(r.hist.pct(99)), ms(r.hist.pct(99.9)), ms(r.hist.pct(100)))
	fmt.Fprint(w, "latency_ms_by_request")
	for i := range r.byPos {
		if h := &r.byPos[i]; h.n > 0 {
			fmt.Fprintf(w, " %d:p50=%s,p99=%s", i+1, ms(h.pct(50)), ms(h.pct(99)))
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "calls_sent %d\n", min(r.calls, int64(distinct)))
	if r.repeated {
		fmt.Fprintln(w, "calls_repeated true")
	}
	if r.firstErr != "" {
		fmt.Fprintf(w, "first error: %s\n", r.firstErr)
	}
}
