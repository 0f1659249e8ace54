package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ivr-project/ivr/internal/carrier"
	"github.com/ivr-project/ivr/internal/store"
	"github.com/ivr-project/ivr/internal/testutil"
)

// TestChildServer is not a test on its own: TestAcknowledgedCallbacksSurviveKill
// runs the test binary again with IVR_TEST_CHILD=1 so that this runs the
// real server in a process of its own, which the parent then kills.
func TestChildServer(t *testing.T) {
	if os.Getenv("IVR_TEST_CHILD") != "1" {
		t.Skip("helper process for TestAcknowledgedCallbacksSurviveKill")
	}
	if err := run(context.Background(), []string{"ivr"}, os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		t.Fatal(err)
	}
}

// TestAcknowledgedCallbacksSurviveKill sends many concurrent signed status
// callbacks through the real router of a server process, SIGKILLs the
// process while they are in flight, and checks that every callback that got
// its 200 is in the store afterwards: on SQLite and on PostgreSQL.
func TestAcknowledgedCallbacksSurviveKill(t *testing.T) {
	stores := map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "ivr.db") },
		"postgres": func(t *testing.T) string { return testutil.PostgresURL(t) },
	}
	for name, dsn := range stores {
		t.Run(name, func(t *testing.T) {
			testKill(t, dsn(t))
		})
	}
}

func testKill(t *testing.T, dsn string) {
	const token = "kill-test-token"
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildServer$")
	cmd.Env = append(os.Environ(),
		"IVR_TEST_CHILD=1", "IVR_ADDR=127.0.0.1:0", "IVR_DATABASE_URL="+dsn,
		"TWILIO_AUTH_TOKEN="+token, "IVR_NGROK_API=off", "IVR_PUBLIC_URL=")
	cmd.Dir = t.TempDir() // no .env from the work tree
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	base := ""
	sc := bufio.NewScanner(stdout)
	re := regexp.MustCompile(`listening on (\S+)`)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
			break
		}
	}
	if base == "" {
		t.Fatal("the server process did not start")
	}
	go func() {
		for sc.Scan() {
		}
	}()

	const n = 400
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	killed := make(chan struct{})
	client := &http.Client{Timeout: 10 * time.Second}
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			sid := "CA" + strings.Repeat("0", 24) + padInt(i)
			form := url.Values{"CallSid": {sid}, "CallStatus": {"completed"}, "CallDuration": {"5"}, "From": {"+14155550100"}, "To": {"+14155550199"}}
			resp, err := client.Do(send(signed(carrier.Twilio, token, base+"/twilio/status", form), ""))
			if err != nil {
				return // cut by the kill: not acknowledged
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				mu.Lock()
				acked = append(acked, sid)
				if len(acked) == n/4 {
					close(killed)
				}
				mu.Unlock()
			}
		}(i)
	}
	select {
	case <-killed:
	case <-time.After(20 * time.Second):
		t.Fatal("callbacks were not acknowledged")
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, sid := range acked {
		c, err := db.GetCall(context.Background(), "twilio", sid)
		if err != nil || c.Status != "completed" {
			t.Fatalf("acknowledged callback %s lost after the kill: %+v %v", sid, c, err)
		}
	}
	t.Logf("%d of %d callbacks acknowledged before the kill; all of them stored", len(acked), n)
}

func padInt(i int) string { return fmt.Sprintf("%08d", i) }
