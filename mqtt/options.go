package mqtt

import (
	"crypto/tls"
	"time"
)

// Defaults, as upstream's.
const (
	DefaultAckWait       = 30 * time.Second
	DefaultMaxAckPending = 1024
	DefaultJSAPITimeout  = 5 * time.Second
)

// Options configure the MQTT front end: the mqtt {} block of a
// nats-server configuration file, key for key.
type Options struct {
	// Host and Port are where the listener binds (host, port, listen).
	// Port -1 picks a free port; 0 means no MQTT.
	Host string
	Port int

	// TLSConfig, when set, makes the listener TLS only. TLSTimeout is the
	// handshake's limit in seconds; TLSMap maps a client certificate to a
	// user (verify_and_map).
	TLSConfig  *tls.Config
	TLSTimeout float64
	TLSMap     bool

	// Username, Password and Token, from the block's authorization {},
	// replace the server's users for MQTT clients: a client must present
	// them and is then bound to the global account (as upstream).
	// AuthTimeout is in seconds (0: the server's).
	Username, Password, Token string
	AuthTimeout               float64
	// NoAuthUser is the user a client without credentials is taken as
	// (default: the server's no_auth_user).
	NoAuthUser string

	// AckWait is how long a QoS 1/2 message delivered to a client waits
	// for its acknowledgement before it is sent again (DefaultAckWait).
	AckWait time.Duration
	// MaxAckPending bounds the QoS 1/2 messages unacknowledged per
	// subscription (DefaultMaxAckPending; at most 65535).
	MaxAckPending int

	// JSDomain is the JetStream domain the sessions are kept in; JSAPITimeout
	// bounds each JetStream API call (DefaultJSAPITimeout).
	JSDomain     string
	JSAPITimeout time.Duration

	// StreamReplicas and ConsumerReplicas are the replicas of the streams
	// and consumers MQTT creates (a single server keeps 1).
	// ConsumerMemoryStorage keeps consumers' state in memory;
	// ConsumerInactiveThreshold removes the consumers of sessions that
	// stay away that long (0: never).
	StreamReplicas, ConsumerReplicas int
	ConsumerMemoryStorage            bool
	ConsumerInactiveThreshold        time.Duration

	// RejectQoS2Pub closes a client that publishes with QoS 2;
	// DowngradeQoS2Sub grants QoS 1 to a QoS 2 subscription.
	RejectQoS2Pub    bool
	DowngradeQoS2Sub bool
}
