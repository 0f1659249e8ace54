// Command slowlookup measures what callers hear when a flow's lookup is
// slower than the voice deadline allows, under many concurrent calls: each
// call must end in the flow's own on_error, never the deadline's fallback
// (scripts/slow-lookups.sh runs it; docs/performance.md has the figures).
//
//	slowlookup -ivr ./ivr -calls 1000,3000
//
// For each N it starts a fresh ivr (the real binary, its own SQLite store,
// so the lookup's circuit breaker starts closed), with a flow whose entry
// menu's key 1 fetches from a local server that answers only after -slow
// (longer than the lookup's budget). Then N signed Twilio requests, one per
// call (distinct CallSids), are sent at once, and every answer is sorted:
//
//	on_error  the flow's on_error prompt (what the caller must hear);
//	fallback  the fallback XML (X-Ivr-Fallback: its reason, e.g. deadline);
//	other     any other 200 answer;
//	error     no answer, or not 200.
//
// It prints the counts, the latency percentiles of each kind, ivr's own
// counters (fallbacks by reason, lookups by outcome, requests that waited
// for the record writer) and the load average before and after.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ivr-project/ivr/internal/auth"
	"github.com/ivr-project/ivr/internal/carrier"
)

const (
	token       = "slow-lookup-token"
	onErrorText = "ON-ERROR-PROMPT"
	okText      = "LOOKUP-ANSWERED"
)

// flowText is the measured flow: key 1 in the entry menu runs the slow
// lookup (its own timeout longer than the call's deadline allows).
const flowText = `name: Slow lookup
entry: main
call_center: "+15551230000"
requests:
  slow:
    url: "%s/slow"
    timeout: %s
    save: {x: x}
menus:
  main:
    greeting: "Press 1."
    options:
      "1":
        - fetch: slow
          on_error: [{say: "` + onErrorText + ` {{error}}"}, hangup]
        - say: "` + okText + `"
`

