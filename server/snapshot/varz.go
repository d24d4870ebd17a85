package snapshot

import (
	"encoding/json"
	"time"
)

// VarzOptions are the options of Varz; there are none yet.
type VarzOptions struct{}

// Varz is the /varz document: identity, configured limits and runtime
// counters of the server.
type Varz struct {
	ID                string            `json:"server_id"`
	Name              string            `json:"server_name"`
	Version           string            `json:"version"`
	Proto             int               `json:"proto"`
	GitCommit         string            `json:"git_commit,omitempty"`
	GoVersion         string            `json:"go"`
	Host              string            `json:"host"`
	Port              int               `json:"port"`
	AuthRequired      bool              `json:"auth_required,omitempty"`
	TLSRequired       bool              `json:"tls_required,omitempty"`
	TLSVerify         bool              `json:"tls_verify,omitempty"`
	IP                string            `json:"ip,omitempty"`
	ClientConnectURLs []string          `json:"connect_urls,omitempty"`
	WSConnectURLs     []string          `json:"ws_connect_urls,omitempty"`
	MaxConn           int               `json:"max_connections"`
	MaxSubs           int               `json:"max_subscriptions,omitempty"`
	PingInterval      time.Duration     `json:"ping_interval"` // nanoseconds, as upstream
	MaxPingsOut       int               `json:"ping_max"`
	HTTPHost          string            `json:"http_host"`
	HTTPPort          int               `json:"http_port"`
	HTTPBasePath      string            `json:"http_base_path"`
	HTTPSPort         int               `json:"https_port"`
	AuthTimeout       float64           `json:"auth_timeout"` // seconds
	MaxControlLine    int32             `json:"max_control_line"`
	MaxPayload        int               `json:"max_payload"`
	MaxPending        int64             `json:"max_pending"`
	Cluster           ClusterOptsVarz   `json:"cluster"`
	Gateway           GatewayOptsVarz   `json:"gateway"`
	LeafNode          LeafNodeOptsVarz  `json:"leaf"`
	MQTT              MQTTOptsVarz      `json:"mqtt"`
	Websocket         WebsocketOptsVarz `json:"websocket"`
	JetStream         JetStreamVarz     `json:"jetstream"`
	TLSTimeout        float64           `json:"tls_timeout"`
	WriteDeadline     time.Duration     `json:"write_deadline"`
	WriteTimeout      string            `json:"write_timeout,omitempty"`
	Start             time.Time         `json:"start"`
	Now               time.Time         `json:"now"`
	Uptime            string            `json:"uptime"`
	Mem               int64             `json:"mem"`
	Cores             int               `json:"cores"`
	MaxProcs          int               `json:"gomaxprocs"`
	GoMemLimit        int64             `json:"gomemlimit,omitempty"`
	CPU               float64           `json:"cpu"`
	Connections       int               `json:"connections"`
	TotalConnections  uint64            `json:"total_connections"`
	Routes            int               `json:"routes"`
	Remotes           int               `json:"remotes"`
	Leafs             int               `json:"leafnodes"`
	InMsgs            int64             `json:"in_msgs"`
	OutMsgs           int64             `json:"out_msgs"`
	InBytes           int64             `json:"in_bytes"`
	OutBytes          int64             `json:"out_bytes"`
	InClientMsgs      int64             `json:"in_client_msgs"`
	InClientBytes     int64             `json:"in_client_bytes"`
	OutClientMsgs     int64             `json:"out_client_msgs"`
	OutClientBytes    int64             `json:"out_client_bytes"`
	SlowConsumers     int64             `json:"slow_consumers"`
	StaleConnections  int64             `json:"stale_connections"`
	StalledClients    int64             `json:"stalled_clients"`
	Subscriptions     uint32            `json:"subscriptions"`
	HTTPReqStats      map[string]uint64 `json:"http_req_stats"`
	ConfigLoadTime    time.Time         `json:"config_load_time"`
	ConfigDigest      string            `json:"config_digest,omitempty"`
	Tags              []string          `json:"tags,omitempty"`
	Metadata          map[string]string `json:"metadata,omitempty"`
	// FeatureFlags are upstream's feature flags: their defaults, set by
	// the configuration's feature_flags where it names them.
	FeatureFlags      map[string]bool    `json:"feature_flags,omitempty"`
	SystemAccount     string             `json:"system_account,omitempty"`
	SlowConsumerStats *SlowConsumerStats `json:"slow_consumer_stats"`
	StaleConnStats    *KindStats         `json:"stale_connection_stats,omitempty"`
	// DiskIOWaitStats are upstream's disk_io_wait_stats: natsd's stores
	// do not queue blocking disk I/O behind a limit, so nothing waits and
	// the counts stay 0.
	DiskIOWaitStats *DiskIOWaitStats `json:"disk_io_wait_stats,omitempty"`
	// TLSCertNotAfter is when the client listener's certificate expires.
	TLSCertNotAfter *time.Time `json:"tls_cert_not_after,omitempty"`
	// Unauthenticated is natsd's own section (upstream has no such
	// budget): the connections that have not authenticated yet.
	Unauthenticated *UnauthenticatedVarz `json:"unauthenticated,omitempty"`
}

