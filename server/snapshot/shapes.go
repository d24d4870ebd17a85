package snapshot

import (
	"encoding/json"
	"time"

	"natsd.dev/sublist"
)

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

// Routez is the /routez document, filled by the ROUTEZ provider (the
// module that runs routes); without one it is empty.
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
	// AccountSubscriptions (subs=1) lists the subjects of each
	// account's interest on an outbound connection,
	// AccountSubscriptionsDetail (subs=detail) the subscriptions; only
	// with Accounts or AccountName, as upstream.
	AccountSubscriptions       bool `json:"subscriptions"`
	AccountSubscriptionsDetail bool `json:"subscriptions_detail"`
}

// Gatewayz is the /gatewayz document, filled by the GATEWAYZ provider;
// without one it is empty.
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
	IsConfigured bool               `json:"configured"`
	Connection   *ConnInfo          `json:"connection,omitempty"`
	Accounts     []*AccountGatewayz `json:"accounts,omitempty"`
}

// AccountGatewayz is the interest mode of one account on a gateway
// connection (/gatewayz?accs=1), upstream's names.
type AccountGatewayz struct {
	Name                  string `json:"name"`
	InterestMode          string `json:"interest_mode"`
	NoInterestCount       int    `json:"no_interest_count,omitempty"`
	InterestOnlyThreshold int    `json:"interest_only_threshold,omitempty"`
	TotalSubscriptions    int    `json:"num_subs,omitempty"`
	NumQueueSubscriptions int    `json:"num_queue_subs,omitempty"`
	// Subs and SubsDetail are the remote's interest in the account on
	// an outbound connection (GatewayzOptions.AccountSubscriptions and
	// AccountSubscriptionsDetail).
	Subs       []string    `json:"subscriptions_list,omitempty"`
	SubsDetail []SubDetail `json:"subscriptions_list_detail,omitempty"`
}

// LeafzOptions are the options of Leafz.
type LeafzOptions struct {
	Subscriptions bool   `json:"subscriptions"`
	Account       string `json:"account"`
}

// Leafz is the /leafz document, filled by the LEAFZ provider; without
// one it is empty.
type Leafz struct {
	ID       string      `json:"server_id"`
	Now      time.Time   `json:"now"`
	NumLeafs int         `json:"leafnodes"`
	Leafs    []*LeafInfo `json:"leafs"`
}

