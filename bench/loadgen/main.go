// Command loadgen replays one signed request (the JSON `ivr sign --json`
// prints: {method, url, headers, body}) for scripts/load.sh.
//
//	loadgen -request req.json -lua > req.lua
//	    writes a wrk script that sends exactly that request.
//	loadgen -request req.json -rate 2000 -duration 60s [-conns 64] [-expect '<Gather']
//	    sends it at a fixed rate (open loop) and prints latency percentiles.
//	loadgen -calls 100000 -base http://127.0.0.1:8080 -token T -prefix 0a1b -mix mixed -out reqs.txt > reqs.lua
//	    signs the requests of 100000 distinct calls (CallSid CA0a1b000...N) into
//	    reqs.txt and prints a wrk script that rotates them (calls.go).
//	loadgen -requests reqs.txt -rate 2000 -duration 60s
//	    the fixed-rate run over those requests, in order, instead of one request.
//	loadgen -requests reqs.txt -calls-in-order -conns 64 -duration 8s
//	    a closed loop over those calls: each connection sends one call's
//	    requests one after another, then the next call's (ordered.go).
//	loadgen -count sqlite:ivr.db -prefix 0a1b
//	    prints how many of those calls (and their events) the store holds.
//
// The fixed-rate run is open loop: request i is due at start + i/rate whether
// or not earlier ones have answered, and its latency is measured from when it
// was due, so a stalled server shows up in the percentiles instead of quietly
// lowering the rate (no coordinated omission; what wrk2 does, which Debian
// does not package).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type request struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

func main() {
	file := flag.String("request", "-", "the signed request as JSON (ivr sign --json); - = stdin")
	reqFile := flag.String("requests", "", "a file written by -calls: send its requests in turn instead of -request")
	lua := flag.Bool("lua", false, "print a wrk Lua script that sends the request, and exit")
	rate := flag.Float64("rate", 1000, "requests per second")
	duration := flag.Duration("duration", 10*time.Second, "how long to send")
	conns := flag.Int("conns", 64, "most requests in flight (connections)")
	expect := flag.String("expect", "", "a string every answer must contain (e.g. <Gather)")
	calls := flag.Int("calls", 0, "write this many distinct calls' signed requests to -out and print a wrk script rotating them")
	count := flag.String("count", "", "print how many calls of -prefix the store at this URL (sqlite:PATH, postgres://) holds")
	base := flag.String("base", "", "-calls: the server's base URL (http://host:port)")
	token := flag.String("token", "", "-calls: the Twilio auth token to sign with")
	prefix := flag.String("prefix", "", "-calls, -count: the run's call id prefix (hex)")
	mix := flag.String("mix", "answer", "-calls: answer (answer URL only), mixed (1 answer : 2 menu steps : 1 status callback) or repeat (the answer URL of one call, every time)")
	out := flag.String("out", "", "-calls: the file the requests go to")
	inOrder := flag.Bool("calls-in-order", false, "-requests: each of -conns connections sends one call's requests in order, then the next call's, for -duration (closed loop)")
	flag.Parse()

	if *calls > 0 || *count != "" {
		if err := callsMain(*calls, *count, *base, *token, *prefix, *mix, *out); err != nil {
			log.Fatalf("loadgen: %v", err)
		}
		return
	}

	if *inOrder {
		if err := orderedMain(*reqFile, *conns, *duration); err != nil {
			log.Fatalf("loadgen: %v", err)
		}
		return
	}
	var reqs []request
	var err error
	if *reqFile != "" {
		reqs, err = readRawRequests(*reqFile)
	} else {
		var r request
		r, err = readRequest(*file)
		reqs = []request{r}
	}
	if err != nil {
		log.Fatalf("loadgen: %v", err)
	}
	req := reqs[0]
	if *lua {
		s, err := wrkScript(req)
		if err != nil {
			log.Fatalf("loadgen: %v", err)
		}
		fmt.Print(s)
		return
	}
	if *rate <= 0 || *conns <= 0 {
		log.Fatal("loadgen: -rate and -conns must be positive")
	}
	res := fixedRate(reqs, *rate, *duration, *conns, *expect)
	res.print(os.Stdout, *rate)
	if res.failed() > 0 {
		os.Exit(1)
	}
}

func readRequest(name string) (request, error) {
	var b []byte
	var err error
	if name == "-" {
		b, err = io.ReadAll(os.Stdin)
	} else {
		b, err = os.ReadFile(name)
	}
	if err != nil {
		return request{}, fmt.Errorf("read request: %w", err)
	}
	var r request
	if err := json.Unmarshal(b, &r); err != nil {
		return request{}, fmt.Errorf("request JSON: %w", err)
	}
	if r.Method == "" || r.URL == "" {
		return request{}, fmt.Errorf("request JSON: method and url are required")
	}
	return r, nil
}

