package testutil

import (
	"context"
	"database/sql"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// PostgresCPU returns a function reading the CPU time (user + system) the
// PostgreSQL server at url has used so far: its postmaster's, its live
// processes' (backends, WAL writer, checkpointer, ...) and the exited ones'
// (counted in the postmaster's children times). It returns nil when that
// cannot be read: the server is not a process of this machine (no /proc
// entry for its backend). A benchmark reports the server's CPU per
// operation from it: on a machine whose cores the server shares with ivr,
// that CPU is what the answers pay for their records.
func PostgresCPU(t testing.TB, url string) func() time.Duration {
	t.Helper()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var backend int
	if err := db.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&backend); err != nil {
		t.Fatalf("backend pid: %v", err)
	}
	st, ok := procStat(backend)
	if !ok {
		return nil
	}
	postmaster := st.ppid
	if _, ok := procStat(postmaster); !ok {
		return nil
	}
	return func() time.Duration { return clusterCPU(postmaster) }
}

// procStatus is what PostgresCPU reads of /proc/PID/stat.
type procStatus struct {
	ppid                         int
	utime, stime, cutime, cstime int64 // clock ticks
}

// procStat reads /proc/pid/stat (false when the process is not there).
func procStat(pid int) (procStatus, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStatus{}, false
	}
	// The command name, in parentheses, may hold spaces: fields start
	// after its closing parenthesis (field 3, the state).
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procStatus{}, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 15 {
		return procStatus{}, false
	}
	num := func(k int) int64 { // field k of stat (1-based), k >= 3
		n, _ := strconv.ParseInt(f[k-3], 10, 64)
		return n
	}
	return procStatus{ppid: int(num(4)), utime: num(14), stime: num(15), cutime: num(16), cstime: num(17)}, true
}

// clockTick is the unit of /proc's CPU times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// clusterCPU sums the CPU time of postmaster pid and its processes.
func clusterCPU(postmaster int) time.Duration {
	pm, ok := procStat(postmaster)
	if !ok {
		return 0
	}
	ticks := pm.utime + pm.stime + pm.cutime + pm.cstime
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := procStat(pid); ok && st.ppid == postmaster {
			ticks += st.utime + st.stime
		}
	}
	return time.Duration(ticks) * clockTick
}
