package server

import (
	"errors"
	"strconv"
	"time"

	"natsd.dev/server/snapshot"
)

// Monitoring snapshots.
//
// The documents are the types of package snapshot: plain copies of the
// server's state, shaped like the JSON documents of upstream's monitoring
// endpoints. The server fills the core ones (Varz, Connz, Subsz,
// Accountz, AccountStatz, Healthz) and answers every kind through the
// monitoring registry (snapshot_registry.go), which the monitor module
// renders over HTTP and the system account over $SYS.REQ.SERVER.<id>.<KIND>.
// A returned snapshot shares nothing with the server: the caller owns it.

// Paging defaults, as upstream.
const (
	// DefaultConnListSize is the default limit of Connz.
	DefaultConnListSize = 1024
	// DefaultSubListSize is the default limit of Subsz.
	DefaultSubListSize = 1024
	// DefaultMaxClosedClients is how many closed connections Connz keeps
	// for state=closed (upstream's max_closed_clients).
	DefaultMaxClosedClients = 10000
)

// ErrUnknownAccount is wrapped by Accountz for an account that does not
// exist.
var ErrUnknownAccount = errors.New("server: unknown account")

func monitorErr(text string) error { return &snapshot.MonitorError{Text: text} }

// formatUptime renders d as upstream renders uptime and idle times: whole
// seconds split into years (of 365 days), days, hours, minutes and
// seconds, leading zero units left out ("3m7s", "1d2h0m5s").
func formatUptime(d time.Duration) string {
	secs := int64(d / time.Second)
	if secs < 0 {
		secs = 0
	}
	b := make([]byte, 0, 24)
	units := [...]struct {
		n    int64
		name byte
	}{
		{secs / (365 * 86400), 'y'},
		{secs / 86400 % 365, 'd'},
		{secs / 3600 % 24, 'h'},
		{secs / 60 % 60, 'm'},
	}
	started := false
	for _, u := range units {
		if u.n > 0 || started {
			b = strconv.AppendInt(b, u.n, 10)
			b = append(b, u.name)
			started = true
		}
	}
	b = strconv.AppendInt(b, secs%60, 10)
	b = append(b, 's')
	return string(b)
}

// formatRTT renders a round trip time as upstream: microsecond precision
// below a millisecond, full precision otherwise.
func formatRTT(d time.Duration) string {
	if d > time.Microsecond && d < time.Millisecond {
		d = d.Truncate(time.Microsecond)
	}
	return d.String()
}
