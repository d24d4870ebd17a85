//go:build linux

package sublist_test

import (
	"syscall"
	"time"
)

// threadCPU returns the CPU time used by the calling OS thread. The
// benchmarks lock their goroutine to a thread and report it next to the
// wall time, which on a shared, overloaded machine mostly measures waiting.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
