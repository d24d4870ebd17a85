package leaf

import (
	"context"
	"crypto/tls"
	"net"
	"net/url"
	"time"
)

// Defaults, as upstream's.
const (
	// DefaultPort is the leaf node listener's port (leafnodes { port }).
	DefaultPort = 7422
	// DefaultReconnect is the delay between attempts to dial a remote.
	DefaultReconnect   = time.Second
	DefaultAuthTimeout = 2 * time.Second
	DefaultTLSTimeout  = 2 * time.Second
	// DefaultFirstInfoTimeout bounds the wait for the hub's first INFO.
	DefaultFirstInfoTimeout = time.Second
)

// Compression modes, upstream's names (the same as the cluster's).
const (
	CompressionOff      = "off"
	CompressionAccept   = "accept"
	CompressionS2Fast   = "s2_fast"
	CompressionS2Better = "s2_better"
	CompressionS2Best   = "s2_best"
	CompressionS2Auto   = "s2_auto"
)

// Compression is a compression setting (leafnodes { compression } and a
// remote's compression).
type Compression struct {
	// Mode is one of the Compression* constants; "" means the default
	// (s2_auto for leaf nodes, as upstream).
	Mode string
	// RTTThresholds are s2_auto's round-trip limits.
	RTTThresholds []time.Duration
}

// Options configure leaf nodes: the leafnodes {} block (alias leaf). The
// listener side accepts leaf connections from other servers (this server
// is their hub); Remotes are the hubs this server connects to as a leaf.
type Options struct {
	// Host and Port are where the leaf node listener binds; Port 0 means
	// no listener (a server with remotes only), RandomPort (-1) a free
	// port.
	Host string
	Port int
	// Advertise is the host:port advertised to leaf nodes; NoAdvertise
	// keeps this server out of the URLs told to leaf nodes.
	Advertise   string
	NoAdvertise bool
	// Authorization of accepted leaf connections (leafnodes {
	// authorization {} }): one user (Username/Password, bound to
	// Account), a Token, or Users each bound to an account. With none,
	// leaf connections authenticate as clients do, against the server's
	// users and accounts.
	Username    string
	Password    string
	Token       string
	Account     string
	Users       []User
	AuthTimeout time.Duration
	// TLSConfig turns TLS on for accepted leaf connections; TLSTimeout
	// bounds the handshake; TLSHandshakeFirst handshakes before INFO.
	TLSConfig         *tls.Config
	TLSTimeout        time.Duration
	TLSHandshakeFirst bool
	// TLSMap authenticates leaf connections by their verified
	// certificate (tls { verify_and_map }): it names one of Users, or
	// without Users one of the server's users, whose password is then
	// not checked.
	TLSMap bool
	// Compression is what accepted leaf connections may use; Start
	// negotiates none yet (peers see a server that does not compress).
	Compression Compression
	// Reconnect is the delay between attempts to dial a remote
	// (reconnect or reconnect_delay); zero is DefaultReconnect.
	Reconnect time.Duration
	// DialTimeout bounds one dial of a remote without its own
	// dial_timeout (leafnodes { dial_timeout }); zero is the default.
	DialTimeout time.Duration
	// MinVersion refuses leaf nodes of servers older than this version.
	MinVersion string
	// Remotes are the hubs this server connects to.
	Remotes []*Remote
	// Dialer dials remotes (before TLS); nil is a *net.Dialer. Tests
	// inject failing dials.
	Dialer Dialer
	// DefaultJSDomains is the server's default_js_domain (account name
	// to JetStream domain): an account mapped to the empty domain lets
	// JetStream's API without a domain cross its leaf node connections,
	// as upstream does for set-ups older than domains.
	DefaultJSDomains map[string]string
	// GatewayReplies is set when the server has gateways (a gateway {}
	// block): every leaf node connection is told interest in "_GR_.>"
	// when it connects, as upstream tells it, so that the replies mapped
	// for other clusters come to this server, and the gateways' own
	// "_GR_.<cluster hash>.>" interest (one per remote cluster) is not
	// announced. The composition sets it, as it sets DefaultJSDomains.
	GatewayReplies bool
}

// User is one user of leafnodes { authorization { users [...] } }.
type User struct {
	Username string
	Password string
	// Account is the account the leaf connection is bound to; "" is the
	// global account.
	Account string
}

// Remote is one entry of leafnodes { remotes [...] }: a hub to connect
// to, bound to one local account.
type Remote struct {
	// URLs are tried in random order (unless NoRandomize): nats-leaf://,
	// tls://, ws:// or wss:// URLs, user:password@ or a token in the
	// userinfo authenticating at the hub.
	URLs        []*url.URL
	NoRandomize bool
	// Account is the local account the remote is bound to; "" is the
	// global account.
	Account string
	// Credentials is a .creds file (user JWT and nkey seed); Nkey is an
	// nkey seed whose public key the hub knows. Either signs the hub's
	// nonce.
	Credentials string
	Nkey        string
	// TLS is set by tls {} or a tls:// or wss:// URL; TLSConfig is the
	// remote's tls {} block (nil: system roots); TLSTimeout bounds the
	// handshake; TLSHandshakeFirst handshakes before the hub's INFO.
	TLS               bool
	TLSConfig         *tls.Config
	TLSTimeout        time.Duration
	TLSHandshakeFirst bool
	// Hub makes this server the hub of the connection (the remote side
	// is the spoke).
	Hub bool
	// DenyImports and DenyExports are subjects that may not cross this
	// connection inward (messages from the hub, interest sent to it) and
	// outward (messages to the hub, its interest honoured).
	DenyImports []string
	DenyExports []string
	// Compression is not negotiated by Start yet (see Options).
	Compression Compression
	// WSCompression and WSNoMasking apply to ws:// and wss:// URLs
	// (which Start refuses as not supported yet).
	WSCompression bool
	WSNoMasking   bool
	// FirstInfoTimeout bounds the wait for the hub's INFO; DialTimeout
	// bounds one dial. Zero means the defaults.
	FirstInfoTimeout time.Duration
	DialTimeout      time.Duration
	// Disabled keeps the remote configured but not connected.
	Disabled bool
}

// Dialer opens connections to remotes; *net.Dialer fits.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}
