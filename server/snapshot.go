package server

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"natsd.dev/sublist"
)

// Monitoring snapshots.
//
// The types in this file are plain copies of the server's state, shaped
// like the JSON documents of upstream's monitoring endpoints (/varz, /connz,
// /subsz, ...); their JSON tags are upstream's names so existing tools read
// them unchanged. The monitor module renders them over HTTP and the system
// account answers $SYS.REQ.SERVER.<id>.<KIND> requests with them. A returned
// snapshot shares nothing with the server: the caller owns it.

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

// MonitorError is a bad monitoring request (an unknown sort option, a bad
// test subject...). Text is what upstream answers in the body of its 400
// response, kept apart from the Go error string.
type MonitorError struct {
	Text string
	Err  error // a sentinel such as ErrUnknownAccount, or nil
}

func (e *MonitorError) Error() string { return "server: " + e.Text }

// Unwrap returns the sentinel, if any.
func (e *MonitorError) Unwrap() error { return e.Err }

// ErrUnknownAccount is wrapped by Accountz for an account that does not
// exist.
var ErrUnknownAccount = errors.New("server: unknown account")

func monitorErr(text string) error { return &MonitorError{Text: text} }

// VarzOptions are the options of Varz; there are none yet.
type VarzOptions struct{}

// Varz is the /varz document: identity, configured limits and runtime
// counters of the server.
type Varz struct {
	ID                string             `json:"server_id"`
	Name              string             `json:"server_name"`
	Version           string             `json:"version"`
	Proto             int                `json:"proto"`
	GitCommit         string             `json:"git_commit,omitempty"`
	GoVersion         string             `json:"go"`
	Host              string             `json:"host"`
	Port              int                `json:"port"`
	AuthRequired      bool               `json:"auth_required,omitempty"`
	TLSRequired       bool               `json:"tls_required,omitempty"`
	TLSVerify         bool               `json:"tls_verify,omitempty"`
	IP                string             `json:"ip,omitempty"`
	ClientConnectURLs []string           `json:"connect_urls,omitempty"`
	WSConnectURLs     []string           `json:"ws_connect_urls,omitempty"`
	MaxConn           int                `json:"max_connections"`
	MaxSubs           int                `json:"max_subscriptions,omitempty"`
	PingInterval      time.Duration      `json:"ping_interval"` // nanoseconds, as upstream
	MaxPingsOut       int                `json:"ping_max"`
	HTTPHost          string             `json:"http_host"`
	HTTPPort          int                `json:"http_port"`
	HTTPBasePath      string             `json:"http_base_path"`
	HTTPSPort         int                `json:"https_port"`
	AuthTimeout       float64            `json:"auth_timeout"` // seconds
	MaxControlLine    int32              `json:"max_control_line"`
	MaxPayload        int                `json:"max_payload"`
	MaxPending        int64              `json:"max_pending"`
	Cluster           ClusterOptsVarz    `json:"cluster"`
	Gateway           GatewayOptsVarz    `json:"gateway"`
	LeafNode          LeafNodeOptsVarz   `json:"leaf"`
	MQTT              MQTTOptsVarz       `json:"mqtt"`
	Websocket         WebsocketOptsVarz  `json:"websocket"`
	JetStream         JetStreamVarz      `json:"jetstream"`
	TLSTimeout        float64            `json:"tls_timeout"`
	WriteDeadline     time.Duration      `json:"write_deadline"`
	Start             time.Time          `json:"start"`
	Now               time.Time          `json:"now"`
	Uptime            string             `json:"uptime"`
	Mem               int64              `json:"mem"`
	Cores             int                `json:"cores"`
	MaxProcs          int                `json:"gomaxprocs"`
	CPU               float64            `json:"cpu"`
	Connections       int                `json:"connections"`
	TotalConnections  uint64             `json:"total_connections"`
	Routes            int                `json:"routes"`
	Remotes           int                `json:"remotes"`
	Leafs             int                `json:"leafnodes"`
	InMsgs            int64              `json:"in_msgs"`
	OutMsgs           int64              `json:"out_msgs"`
	InBytes           int64              `json:"in_bytes"`
	OutBytes          int64              `json:"out_bytes"`
	SlowConsumers     int64              `json:"slow_consumers"`
	Subscriptions     uint32             `json:"subscriptions"`
	HTTPReqStats      map[string]uint64  `json:"http_req_stats"`
	ConfigLoadTime    time.Time          `json:"config_load_time"`
	Tags              []string           `json:"tags,omitempty"`
	SystemAccount     string             `json:"system_account,omitempty"`
	SlowConsumerStats *SlowConsumerStats `json:"slow_consumer_stats"`
}

