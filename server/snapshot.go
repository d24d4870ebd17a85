package server

import "errors"

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