// UnauthenticatedVarz is the "unauthenticated" section of Varz, natsd's
// own: the connections that have not authenticated yet and their memory
// budget (max_unauthenticated_memory, max_unauthenticated_conn_memory;
// 0 is no limit).
type UnauthenticatedVarz struct {
	// Connections and Bytes are the connections not authenticated now
	// and the estimate of the memory they hold.
	Connections int   `json:"connections"`
	Bytes       int64 `json:"bytes"`
	// MaxMemory and MaxConnMemory are the budgets in force.
	MaxMemory     int64 `json:"max_memory"`
	MaxConnMemory int64 `json:"max_conn_memory"`
	// Refused counts the new connections refused because the total was
	// past MaxMemory; Closed the unauthenticated connections closed, the
	// oldest past MaxMemory or one past MaxConnMemory. Both since start.
	Refused uint64 `json:"refused"`
	Closed  uint64 `json:"closed"`
}

// ClusterOptsVarz is the cluster section of Varz, filled by the "cluster"
// varz contributor; empty ({}) without routes.
type ClusterOptsVarz struct {
	Name        string   `json:"name,omitempty"`
	Host        string   `json:"addr,omitempty"`
	Port        int      `json:"cluster_port,omitempty"`
	AuthTimeout float64  `json:"auth_timeout,omitempty"`
	URLs        []string `json:"urls,omitempty"`
	TLSTimeout  float64  `json:"tls_timeout,omitempty"`
	TLSRequired bool     `json:"tls_required,omitempty"`
	TLSVerify   bool     `json:"tls_verify,omitempty"`
	PoolSize    int      `json:"pool_size,omitempty"`
	// TLSCertNotAfter is when the listener's certificate expires.
	TLSCertNotAfter *time.Time `json:"tls_cert_not_after,omitempty"`
}

// GatewayOptsVarz is the gateway section of Varz; empty until gateways
// are configured.
type GatewayOptsVarz struct {
	Name           string   `json:"name,omitempty"`
	Host           string   `json:"host,omitempty"`
	Port           int      `json:"port,omitempty"`
	AuthTimeout    float64  `json:"auth_timeout,omitempty"`
	TLSTimeout     float64  `json:"tls_timeout,omitempty"`
	TLSRequired    bool     `json:"tls_required,omitempty"`
	TLSVerify      bool     `json:"tls_verify,omitempty"`
	Advertise      string   `json:"advertise,omitempty"`
	ConnectRetries int      `json:"connect_retries,omitempty"`
	RejectUnknown  bool     `json:"reject_unknown,omitempty"`
	Gateways       []string `json:"gateways,omitempty"`
	// TLSCertNotAfter is when the listener's certificate expires.
	TLSCertNotAfter *time.Time `json:"tls_cert_not_after,omitempty"`
}

// LeafNodeOptsVarz is the leaf node section of Varz; empty until leaf
// nodes are configured.
type LeafNodeOptsVarz struct {
	Host        string               `json:"host,omitempty"`
	Port        int                  `json:"port,omitempty"`
	AuthTimeout float64              `json:"auth_timeout,omitempty"`
	TLSTimeout  float64              `json:"tls_timeout,omitempty"`
	TLSRequired bool                 `json:"tls_required,omitempty"`
	TLSVerify   bool                 `json:"tls_verify,omitempty"`
	Remotes     []RemoteLeafOptsVarz `json:"remotes,omitempty"`
	// TLSCertNotAfter is when the listener's certificate expires.
	TLSCertNotAfter *time.Time `json:"tls_cert_not_after,omitempty"`
}

