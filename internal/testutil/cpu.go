package testutil

import (
	"syscall"
	"time"
)

// ProcessCPU is the CPU time (user + system) this process has used. On a
// shared machine it is a steadier figure than wall time: a benchmark's
// cpu-ns/op counts every goroutine's work for the requests and not the time
// spent waiting for a core.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
