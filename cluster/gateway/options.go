package gateway

import (
	"context"
	"crypto/tls"
	"net"
	"net/url"
	"time"
)

// Defaults, as upstream's.
const (
	DefaultAuthTimeout = 2 * time.Second
	DefaultTLSTimeout  = 2 * time.Second
	// DefaultPingInterval is how often an idle gateway is pinged.
	DefaultPingInterval = 2 * time.Minute
	// DefaultMaxPingsOut unanswered PINGs close a gateway as stale.
	DefaultMaxPingsOut = 2
)

// Options configure the gateway listener and the gateways this server
// dials: the gateway {} block of the configuration file.
type Options struct {
	// Name is the name of this server's cluster as gateways know it; it
	// must equal the cluster's name when both are set.
	Name string
	// Host and Port are where the gateway listener binds; Port 0 picks a
	// free port, -1 means no gateway (as route.Options).
	Host string
	Port int
	// Advertise is the host:port other clusters are told to connect to.
	Advertise string
	// ConnectRetries bounds the attempts to dial an implicit (gossiped)
	// gateway; explicit gateways are retried forever.
	ConnectRetries int
	// ConnectBackoff makes the delay between failed dials grow
	// exponentially up to 30 seconds, instead of staying at one second.
	ConnectBackoff bool
	// RejectUnknown refuses inbound gateways of clusters that Gateways
	// does not name (upstream's reject_unknown_cluster).
	RejectUnknown bool
	// Username, Password and AuthTimeout are the authorization {} block:
	// what a remote gateway must present in its CONNECT, and what this
	// server presents to the implicit gateways it dials.
	Username    string
	Password    string
	AuthTimeout time.Duration
	// TLSConfig, when set, makes gateways use TLS in both directions.
	TLSConfig  *tls.Config
	TLSTimeout time.Duration
	// Gateways are the remote clusters to connect to.
	Gateways []RemoteGateway
	// PingInterval and MaxPingsOut keep idle gateways alive; zero values
	// are the defaults.
	PingInterval time.Duration
	MaxPingsOut  int
	// WriteDeadline bounds one write to a gateway connection (upstream
	// 2.11's write_deadline in the block); zero is the server's
	// write_deadline.
	WriteDeadline time.Duration
	// WriteTimeout is what happens when a write passes WriteDeadline
	// (the block's write_timeout): "close" closes the connection as a
	// slow consumer; "retry", "default" or "" (upstream's default for
	// gateways) reports a slow consumer and goes on writing.
	WriteTimeout string
	// Dialer dials gateways (before TLS); nil is a *net.Dialer with a
	// one-second timeout.
	Dialer Dialer
}

// RemoteGateway is one entry of gateways [ ]: a remote cluster's name and
// the URLs of some of its servers.
type RemoteGateway struct {
	Name string
	URLs []*url.URL
	// TLSConfig, when set, is used to dial this gateway instead of the
	// block's.
	TLSConfig  *tls.Config
	TLSTimeout time.Duration
}

// Dialer opens gateway connections; *net.Dialer and *tls.Dialer fit.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// DefaultOptions are the Options of a server without gateways: no
// listener (Port -1).
func DefaultOptions() Options { return Options{Port: -1} }

// On reports whether o asks for a gateway listener.
func (o *Options) On() bool { return o != nil && o.Port != -1 }
