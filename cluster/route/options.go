package route

import (
	"context"
	"crypto/tls"
	"net"
	"net/url"
	"time"
)

// Defaults, as upstream's.
const (
	DefaultPoolSize       = 3
	DefaultAuthTimeout    = 2 * time.Second
	DefaultTLSTimeout     = 2 * time.Second
	DefaultPingInterval   = 2 * time.Minute
	DefaultMaxPingsOut    = 2
	DefaultConnectRetries = 0
)

// Compression modes of the compression key, upstream's names.
const (
	CompressionOff      = "off"
	CompressionAccept   = "accept"
	CompressionS2Fast   = "s2_fast"
	CompressionS2Better = "s2_better"
	CompressionS2Best   = "s2_best"
	CompressionS2Auto   = "s2_auto"
)

// Compression is the compression {} setting of the cluster block.
type Compression struct {
	// Mode is one of the Compression* constants; "" means accept.
	Mode string
	// RTTThresholds are s2_auto's round-trip limits (upstream default
	// 10ms, 50ms, 100ms).
	RTTThresholds []time.Duration
}

// Options configure the cluster listener and the routes: the cluster {}
// block of the configuration file and the --cluster, --routes,
// --cluster_name, --cluster_advertise, --no_advertise, --connect_retries
// and --cluster_listen flags.
type Options struct {
	Name string
	// Host and Port are where the cluster listener binds; Port 0 picks a
	// free port, -1 means no listener.
	Host string
	Port int
	// Advertise is the host:port other servers are told to connect to.
	Advertise   string
	NoAdvertise bool
	// Routes are the URLs to solicit (nats-route://[user:pass@]host:port);
	// Cluster.SetRoutes replaces them on a running cluster.
	Routes []*url.URL
	// Username, Password and AuthTimeout are the cluster's authorization
	// {} block: what a peer must present in its route CONNECT.
	Username    string
	Password    string
	AuthTimeout time.Duration
	// TLSConfig, when set, makes routes use TLS in both directions.
	TLSConfig  *tls.Config
	TLSTimeout time.Duration
	// ConnectRetries bounds the attempts to connect to an implicit
	// (gossiped) route; explicit routes retry forever.
	ConnectRetries int
	// ConnectBackoff makes the delay between failed attempts to dial a
	// route grow exponentially, from one second up to 30 seconds, as
	// upstream's connect_backoff (2.12); without it the delay stays at
	// one second.
	ConnectBackoff bool
	// PoolSize is the number of route connections per peer (default 3;
	// -1 turns pooling off: one route per peer, as before 2.10).
	PoolSize int
	// PinnedAccounts get a dedicated route connection each.
	PinnedAccounts []string
	Compression    Compression
	PingInterval   time.Duration
	MaxPingsOut    int
	// Permissions, when set, limit the subjects that cross this server's
	// routes (the cluster's permissions {}); nil lets everything cross.
	Permissions *RoutePermissions
	// Dialer dials routes (before TLS, which TLSConfig adds); nil is a
	// *net.Dialer with a one-second timeout. Tests inject net.Pipe or
	// failing dials.
	Dialer Dialer
}

// Dialer opens route connections; *net.Dialer and *tls.Dialer fit.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// RoutePermissions are the cluster's permissions {}, upstream's import
// and export. They act on interest, as upstream's do, and on each
// message:
//
//   - Import limits what this server takes from its routes: local
//     interest is announced (RS+) only for subjects Import allows, and a
//     routed message (RMSG/HMSG) on a subject it does not allow is dropped.
//   - Export limits what this server sends to its routes: a peer's
//     interest (RS+) is honoured only for subjects Export allows, and a
//     message matching a peer's wildcard interest is forwarded only if
//     Export allows its subject.
//
// A subject of interest is tested with its wildcard tokens taken
// literally, as upstream does: "foo.*" is allowed by "foo.*" or "foo.>",
// not by "foo.bar". A nil field allows everything.
type RoutePermissions struct {
	Import *SubjectPermission
	Export *SubjectPermission
}

// SubjectPermission is an allow list and a deny list of subjects, which
// may use wildcards. A subject is permitted if it matches the allow list
// (a nil or empty one allows all) and does not match the deny list.
type SubjectPermission struct {
	Allow []string
	Deny  []string
}