// ClusterOptsVarz is the cluster section of Varz; empty ({}) without
// routes (see SetRouteMonitor).
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
}

// LeafNodeOptsVarz is the leaf node section of Varz; empty until leaf
// nodes are configured.
type LeafNodeOptsVarz struct {
	Host        string   `json:"host,omitempty"`
	Port        int      `json:"port,omitempty"`
	AuthTimeout float64  `json:"auth_timeout,omitempty"`
	TLSTimeout  float64  `json:"tls_timeout,omitempty"`
	TLSRequired bool     `json:"tls_required,omitempty"`
	TLSVerify   bool     `json:"tls_verify,omitempty"`
	Remotes     []string `json:"remotes,omitempty"`
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
}

// JetStreamVarz is the JetStream section of Varz: empty ({}) when
// JetStream is off. The jetstream module fills the raw documents.
type JetStreamVarz struct {
	Config json.RawMessage `json:"config,omitempty"`
	Stats  json.RawMessage `json:"stats,omitempty"`
	Meta   json.RawMessage `json:"meta,omitempty"`
}

// SlowConsumerStats splits slow consumers by connection kind.
type SlowConsumerStats struct {
	Clients  uint64 `json:"clients"`
	Routes   uint64 `json:"routes"`
	Gateways uint64 `json:"gateways"`
	Leafs    uint64 `json:"leafs"`
}

// SortOpt is a /connz sort key (the sort= query parameter).
type SortOpt string

// Sort keys of Connz. ByCid and ByStart sort ascending, ByUptime shortest
// first and ByReason alphabetically, as upstream; the others put the
// largest (or most recent) first.
const (
	ByCid      SortOpt = "cid"
	ByStart    SortOpt = "start"
	BySubs     SortOpt = "subs"
	ByPending  SortOpt = "pending"
	ByOutMsgs  SortOpt = "msgs_to"
	ByInMsgs   SortOpt = "msgs_from"
	ByOutBytes SortOpt = "bytes_to"
	ByInBytes  SortOpt = "bytes_from"
	ByLast     SortOpt = "last"
	ByIdle     SortOpt = "idle"
	ByUptime   SortOpt = "uptime"
	ByStop     SortOpt = "stop"
	ByReason   SortOpt = "reason"
	ByRTT      SortOpt = "rtt"
)

// IsValid reports whether o is a known sort key ("" is not).
func (o SortOpt) IsValid() bool {
	switch o {
	case ByCid, ByStart, BySubs, ByPending, ByOutMsgs, ByInMsgs, ByOutBytes,
		ByInBytes, ByLast, ByIdle, ByUptime, ByStop, ByReason, ByRTT:
		return true
	}
	return false
}

// ConnState selects open, closed or all connections in Connz.
type ConnState int

// Connection states of ConnzOptions.State.
const (
	ConnOpen ConnState = iota
	ConnClosed
	ConnAll
)

func (s ConnState) String() string {
	switch s {
	case ConnOpen:
		return "open"
	case ConnClosed:
		return "closed"
	case ConnAll:
		return "all"
	}
	return "unknown"
}

// ConnzOptions select, sort and page the connections of Connz. The zero
// value lists the first DefaultConnListSize open connections by cid.
type ConnzOptions struct {
	Sort                SortOpt   `json:"sort"`
	Username            bool      `json:"auth"`
	Subscriptions       bool      `json:"subscriptions"`
	SubscriptionsDetail bool      `json:"subscriptions_detail"`
	Offset              int       `json:"offset"`
	Limit               int       `json:"limit"`
	CID                 uint64    `json:"cid"`
	MQTTClient          string    `json:"mqtt_client"`
	State               ConnState `json:"state"`
	User                string    `json:"user"`
	Account             string    `json:"acc"`
	FilterSubject       string    `json:"filter_subject"`
}

// Connz is the /connz document: one page of connections.
type Connz struct {
	ID       string      `json:"server_id"`
	Now      time.Time   `json:"now"`
	NumConns int         `json:"num_connections"`
	Total    int         `json:"total"`
	Offset   int         `json:"offset"`
	Limit    int         `json:"limit"`
	Conns    []*ConnInfo `json:"connections"`
}