func main() {
	bin := flag.String("ivr", "", "the ivr binary to measure (required)")
	counts := flag.String("calls", "1000,3000", "comma-separated numbers of concurrent calls; a fresh ivr for each")
	slow := flag.Duration("slow", 30*time.Second, "how long the lookup's API takes to answer")
	timeout := flag.String("timeout", "10s", "the flow's lookup timeout (at most 10s)")
	deadline := flag.String("deadline", "", "IVR_VOICE_DEADLINE for ivr (empty: ivr's default)")
	db := flag.String("db", "", "IVR_DATABASE_URL for ivr (empty: a fresh SQLite file per run)")
	keep := flag.Bool("keep", false, "keep the temporary directory (ivr's logs and store)")
	flag.Parse()
	if *bin == "" {
		log.Fatal("slowlookup: -ivr is required")
	}
	var ns []int
	for _, s := range strings.Split(*counts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			log.Fatalf("slowlookup: -calls %q: want positive numbers", *counts)
		}
		ns = append(ns, n)
	}
	tmp, err := os.MkdirTemp("", "ivr-slowlookup.")
	if err != nil {
		log.Fatal(err)
	}
	if *keep {
		fmt.Println("keeping", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	api, err := startSlowAPI(*slow)
	if err != nil {
		log.Fatalf("slowlookup: %v", err)
	}
	flow := filepath.Join(tmp, "flow.yaml")
	if err := os.WriteFile(flow, fmt.Appendf(nil, flowText, api, *timeout), 0o644); err != nil {
		log.Fatal(err)
	}
	failed := false
	for i, n := range ns {
		dir := filepath.Join(tmp, strconv.Itoa(i))
		if err := os.Mkdir(dir, 0o755); err != nil {
			log.Fatal(err)
		}
		dsn := *db
		if dsn == "" {
			dsn = "sqlite:" + filepath.Join(dir, "ivr.db")
		}
		r, err := measure(*bin, dir, flow, dsn, *deadline, n)
		if err != nil {
			log.Printf("slowlookup: %d calls: %v", n, err)
			failed = true
			continue
		}
		r.print(os.Stdout)
		failed = failed || r.count(kindOnError) != n
	}
	if failed {
		os.Exit(1)
	}
}

// startSlowAPI serves, on a free loopback port, an API that answers each
// request after d (or when the client gives up) and returns its base URL.
func startSlowAPI(d time.Duration) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(d):
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"x": "late"}`)
		case <-r.Context().Done():
		}
	}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), nil
}

// measure starts ivr in dir, sends n concurrent calls and stops ivr.
func measure(bin, dir, flow, dsn, deadline string, n int) (*report, error) {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "IVR_ADDR=127.0.0.1:0", "IVR_FLOW=" + flow,
		"IVR_DATABASE_URL=" + dsn, "TWILIO_AUTH_TOKEN=" + token,
		"IVR_NGROK_API=off", "IVR_LOG_FORMAT=json"}
	if deadline != "" {
		env = append(env, "IVR_VOICE_DEADLINE="+deadline)
	}
	logf, err := os.Create(filepath.Join(dir, "ivr.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(bin)
	cmd.Dir, cmd.Env, cmd.Stderr = dir, env, logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	base, err := listening(out)
	if err != nil {
		return nil, fmt.Errorf("%w (see %s)", err, logf.Name())
	}
	r := &report{calls: n, loadBefore: loadAvg()}
	r.answers = fire(base, n, fmt.Sprintf("%08x", time.Now().UnixNano()&0xffffffff))
	r.loadAfter = loadAvg()
	r.metrics, err = counters(base)
	return r, err
}

// listening reads ivr's stdout until it says where it listens; the rest of
// its output is drained.
func listening(out io.Reader) (string, error) {
	sc := bufio.NewScanner(out)
	found := make(chan string, 1)
	go func() {
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "ivr listening on "); ok {
				select {
				case found <- strings.Fields(rest)[0]:
				default:
				}
			}
		}
		close(found)
	}()
	select {
	case u, ok := <-found:
		if !ok {
			return "", errors.New("ivr exited before it listened")
		}
		return u, nil
	case <-time.After(60 * time.Second):
		return "", errors.New("ivr did not listen within 60s")
	}
}

// answer is what one call got.
type answer struct {
	kind    string // kindOnError, ...
	reason  string // the fallback's reason, or the error
	latency time.Duration
}

const (
	kindOnError  = "on_error"
	kindFallback = "fallback"
	kindOther    = "other"
	kindError    = "error"
)

// fire sends n calls' key-1 requests at once (each on its own connection)
// and returns what each got.
func fire(base string, n int, prefix string) []answer {
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		MaxIdleConnsPerHost: n, DisableCompression: true,
		DialContext: (&net.Dialer{Timeout: 30 * time.Second}).DialContext,
	}}
	defer client.CloseIdleConnections()
	reqs := make([]*http.Request, n)
	for i := range reqs {
		reqs[i] = callRequest(base, prefix, i)
	}
	out := make([]answer, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			t := time.Now()
			out[i] = classify(client.Do(reqs[i]))
			out[i].latency = time.Since(t)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// callRequest is call i's press of 1 in the entry menu, signed as Twilio
// does; the run's prefix keeps its calls apart from other runs' in a store.
func callRequest(base, prefix string, i int) *http.Request {
	path := "/twilio/voice/menu/main?attempt=1"
	form := url.Values{
		"AccountSid": {"ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, "CallSid": {fmt.Sprintf("CA%s%024d", prefix, i)},
		"CallStatus": {"in-progress"}, "Direction": {"inbound"}, "Digits": {"1"},
		"From": {fmt.Sprintf("+1%010d", 2000000000+i)}, "To": {"+14155550199"},
	}
	r, err := http.NewRequestWithContext(context.Background(), http.MethodPost, base+path, strings.NewReader(form.Encode()))
	if err != nil {
		log.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Twilio-Signature", auth.SignTwilio(token, base+path, form))
	return r
}

func classify(resp *http.Response, err error) answer {
	if err != nil {
		return answer{kind: kindError, reason: err.Error()}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	switch {
	case err != nil:
		return answer{kind: kindError, reason: err.Error()}
	case resp.StatusCode != http.StatusOK:
		return answer{kind: kindError, reason: resp.Status}
	case resp.Header.Get(carrier.HeaderFallback) != "":
		return answer{kind: kindFallback, reason: resp.Header.Get(carrier.HeaderFallback)}
	case strings.Contains(string(body), onErrorText):
		return answer{kind: kindOnError}
	}
	return answer{kind: kindOther, reason: resp.Status + " " + firstLine(body)}
}

func firstLine(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

// counters reads ivr's own counts of fallbacks, lookups and writer waits.
func counters(base string) ([]string, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out []string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "#") || strings.HasSuffix(l, " 0") {
			continue
		}
		for _, m := range []string{"ivr_fallbacks_total", "ivr_lookup_total", "ivr_store_writer_waits_total", "ivr_store_dropped_events_total"} {
			if strings.HasPrefix(l, m) {
				out = append(out, l)
			}
		}
	}
	return out, sc.Err()
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

type report struct {
	calls                 int
	answers               []answer
	metrics               []string
	loadBefore, loadAfter string
}

func (r *report) count(kind string) int {
	n := 0
	for _, a := range r.answers {
		if a.kind == kind {
			n++
		}
	}
	return n
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "== %d concurrent calls, slow lookup (load average before %s, after %s)\n", r.calls, r.loadBefore, r.loadAfter)
	for _, kind := range []string{kindOnError, kindFallback, kindOther, kindError} {
		var lat []time.Duration
		reasons := map[string]int{}
		for _, a := range r.answers {
			if a.kind == kind {
				lat = append(lat, a.latency)
				if a.reason != "" {
					reasons[a.reason]++
				}
			}
		}
		if len(lat) == 0 && kind != kindOnError && kind != kindFallback {
			continue
		}
		fmt.Fprintf(w, "  %-9s %5d", kind, len(lat))
		if len(lat) > 0 {
			slices.Sort(lat)
			fmt.Fprintf(w, "   latency p0 %s p50 %s p99 %s max %s", ms(lat[0]), ms(pct(lat, 50)), ms(pct(lat, 99)), ms(lat[len(lat)-1]))
		}
		fmt.Fprintln(w)
		for _, k := range slices.Sorted(maps.Keys(reasons)) {
			fmt.Fprintf(w, "            %5d  %s\n", reasons[k], k)
		}
	}
	for _, m := range r.metrics {
		fmt.Fprintf(w, "  ivr: %s\n", m)
	}
}

func pct(sorted []time.Duration, p int) time.Duration {
	return sorted[min(len(sorted)-1, len(sorted)*p/100)]
}

func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) + "ms" }
