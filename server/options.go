package server

import (
	"crypto/tls"
	"log/slog"
	"net"
	"time"

	"natsd.dev/auth"
)

// Defaults match upstream nats-server 2.x.
const (
	DefaultHost                = "0.0.0.0"
	DefaultPort                = 4222
	DefaultMaxConnections      = 64 * 1024
	DefaultMaxPayload          = 1024 * 1024
	DefaultMaxControlLine      = 4096
	DefaultMaxPending          = 64 * 1024 * 1024
	DefaultPingInterval        = 2 * time.Minute
	DefaultPingMaxOut          = 2
	DefaultWriteDeadline       = 10 * time.Second
	DefaultAuthTimeout         = 2 * time.Second
	DefaultLameDuckDuration    = 2 * time.Minute
	DefaultLameDuckGracePeriod = 10 * time.Second
	// RandomPort asks the kernel for a free port (the -p -1 of nats-server).
	RandomPort = -1
	// MaxPayloadWarnSize is the max_payload above which upstream warns.
	MaxPayloadWarnSize = 8 * 1024 * 1024
)

// Options configure a Server. The zero value of every field means "the
// upstream default" (see the Default constants), so Options{} is a working
// configuration that listens on 0.0.0.0:4222.
type Options struct {
	// ServerName is advertised in INFO; empty means the server ID.
	ServerName string
	// Host and Port are the client listener address. Port RandomPort (-1)
	// picks a free port. Port 0 means DefaultPort.
	Host string
	Port int
	// ClientAdvertise is the host:port advertised to clients in connect_urls.
	ClientAdvertise string

	// MaxConn limits client connections ('maximum connections exceeded').
	MaxConn int
	// MaxSubs limits subscriptions per connection; 0 means unlimited.
	MaxSubs int
	// MaxPayload is the largest message payload (headers included).
	MaxPayload int32
	// MaxControlLine is the longest protocol line a client may send.
	MaxControlLine int32
	// MaxPending is the outbound byte budget of a connection; a client over
	// it is a slow consumer and is disconnected.
	MaxPending int64
	// MaxUnauthMemory is the memory budget of all the connections that
	// have not authenticated yet (natsd's own, max_unauthenticated_memory):
	// past it new connections are refused and the oldest unauthenticated
	// ones closed, with -ERR 'maximum unauthenticated memory exceeded'.
	// MaxUnauthConnMemory is the budget of one such connection, past
	// which it is closed. Zero means DefaultMaxUnauthMemory and
	// DefaultMaxUnauthConnMemory, a negative value no limit. See
	// PendingBytesConn for what a transport adds to the estimate.
	MaxUnauthMemory     int64
	MaxUnauthConnMemory int64
	// PingInterval and MaxPingsOut drive keepalive: a client that leaves
	// MaxPingsOut pings unanswered is closed as a stale connection.
	PingInterval time.Duration
	MaxPingsOut  int
	// NoFastProducerStall drops a message for a consumer whose backlog is
	// over 3/4 of MaxPending instead of briefly stalling the publisher
	// (at most 10ms per read batch) until it drains.
	NoFastProducerStall bool
	// TraceVerbose (-VV, trace_verbose) traces the system account's
	// internal clients too when the Logger enables LevelTrace.
	TraceVerbose bool
	// MaxTracedMsgLen cuts traced payloads (MSG_PAYLOAD lines) after
	// this many bytes; 0 traces them whole (max_traced_msg_len).
	MaxTracedMsgLen int
	// WriteDeadline bounds one flush to a client; a client whose socket
	// does not drain in time is a slow consumer.
	WriteDeadline time.Duration
	// AuthTimeout bounds the time a client has to send a valid CONNECT
	// when authentication is required; Authorization.Timeout, when set,
	// takes precedence. A client that is late gets -ERR 'Authentication
	// Timeout' and is closed.
	AuthTimeout time.Duration
	// Authorization configures authentication and permissions (the
	// authorization {} block, no_auth_user and --user/--pass/--auth); nil
	// or a Config that configures nobody means no authentication. A user
	// whose Account is set binds to that account, which must be listed in
	// Accounts (or be the global or system account).
	Authorization *auth.Config
	// Operator turns on operator mode (JWT authentication, accounts from
	// an account resolver); nil for none. See OperatorOptions.
	Operator *OperatorOptions
	// Accounts names the accounts of the accounts {} block; each gets its
	// own subject namespace. Their users are in Authorization.Users with
	// User.Account set.
	Accounts []string
	// SystemAccount names the account whose internal client answers the
	// $SYS.REQ.SERVER requests; it is created when Accounts does not list
	// it. "" means no system account: the zero Options stay minimal, and
	// DefaultConfig (where the nats-server command starts) sets
	// DefaultSystemAccountName, as upstream has one by default.
	SystemAccount string
	// NoSystemAccount turns the system account and its services off even
	// when SystemAccount is set (no_system_account in a file).
	NoSystemAccount bool
	// Exports and Imports link accounts: streams and services one account
	// offers and others take (see Export and Import).
	Exports []Export
	Imports []Import
	// Mappings rewrite published subjects, per account (see Mapping).
	Mappings []Mapping
	// AccountLimits are the limits of the named accounts.
	AccountLimits map[string]AccountLimits
	// AccountMsgTrace are the message trace settings of the named
	// accounts (their msg_trace block; see AccountMsgTrace).
	AccountMsgTrace map[string]AccountMsgTrace

	// LameDuckDuration is the time over which clients are closed in lame
	// duck mode, after LameDuckGracePeriod.
	LameDuckDuration    time.Duration
	LameDuckGracePeriod time.Duration

	// NoHeaderSupport turns HPUB/HMSG off.
	NoHeaderSupport bool
	// NoSublistCache turns the subscription match cache off.
	NoSublistCache bool
	// NoLog discards all logging; Logger nil does the same.
	Logger *slog.Logger

	// DeferReady leaves the "Server is ready" line out of Start: the
	// caller starts more (cluster, gateways, leaf nodes, monitoring) and
	// calls LogReady once they listen, as upstream logs it last.
	DeferReady bool

	// MaxClosedClients is how many closed connections /connz?state=closed
	// remembers; 0 means DefaultMaxClosedClients, negative keeps none.
	MaxClosedClients int

	// Tags and Metadata are reported as upstream does (server_tags).
	Tags []string

	// GitCommit is reported in INFO and the banner.
	GitCommit string
	// OnStart are the listeners of other modules (WebSocket, say): Start
	// calls each in order after the banner and before the client listener
	// binds, so that they are up when the server says it is ready; they
	// add their listener with Serve or ServeWebsocket. An error stops
	// Start, which closes the listeners added so far and returns it.
	OnStart []func(*Server) error

	// TLSConfig turns TLS on for the client listener (the top-level tls {}
	// block, --tls): INFO says tls_required, goes out in the clear, and the
	// client then handshakes; a client that does not is closed. With
	// ClientAuth tls.RequireAndVerifyClientCert INFO also says tls_verify.
	// Connections handed to Serve are not wrapped: their listener owns
	// their security.
	TLSConfig *tls.Config
	// TLSTimeout bounds the handshake (tls { timeout }); zero means
	// DefaultTLSTimeout.
	TLSTimeout time.Duration
	// TLSHandshakeFirst has the server handshake before INFO (tls {
	// handshake_first: true }), for clients that start TLS at once.
	TLSHandshakeFirst bool
	// TLSHandshakeFirstFallback, with TLSHandshakeFirst, is how long the
	// server waits for the client to start the handshake before it sends
	// INFO in the clear and handshakes after it, so clients of both kinds
	// connect (handshake_first: auto, which is
	// DefaultTLSHandshakeFirstFallback, or a duration). Zero waits for the
	// handshake only.
	TLSHandshakeFirstFallback time.Duration
	// TLSPinnedCerts, when not empty, refuses a client whose certificate's
	// SubjectPublicKeyInfo digest it does not list (tls { pinned_certs });
	// the handshake fails with ErrCertNotPinned. It needs client
	// certificates, so TLSConfig should verify them.
	TLSPinnedCerts PinnedCerts
	// TLSRateLimit caps new TLS connections per second (tls {
	// connection_rate_limit }); the excess gets -ERR 'Connection throttling
	// is active. Please try again later.' before the handshake. Zero is no
	// limit.
	TLSRateLimit int64
	// TLSMap authenticates clients by their verified certificate (tls {
	// verify_and_map }): its e-mail address, DNS name, URI or subject DN
	// names the user of Authorization, whose password is not checked.
	TLSMap bool

	// ConfigFile is the configuration file the options came from, shown in
	// the startup banner.
	ConfigFile string
	// ConfigDigest identifies the parsed configuration file
	// ("sha256:<hex>", as `nats-server -t` prints it); /varz reports it
	// as config_digest and the banner next to ConfigFile.
	ConfigDigest string
	// Metadata is server_metadata: free-form labels of the server that
	// /varz reports as metadata.
	Metadata map[string]string
	// FeatureFlags are the feature_flags the configuration sets. They
	// toggle upstream's JetStream internals, which natsd does not share,
	// so they change nothing; /varz and the server info of events report
	// upstream's flags with these values over their defaults and leave
	// out the names upstream does not know, as upstream does.
	FeatureFlags map[string]bool
	// WriteTimeout is the client write_timeout policy as configured: ""
	// or "default" (a client past write_deadline is closed as a slow
	// consumer, upstream's default for clients) or "close" (the same);
	// /varz reports it.
	WriteTimeout string
}