// ConnInfo describes one client connection, open or closed.
type ConnInfo struct {
	Cid            uint64      `json:"cid"`
	Kind           string      `json:"kind,omitempty"`
	Type           string      `json:"type,omitempty"`
	IP             string      `json:"ip"`
	Port           int         `json:"port"`
	Start          time.Time   `json:"start"`
	LastActivity   time.Time   `json:"last_activity"`
	Stop           *time.Time  `json:"stop,omitempty"`
	Reason         string      `json:"reason,omitempty"`
	RTT            string      `json:"rtt,omitempty"`
	Uptime         string      `json:"uptime"`
	Idle           string      `json:"idle"`
	Pending        int         `json:"pending_bytes"`
	InMsgs         int64       `json:"in_msgs"`
	OutMsgs        int64       `json:"out_msgs"`
	InBytes        int64       `json:"in_bytes"`
	OutBytes       int64       `json:"out_bytes"`
	NumSubs        uint32      `json:"subscriptions"`
	Name           string      `json:"name,omitempty"`
	Lang           string      `json:"lang,omitempty"`
	Version        string      `json:"version,omitempty"`
	TLSVersion     string      `json:"tls_version,omitempty"`
	TLSCipher      string      `json:"tls_cipher_suite,omitempty"`
	AuthorizedUser string      `json:"authorized_user,omitempty"`
	Account        string      `json:"account,omitempty"`
	Subs           []string    `json:"subscriptions_list,omitempty"`
	SubsDetail     []SubDetail `json:"subscriptions_list_detail,omitempty"`
	MQTTClient     string      `json:"mqtt_client,omitempty"`
}

// SubDetail describes one subscription.
type SubDetail struct {
	Account string `json:"account,omitempty"`
	Subject string `json:"subject"`
	Queue   string `json:"qgroup,omitempty"`
	Sid     string `json:"sid"`
	Msgs    int64  `json:"msgs"`
	Max     int64  `json:"max,omitempty"`
	Cid     uint64 `json:"cid"`
}

// SubszOptions select and page the subscriptions of Subsz.
type SubszOptions struct {
	Offset        int    `json:"offset"`
	Limit         int    `json:"limit"`
	Subscriptions bool   `json:"subscriptions"`
	Account       string `json:"account,omitempty"`
	// Test keeps only subscriptions a message published to this literal
	// subject would reach.
	Test string `json:"test,omitempty"`
}

// Subsz is the /subsz document: the subscription lists' statistics summed
// over the selected accounts, and with Subscriptions one page of them.
// Upstream renders only the statistics when the list is empty; the
// monitor does the same.
type Subsz struct {
	ID  string    `json:"server_id"`
	Now time.Time `json:"now"`
	sublist.Stats
	Total  int         `json:"total"`
	Offset int         `json:"offset"`
	Limit  int         `json:"limit"`
	Subs   []SubDetail `json:"subscriptions_list,omitempty"`
}

// RoutezOptions are the options of Routez.
type RoutezOptions struct {
	Subscriptions       bool `json:"subscriptions"`
	SubscriptionsDetail bool `json:"subscriptions_detail"`
}

// Routez is the /routez document. The module that runs routes fills it
// (see SetRouteMonitor); without one it is empty.
type Routez struct {
	ID        string       `json:"server_id"`
	Name      string       `json:"server_name"`
	Now       time.Time    `json:"now"`
	NumRoutes int          `json:"num_routes"`
	Routes    []*RouteInfo `json:"routes"`
}

// RouteInfo describes one route connection.
type RouteInfo struct {
	Rid          uint64      `json:"rid"`
	RemoteID     string      `json:"remote_id"`
	RemoteName   string      `json:"remote_name"`
	DidSolicit   bool        `json:"did_solicit"`
	IsConfigured bool        `json:"is_configured"`
	IP           string      `json:"ip"`
	Port         int         `json:"port"`
	Start        time.Time   `json:"start"`
	LastActivity time.Time   `json:"last_activity"`
	RTT          string      `json:"rtt,omitempty"`
	Uptime       string      `json:"uptime"`
	Idle         string      `json:"idle"`
	Pending      int         `json:"pending_size"`
	InMsgs       int64       `json:"in_msgs"`
	OutMsgs      int64       `json:"out_msgs"`
	InBytes      int64       `json:"in_bytes"`
	OutBytes     int64       `json:"out_bytes"`
	NumSubs      uint32      `json:"subscriptions"`
	Subs         []string    `json:"subscriptions_list,omitempty"`
	SubsDetail   []SubDetail `json:"subscriptions_list_detail,omitempty"`
	Account      string      `json:"account,omitempty"`
	Compression  string      `json:"compression,omitempty"`
	PoolIdx      int         `json:"pool_idx,omitempty"`
}

// GatewayzOptions are the options of Gatewayz.
type GatewayzOptions struct {
	Name        string `json:"name"`
	Accounts    bool   `json:"accounts"`
	AccountName string `json:"account_name"`
}

// Gatewayz is the /gatewayz document; empty until gateways exist.
type Gatewayz struct {
	ID               string                       `json:"server_id"`
	Now              time.Time                    `json:"now"`
	Name             string                       `json:"name,omitempty"`
	Host             string                       `json:"host,omitempty"`
	Port             int                          `json:"port,omitempty"`
	OutboundGateways map[string]*RemoteGatewayz   `json:"outbound_gateways"`
	InboundGateways  map[string][]*RemoteGatewayz `json:"inbound_gateways"`
}