// wrkScript sets wrk's method, path, headers and body to the request's.
// Lua long brackets carry the values verbatim (no escaping).
func wrkScript(r request) (string, error) {
	u, err := url.Parse(r.URL)
	if err != nil {
		return "", fmt.Errorf("request url: %w", err)
	}
	long := func(s string) (string, error) {
		for n := 1; n < 10; n++ {
			eq := strings.Repeat("=", n)
			if !strings.Contains(s, "]"+eq+"]") {
				return "[" + eq + "[" + s + "]" + eq + "]", nil
			}
		}
		return "", fmt.Errorf("cannot quote %q for Lua", s)
	}
	var b strings.Builder
	b.WriteString("-- generated by bench/loadgen -lua from a request signed by `ivr sign --json`\n")
	b.WriteString("-- Twilio signatures carry no nonce, so replaying the same request is valid.\n")
	add := func(format, v string) error {
		q, err := long(v)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, format, q)
		return nil
	}
	if err := add("wrk.method = %s\n", r.Method); err != nil {
		return "", err
	}
	if err := add("wrk.path = %s\n", u.RequestURI()); err != nil {
		return "", err
	}
	if err := add("wrk.body = %s\n", r.Body); err != nil {
		return "", err
	}
	names := make([]string, 0, len(r.Headers))
	for k := range r.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if err := add(fmt.Sprintf("wrk.headers[%q] = %%s\n", k), r.Headers[k]); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}

type results struct {
	sent       int64
	ok         int64
	errors     int64
	unexpected int64
	firstErr   atomic.Value
	latencies  []time.Duration // of the answers that were ok
	elapsed    time.Duration
}

func (r *results) failed() int64 { return r.errors + r.unexpected }

func fixedRate(reqs []request, rate float64, d time.Duration, conns int, expect string) *results {
	client := &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns,
			IdleConnTimeout: 90 * time.Second,
		},
	}
	total := int64(rate * d.Seconds())
	type job struct {
		at time.Time
		i  int64
	}
	due := make(chan job, total) // never blocks the schedule
	res := &results{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			for j := range due {
				err := send(client, reqs[j.i%int64(len(reqs))], expect)
				took := time.Since(j.at)
				switch {
				case err == nil:
					atomic.AddInt64(&res.ok, 1)
					lat = append(lat, took)
				case strings.HasPrefix(err.Error(), "unexpected"):
					atomic.AddInt64(&res.unexpected, 1)
					res.firstErr.CompareAndSwap(nil, err.Error())
				default:
					atomic.AddInt64(&res.errors, 1)
					res.firstErr.CompareAndSwap(nil, err.Error())
				}
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			mu.Unlock()
		}()
	}
	start := time.Now()
	interval := time.Duration(float64(time.Second) / rate)
	for i := int64(0); i < total; {
		now := time.Now()
		for ; i < total; i++ {
			at := start.Add(time.Duration(i) * interval)
			if at.After(now) {
				break
			}
			due <- job{at, i}
			res.sent++
		}
		time.Sleep(time.Millisecond)
	}
	close(due)
	wg.Wait()
	res.elapsed = time.Since(start)
	slices.Sort(res.latencies)
	return res
}

func send(c *http.Client, r request, expect string) error {
	req, err := http.NewRequest(r.Method, r.URL, strings.NewReader(r.Body))
	if err != nil {
		return err
	}
	for k, v := range r.Headers {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("unexpected status %d", resp.StatusCode)
	}
	if expect != "" && !strings.Contains(string(b), expect) {
		return fmt.Errorf("unexpected answer (no %q): %.200s", expect, b)
	}
	return nil
}

func (r *results) pct(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(p / 100 * float64(len(r.latencies)-1))
	return r.latencies[i]
}

func (r *results) print(w io.Writer, rate float64) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d.Microseconds())/1000) }
	fmt.Fprintf(w, "target_rate=%.0f sent=%d ok=%d errors=%d unexpected=%d achieved_rate=%.0f\n",
		rate, r.sent, r.ok, r.errors, r.unexpected, float64(r.ok)/r.elapsed.Seconds())
	fmt.Fprintf(w, "latency_ms p50=%s p90=%s p99=%s p99.9=%s max=%s\n",
		ms(r.pct(50)), ms(r.pct(90)), ms(r.pct(99)), ms(r.pct(99.9)), ms(r.pct(100)))
	if e, ok := r.firstErr.Load().(string); ok {
		fmt.Fprintf(w, "first error: %s\n", e)
	}
}
