//go:build !linux

package procstat

import "runtime"

// Usage returns the process CPU use and resident set size. Outside
// Linux there is no portable source without cgo: CPU is reported as 0 and
// the memory as what the Go runtime obtained from the OS.
func Usage() (pcpu float64, rss int64) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return 0, int64(ms.Sys)
}
