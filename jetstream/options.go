package jetstream

import (
	"os"
	"path/filepath"
	"time"

	"natsd.dev/jetstream/api"
	"natsd.dev/jetstream/internal/stream"
)

// APILevel is the JetStream API level this server implements (ADR-44),
// announced in INFO "api_lvl" and in $JS.API.INFO.
const APILevel = stream.APILevel

// Options configure JetStream on a server, as the jetstream {} block and
// the -js/-sd flags of nats-server do.
type Options struct {
	// StoreDir is the directory under which JetStream keeps its data, in
	// a "jetstream" directory of its own, as upstream. "" means
	// filepath.Join(os.TempDir(), "nats").
	StoreDir string
	// MaxMemory and MaxStore bound the bytes of all memory and file
	// streams; 0 or less picks upstream's defaults (75% of the machine's
	// memory; 1 TiB of disk, or what the disk has).
	MaxMemory int64
	MaxStore  int64
	// Domain is the JetStream domain; its API is also served on
	// $JS.<domain>.API.>.
	Domain string
	// SyncInterval opts out of durable acknowledgements: 0 (the default,
	// and "always") acknowledges a message once an fsync covered it,
	// sharing each fsync among all messages in flight; a positive value
	// acknowledges once the message is in the store's write buffer (handed
	// to the operating system within milliseconds) and fsyncs every
	// SyncInterval, as upstream's default of 2 minutes.
	SyncInterval time.Duration
	// UniqueTag is the server-tag prefix placement spreads replicas over.
	UniqueTag string
	// NonStrict accepts unknown fields in API requests (upstream's
	// strict: false); by default they are refused.
	NonStrict bool
	// Limits are server-wide caps.
	Limits ServerLimits
	// Accounts lists the accounts with JetStream and their limits. When
	// nil, every account but the system account has JetStream, without
	// limits (upstream's behaviour when no account enables it itself).
	// A configuration file that defines accounts and enables JetStream
	// on none of them gives an empty map: none has it, as upstream (see
	// ResolveAccounts). In operator mode the accounts built from JWTs
	// get JetStream and its limits from their JWT instead (jwt.go).
	Accounts map[string]api.AccountLimits
	// DefaultDomains maps an account to the JetStream domain its
	// requests to $JS.API.> go to when it has no JetStream here
	// (default_js_domain).
	DefaultDomains map[string]string

	// Tuning, as upstream's keys of the same name; 0 picks upstream's
	// default.
	MaxCatchup        int64 // max_outstanding_catchup: bytes in flight to a catching-up replica
	MaxBufferedSize   int64 // max_buffered_size: bytes a stream's ingest queue holds
	MaxBufferedMsgs   int   // max_buffered_msgs: messages a stream's ingest queue holds
	RequestQueueLimit int   // request_queue_limit: API requests queued before they are refused
}

// ServerLimits are the jetstream { limits {} } block.
type ServerLimits struct {
	MaxAckPending   int           // caps a consumer's max_ack_pending
	MaxHAAssets     int           // caps replicated streams and consumers
	MaxRequestBatch int           // caps a pull request's batch
	Duplicates      time.Duration // caps a stream's duplicate_window
}

// Unlimited are account limits without any cap.
var Unlimited = api.AccountLimits{
	MaxMemory: -1, MaxStore: -1, MaxStreams: -1, MaxConsumers: -1,
	MaxAckPending: -1, MemoryMaxStreamBytes: -1, StoreMaxStreamBytes: -1,
}

// dataDir is where the streams live: <StoreDir>/jetstream.
func (o *Options) dataDir() string {
	d := o.StoreDir
	if d == "" {
		d = filepath.Join(os.TempDir(), "nats")
	}
	return filepath.Join(d, "jetstream")
}
