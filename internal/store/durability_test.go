package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Environment of the helper process started by TestDurability.
const (
	envHelper    = "IVR_STORE_TEST_HELPER"
	envHelperDSN = "IVR_STORE_TEST_HELPER_DSN"
)

// TestSQLiteSettings checks the connection settings durability relies on.
func TestSQLiteSettings(t *testing.T) {
	d := openT(t, sqliteDSN(t))
	ctx := ctxT(t)
	for _, c := range []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
		{"busy_timeout", fmt.Sprint(sqliteBusyTimeout.Milliseconds())},
	} {
		var got string
		if err := d.sql.QueryRowContext(ctx, "PRAGMA "+c.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("PRAGMA %s = %s, want %s", c.pragma, got, c.want)
		}
	}
}

// TestDurability: 200 goroutines store status callbacks and print each
// acknowledged call id; the process is SIGKILLed mid-way; every printed id
// must be in the store when it is reopened.
func TestDurability(t *testing.T) {
	forEachStore(t, func(t *testing.T, newDSN newDSN) {
		dsn := newDSN(t)
		openT(t, dsn).Close() // migrate first, so the helper starts writing at once

		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), envHelper+"=durability", envHelperDSN+"="+dsn)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		const killAfter = 500 // acknowledgements before the kill
		var acked []string
		sc := bufio.NewScanner(out)
		killed := false
		deadline := time.AfterFunc(2*time.Minute, func() { _ = cmd.Process.Kill() })
		defer deadline.Stop()
		for sc.Scan() {
			id, ok := strings.CutPrefix(sc.Text(), "ack ")
			if !ok {
				continue
			}
			acked = append(acked, id)
			if len(acked) == killAfter && !killed {
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				killed = true
			}
		}
		// The pipe still held what was printed before the kill: read it all.
		werr := cmd.Wait()
		if !killed {
			t.Fatalf("helper ended before the kill after %d acks: %v", len(acked), werr)
		}
		t.Logf("helper killed (%v) after %d acknowledged writes", werr, len(acked))

		d := openT(t, dsn)
		ctx := ctxT(t)
		missing := 0
		for _, id := range acked {
			c, err := d.GetCall(ctx, "twilio", id)
			if err != nil {
				missing++
				if missing <= 10 {
					t.Errorf("acknowledged call %s lost: %v", id, err)
				}
				continue
			}
			if c.Status != "completed" || c.EndedAt == nil {
				t.Errorf("call %s stored as %+v", id, c)
			}
		}
		if missing > 0 {
			t.Fatalf("%d of %d acknowledged calls missing after the kill", missing, len(acked))
		}
		var stored int
		if err := d.sql.QueryRowContext(ctx, `SELECT count(*) FROM calls`).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		t.Logf("all %d acknowledged calls present (%d rows stored; the rest committed but not yet acknowledged)", len(acked), stored)
	})
}

// TestHelperProcess is not a test: TestDurability runs the test binary with
// it selected and the helper environment set.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(envHelper) != "durability" {
		t.Skip("helper process for TestDurability")
	}
	ctx := context.Background()
	d, err := Open(ctx, os.Getenv(envHelperDSN))
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(3)
	}
	var (
		next atomic.Int64
		mu   sync.Mutex // one line per write(2)
		wg   sync.WaitGroup
	)
	for range 200 {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > 1_000_000 {
					return
				}
				id := fmt.Sprintf("dur-%07d", i)
				u := StatusUpdate{Provider: "twilio", CallID: id, From: "+1", To: "+2", Status: "completed",
					At: time.Now(), DurationSeconds: 3, Final: true}
				if err := d.UpdateStatus(ctx, u); err != nil {
					fmt.Fprintln(os.Stderr, "helper:", err)
					continue
				}
				mu.Lock()
				_, _ = os.Stdout.WriteString("ack " + id + "\n")
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	os.Exit(0)
}