// RemoteLeafOptsVarz is one remote of the leaf node section of Varz: the
// local account it binds, its URLs (host:port, without credentials) and
// its deny lists.
type RemoteLeafOptsVarz struct {
	LocalAccount string     `json:"local_account,omitempty"`
	URLs         []string   `json:"urls,omitempty"`
	Deny         *DenyRules `json:"deny,omitempty"`
}

// DenyRules are a remote's deny_exports and deny_imports.
type DenyRules struct {
	Exports []string `json:"exports,omitempty"`
	Imports []string `json:"imports,omitempty"`
}

// MQTTOptsVarz is the MQTT section of Varz; empty until MQTT is
// configured.
type MQTTOptsVarz struct {
	Host        string        `json:"host,omitempty"`
	Port        int           `json:"port,omitempty"`
	NoAuthUser  string        `json:"no_auth_user,omitempty"`
	AuthTimeout float64       `json:"auth_timeout,omitempty"`
	TLSMap      bool          `json:"tls_map,omitempty"`
	TLSTimeout  float64       `json:"tls_timeout,omitempty"`
	JsDomain    string        `json:"js_domain,omitempty"`
	AckWait     time.Duration `json:"ack_wait,omitempty"`
	// MaxAckPending is the block's max_ack_pending as configured (0 when
	// left to its default, as upstream shows it).
	MaxAckPending int `json:"max_ack_pending,omitempty"`
	// TLSCertNotAfter is when the listener's certificate expires.
	TLSCertNotAfter *time.Time `json:"tls_cert_not_after,omitempty"`
}

// WebsocketOptsVarz is the WebSocket section of Varz; empty until
// WebSocket is configured.
type WebsocketOptsVarz struct {
	Host             string        `json:"host,omitempty"`
	Port             int           `json:"port,omitempty"`
	Advertise        string        `json:"advertise,omitempty"`
	NoAuthUser       string        `json:"no_auth_user,omitempty"`
	HandshakeTimeout time.Duration `json:"handshake_timeout,omitempty"`
	AuthTimeout      float64       `json:"auth_timeout,omitempty"`
	NoTLS            bool          `json:"no_tls,omitempty"`
	SameOrigin       bool          `json:"same_origin,omitempty"`
	AllowedOrigins   []string      `json:"allowed_origins,omitempty"`
	Compression      bool          `json:"compression,omitempty"`
	// TLSCertNotAfter is when the listener's certificate expires.
	TLSCertNotAfter *time.Time `json:"tls_cert_not_after,omitempty"`
}

// JetStreamVarz is the JetStream section of Varz, filled by the
// "jetstream" varz contributor: empty ({}) when JetStream is off. The
// documents are raw JSON so that the jetstream module keeps their shapes.
type JetStreamVarz struct {
	Config json.RawMessage `json:"config,omitempty"`
	Stats  json.RawMessage `json:"stats,omitempty"`
	Meta   json.RawMessage `json:"meta,omitempty"`
	Limits json.RawMessage `json:"limits,omitempty"`
}

// SlowConsumerStats splits slow consumers by connection kind.
type SlowConsumerStats = KindStats

// DiskIOWaitStats count the waits for a disk I/O slot, as upstream's
// /varz disk_io_wait_stats (times in nanoseconds).
type DiskIOWaitStats struct {
	Waiters     int64 `json:"waiters"`
	Waits       int64 `json:"waits"`
	WaitTime    int64 `json:"wait_time"`
	MaxWaitTime int64 `json:"max_wait_time"`
}

// KindStats split a count (slow consumers, stale connections) by the kind
// of connection.
type KindStats struct {
	Clients  uint64 `json:"clients"`
	Routes   uint64 `json:"routes"`
	Gateways uint64 `json:"gateways"`
	Leafs    uint64 `json:"leafs"`
}