// LeafInfo describes one leaf node connection.
type LeafInfo struct {
	ID       uint64   `json:"id"`
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
	// Compression is the connection's compression mode.
	Compression string `json:"compression,omitempty"`
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

// AccountInfo details one account, as upstream's account_detail. SubCnt
// and Sublist count the account's service imports as subscriptions, as
// upstream's sublist holds them. JWT, IssuerKey, Tags and Claim are an
// operator mode account's; NameTag is its JWT's name (the account's own
// name otherwise).
type AccountInfo struct {
	AccountName string                `json:"account_name"`
	LastUpdate  time.Time             `json:"update_time,omitempty"`
	IsSystem    bool                  `json:"is_system,omitempty"`
	Expired     bool                  `json:"expired"`
	Complete    bool                  `json:"complete"`
	JetStream   bool                  `json:"jetstream_enabled"`
	LeafCnt     int                   `json:"leafnode_connections"`
	ClientCnt   int                   `json:"client_connections"`
	SubCnt      uint32                `json:"subscriptions"`
	Mappings    map[string][]*MapDest `json:"mappings,omitempty"`
	Exports     []ExtExport           `json:"exports,omitempty"`
	Imports     []ExtImport           `json:"imports,omitempty"`
	JWT         string                `json:"jwt,omitempty"`
	IssuerKey   string                `json:"issuer_key,omitempty"`
	NameTag     string                `json:"name_tag,omitempty"`
	Tags        []string              `json:"tags,omitempty"`
	// Claim is the account JWT decoded, as the JSON of its claims.
	Claim json.RawMessage `json:"decoded_jwt,omitempty"`
	// Vr are the issues the JWT's validation found, if any.
	Vr          []ExtVrIssues          `json:"validation_result_jwt,omitempty"`
	RevokedUser map[string]time.Time   `json:"revoked_user,omitempty"`
	Sublist     *sublist.Stats         `json:"sublist_stats,omitempty"`
	Responses   map[string]ExtResponse `json:"responses,omitempty"`
}

// ExtVrIssues is one issue the validation of an account JWT found.
type ExtVrIssues struct {
	Description string `json:"description"`
	Blocking    bool   `json:"blocking"`
	Time        bool   `json:"time_check"`
}

// MapDest is one destination of an account's subject mapping; Weight is
// a percent.
type MapDest struct {
	Subject string `json:"subject"`
	Weight  uint8  `json:"weight"`
	Cluster string `json:"cluster,omitempty"`
}

// ExtExport is one export of an account: Type is "stream" or "service";
// ResponseType (services) is "Singleton", "Streamed" or "Chunked";
// ApprovedAccounts lists the accounts a private export admits.
type ExtExport struct {
	Name                 string               `json:"name,omitempty"`
	Subject              string               `json:"subject,omitempty"`
	Type                 string               `json:"type,omitempty"`
	TokenReq             bool                 `json:"token_req,omitempty"`
	ResponseType         string               `json:"response_type,omitempty"`
	ResponseThreshold    time.Duration        `json:"response_threshold,omitempty"`
	AccountTokenPosition uint                 `json:"account_token_position,omitempty"`
	Advertise            bool                 `json:"advertise,omitempty"`
	AllowTrace           bool                 `json:"allow_trace,omitempty"`
	Description          string               `json:"description,omitempty"`
	InfoURL              string               `json:"info_url,omitempty"`
	ApprovedAccounts     []string             `json:"approved_accounts,omitempty"`
	RevokedAct           map[string]time.Time `json:"revoked_activations,omitempty"`
}

// ExtResponse is one pending response of an account's service exports,
// under its reply subject (To and LocalSubject): Subject is the
// requester's reply subject in its Account. Type is 2, the number of
// upstream's service type, which upstream shows as a number here.
type ExtResponse struct {
	Subject      string `json:"subject,omitempty"`
	Account      string `json:"account,omitempty"`
	To           string `json:"to,omitempty"`
	LocalSubject string `json:"local_subject,omitempty"`
	Type         int    `json:"type,omitempty"`
	Invalid      bool   `json:"invalid"`
	Share        bool   `json:"share"`
	Tracking     bool   `json:"tracking"`
}

// ExtImport is one import of an account: Subject is in the exporting
// Account's namespace, LocalSubject in the importer's (To repeats it for
// services).
type ExtImport struct {
	Name         string `json:"name,omitempty"`
	Subject      string `json:"subject,omitempty"`
	Account      string `json:"account,omitempty"`
	Token        string `json:"token,omitempty"`
	To           string `json:"to,omitempty"`
	LocalSubject string `json:"local_subject,omitempty"`
	Type         string `json:"type,omitempty"`
	AllowTrace   bool   `json:"allow_trace,omitempty"`
	Invalid      bool   `json:"invalid"`
	Share        bool   `json:"share"`
	Tracking     bool   `json:"tracking"`
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
// Received count the messages to and from the account's client
// connections, closed ones included, and those that crossed routes,
// gateways and leaf node connections (also given apart), as upstream;
// NumSubs counts its
// service imports as subscriptions, as upstream's sublist holds them.
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

// DataStats count messages and payload bytes. In an account's statistics
// (AccountStat) they are also split by link kind, as upstream's.
type DataStats struct {
	Msgs     int64     `json:"msgs"`
	Bytes    int64     `json:"bytes"`
	Gateways *MsgBytes `json:"gateways,omitempty"`
	Routes   *MsgBytes `json:"routes,omitempty"`
	Leafs    *MsgBytes `json:"leafs,omitempty"`
}

// MsgBytes count messages and payload bytes of one kind of link.
type MsgBytes struct {
	Msgs  int64 `json:"msgs"`
	Bytes int64 `json:"bytes"`
}

// HealthzOptions are the /healthz query options (and the body of a $SYS
// HEALTHZ request), with upstream's names.
type HealthzOptions struct {
	// JSEnabled is upstream's deprecated name of JSEnabledOnly
	// (js-enabled).
	JSEnabled bool `json:"js-enabled,omitempty"`
	// JSEnabledOnly checks only that JetStream is enabled when it is
	// configured (js-enabled-only).
	JSEnabledOnly bool `json:"js-enabled-only,omitempty"`
	// JSServerOnly skips the checks of streams and consumers
	// (js-server-only).
	JSServerOnly bool `json:"js-server-only,omitempty"`
	// JSMetaOnly checks only the JetStream meta group (js-meta-only).
	JSMetaOnly bool `json:"js-meta-only,omitempty"`
	// Account limits the checks to one JetStream account; Stream (which
	// needs Account) to one of its streams, Consumer (which needs Stream)
	// to one of the stream's consumers. One that does not exist is
	// answered 404.
	Account  string `json:"account,omitempty"`
	Stream   string `json:"stream,omitempty"`
	Consumer string `json:"consumer,omitempty"`
	// Details lists every problem in HealthStatus.Errors, with the status
	// "error", instead of the first one's text in Error.
	Details bool `json:"details,omitempty"`
}

// HealthStatus is the /healthz document. StatusCode is the HTTP status to
// answer with; it is omitted from the JSON when the server is healthy.
// Without details a problem is told in Error; with details (see
// HealthzOptions.Details) every problem is in Errors.
type HealthStatus struct {
	Status     string         `json:"status"`
	StatusCode int            `json:"status_code,omitempty"`
	Error      string         `json:"error,omitempty"`
	Errors     []HealthzError `json:"errors,omitempty"`
}

// HealthzError is one problem of a detailed HealthStatus.
type HealthzError struct {
	Type     HealthzErrorType `json:"type"`
	Account  string           `json:"account,omitempty"`
	Stream   string           `json:"stream,omitempty"`
	Consumer string           `json:"consumer,omitempty"`
	Error    string           `json:"error,omitempty"`
}

// HealthzErrorType is what a HealthzError is about, as upstream names it.
type HealthzErrorType string

// The types of HealthzError.
const (
	HealthzErrorConn       HealthzErrorType = "CONNECTION"
	HealthzErrorBadRequest HealthzErrorType = "BAD_REQUEST"
	HealthzErrorJetStream  HealthzErrorType = "JETSTREAM"
	HealthzErrorAccount    HealthzErrorType = "ACCOUNT"
	HealthzErrorStream     HealthzErrorType = "STREAM"
	HealthzErrorConsumer   HealthzErrorType = "CONSUMER"
)