// RemoteGatewayz describes one gateway connection.
type RemoteGatewayz struct {
	IsConfigured bool      `json:"configured"`
	Connection   *ConnInfo `json:"connection,omitempty"`
}

// LeafzOptions are the options of Leafz.
type LeafzOptions struct {
	Subscriptions bool   `json:"subscriptions"`
	Account       string `json:"account"`
}

// Leafz is the /leafz document; empty until leaf nodes exist.
type Leafz struct {
	ID       string      `json:"server_id"`
	Now      time.Time   `json:"now"`
	NumLeafs int         `json:"leafnodes"`
	Leafs    []*LeafInfo `json:"leafs"`
}

// LeafInfo describes one leaf node connection.
type LeafInfo struct {
	Name     string   `json:"name"`
	IsSpoke  bool     `json:"is_spoke"`
	Account  string   `json:"account"`
	IP       string   `json:"ip"`
	Port     int      `json:"port"`
	RTT      string   `json:"rtt,omitempty"`
	InMsgs   int64    `json:"in_msgs"`
	OutMsgs  int64    `json:"out_msgs"`
	InBytes  int64    `json:"in_bytes"`
	OutBytes int64    `json:"out_bytes"`
	NumSubs  uint32   `json:"subscriptions"`
	Subs     []string `json:"subscriptions_list,omitempty"`
}

// AccountzOptions are the options of Accountz.
type AccountzOptions struct {
	// Account asks for the details of one account instead of the list of
	// names.
	Account string `json:"account"`
}

// Accountz is the /accountz document.
type Accountz struct {
	ID            string       `json:"server_id"`
	Now           time.Time    `json:"now"`
	SystemAccount string       `json:"system_account,omitempty"`
	Accounts      []string     `json:"accounts,omitempty"`
	Account       *AccountInfo `json:"account_detail,omitempty"`
}

// AccountInfo details one account.
type AccountInfo struct {
	AccountName string         `json:"account_name"`
	LastUpdate  time.Time      `json:"update_time,omitempty"`
	IsSystem    bool           `json:"is_system,omitempty"`
	Expired     bool           `json:"expired"`
	Complete    bool           `json:"complete"`
	JetStream   bool           `json:"jetstream_enabled"`
	LeafCnt     int            `json:"leafnode_connections"`
	ClientCnt   int            `json:"client_connections"`
	SubCnt      uint32         `json:"subscriptions"`
	Sublist     *sublist.Stats `json:"sublist_stats,omitempty"`
}

// AccountStatzOptions are the options of AccountStatz.
type AccountStatzOptions struct {
	// Accounts limits the answer to these accounts (all when empty).
	Accounts []string `json:"accounts"`
	// IncludeUnused also lists accounts without connections.
	IncludeUnused bool `json:"include_unused"`
}

// AccountStatz is the /accstatz document.
type AccountStatz struct {
	ID       string         `json:"server_id"`
	Now      time.Time      `json:"now"`
	Accounts []*AccountStat `json:"account_statz"`
}

// AccountStat are one account's connection and traffic numbers. Sent and
// Received count the messages of the account's open connections (to them
// and from them).
type AccountStat struct {
	Account       string    `json:"acc"`
	Name          string    `json:"name"`
	Conns         int       `json:"conns"`
	LeafNodes     int       `json:"leafnodes"`
	TotalConns    int       `json:"total_conns"`
	NumSubs       uint32    `json:"num_subscriptions"`
	Sent          DataStats `json:"sent"`
	Received      DataStats `json:"received"`
	SlowConsumers int64     `json:"slow_consumers"`
}

// DataStats count messages and payload bytes.
type DataStats struct {
	Msgs  int64 `json:"msgs"`
	Bytes int64 `json:"bytes"`
}

// HealthzOptions are the /healthz query options.
type HealthzOptions struct {
	// JSEnabledOnly checks only that JetStream is enabled when it is
	// configured (js-enabled-only).
	JSEnabledOnly bool `json:"js-enabled-only,omitempty"`
	// JSServerOnly skips the checks of streams and consumers
	// (js-server-only).
	JSServerOnly bool `json:"js-server-only,omitempty"`
}

// HealthStatus is the /healthz document. StatusCode is the HTTP status to
// answer with; it is omitted from the JSON when the server is healthy.
type HealthStatus struct {
	Status     string `json:"status"`
	StatusCode int    `json:"status_code,omitempty"`
	Error      string `json:"error,omitempty"`
}

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