// setDefaults fills zero fields with upstream defaults.
func (o *Options) setDefaults() {
	orDefault(&o.Host, DefaultHost)
	orDefault(&o.Port, DefaultPort)
	orDefault(&o.MaxConn, DefaultMaxConnections)
	orDefault(&o.MaxPayload, DefaultMaxPayload)
	orDefault(&o.MaxControlLine, DefaultMaxControlLine)
	orDefault(&o.MaxPending, DefaultMaxPending)
	orDefault(&o.PingInterval, DefaultPingInterval)
	orDefault(&o.MaxPingsOut, DefaultPingMaxOut)
	orDefault(&o.WriteDeadline, DefaultWriteDeadline)
	orDefault(&o.TLSTimeout, DefaultTLSTimeout)
	if o.AuthTimeout == 0 {
		o.AuthTimeout = DefaultAuthTimeout
		// As upstream, a TLS client gets the handshake plus a second to
		// send its CONNECT.
		if o.TLSConfig != nil {
			o.AuthTimeout = max(o.AuthTimeout, o.TLSTimeout+time.Second)
		}
	}
	orDefault(&o.LameDuckDuration, DefaultLameDuckDuration)
	orDefault(&o.LameDuckGracePeriod, DefaultLameDuckGracePeriod)
}

// orDefault sets *v to def when it is the zero value.
func orDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// listenAddr is the host:port the client listener binds.
func (o *Options) listenAddr() string {
	port := o.Port
	if port == RandomPort {
		port = 0
	}
	return net.JoinHostPort(o.Host, itoa(port))
}
