package procstat

import (
	"bytes"
	"os"
	"strconv"
	"sync"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc CPU times; it is 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// cpuSampler turns the cumulative CPU time of /proc/self/stat into a
// percentage over the time since the previous sample (or since the process
// started, for the first one).
var cpuSampler struct {
	mu    sync.Mutex
	wall  time.Time
	ticks uint64
	pcpu  float64
}

// minCPUWindow avoids noisy percentages when /varz is polled fast: within
// it the previous figure is returned.
const minCPUWindow = 500 * time.Millisecond

// Usage returns the process CPU use in percent of one core and its
// resident set size in bytes; zeros when /proc is unreadable.
func Usage() (pcpu float64, rss int64) {
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		f := bytes.Fields(b)
		if len(f) > 1 {
			pages, _ := strconv.ParseInt(string(f[1]), 10, 64)
			rss = pages * int64(os.Getpagesize())
		}
	}
	ticks, startTicks, ok := readProcStat()
	if !ok {
		return 0, rss
	}
	now := time.Now()
	cs := &cpuSampler
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.wall.IsZero() {
		// First sample: average since the process started.
		if up := readUptime(); up > 0 {
			elapsed := up - float64(startTicks)/clockTicks
			if elapsed > 0 {
				cs.pcpu = float64(ticks) / clockTicks / elapsed * 100
			}
		}
		cs.wall, cs.ticks = now, ticks
		return round1(cs.pcpu), rss
	}
	if d := now.Sub(cs.wall); d >= minCPUWindow {
		cs.pcpu = float64(ticks-cs.ticks) / clockTicks / d.Seconds() * 100
		cs.wall, cs.ticks = now, ticks
	}
	return round1(cs.pcpu), rss
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

// readProcStat returns utime+stime and the start time of the process, in
// clock ticks.
func readProcStat() (cpu, start uint64, ok bool) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, 0, false
	}
	// The command name may hold spaces and parentheses: fields start after
	// the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3 (state): utime is field 14, stime 15, starttime 22.
	if len(f) < 20 {
		return 0, 0, false
	}
	ut, err1 := strconv.ParseUint(string(f[11]), 10, 64)
	st, err2 := strconv.ParseUint(string(f[12]), 10, 64)
	sta, err3 := strconv.ParseUint(string(f[19]), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, false
	}
	return ut + st, sta, true
}

// readUptime returns the system uptime in seconds, 0 when unknown.
func readUptime() float64 {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return 0
	}
	f := bytes.Fields(b)
	if len(f) == 0 {
		return 0
	}
	up, _ := strconv.ParseFloat(string(f[0]), 64)
	return up
}
