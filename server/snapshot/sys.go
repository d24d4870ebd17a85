package snapshot

import "time"

// Monitoring over NATS: the envelope of $SYS.REQ.SERVER.<id>.<KIND>
// answers and the filter of PING requests.

// ServerInfo names the answering server in a monitoring response.
type ServerInfo struct {
	Name    string   `json:"name"`
	Host    string   `json:"host"`
	ID      string   `json:"id"`
	Cluster string   `json:"cluster,omitempty"`
	Domain  string   `json:"domain,omitempty"`
	Version string   `json:"ver"`
	Tags    []string `json:"tags,omitempty"`
	// FeatureFlags are upstream's feature flags: their defaults, set by
	// the configuration's feature_flags where it names them.
	FeatureFlags map[string]bool `json:"feature_flags,omitempty"`
	JetStream    bool            `json:"jetstream"`
	// Flags are upstream's server capability bits (ServerCapability):
	// 1 is JetStream enabled.
	Flags uint64    `json:"flags"`
	Seq   uint64    `json:"seq"`
	Time  time.Time `json:"time"`
}

// ServerAPIResponse is the envelope of a monitoring response: Data on
// success, Error otherwise.
type ServerAPIResponse struct {
	Server *ServerInfo     `json:"server"`
	Data   any             `json:"data,omitempty"`
	Error  *ServerAPIError `json:"error,omitempty"`
}

// ServerAPIError is a failed monitoring request: Code is an HTTP status.
type ServerAPIError struct {
	Code        int    `json:"code"`
	Description string `json:"description,omitempty"`
}

// EventFilterOptions select the servers that answer a PING request; empty
// fields select all. Name and Host match by substring, as upstream.
type EventFilterOptions struct {
	Name    string   `json:"server_name,omitempty"`
	Cluster string   `json:"cluster,omitempty"`
	Host    string   `json:"host,omitempty"`
	Tags    []string `json:"tags,omitempty"`
	Domain  string   `json:"domain,omitempty"`
}

// ClientInfo describes the client of a connect or disconnect advisory, with
// upstream's field names.
type ClientInfo struct {
	Start   *time.Time `json:"start,omitempty"`
	Host    string     `json:"host,omitempty"`
	ID      uint64     `json:"id,omitempty"`
	Account string     `json:"acc"`
	User    string     `json:"user,omitempty"`
	Name    string     `json:"name,omitempty"`
	Lang    string     `json:"lang,omitempty"`
	Version string     `json:"ver,omitempty"`
	// RTT is the round trip time (in JSON nanoseconds, as upstream).
	RTT    time.Duration `json:"rtt,omitempty"`
	Server string        `json:"server,omitempty"`
	Stop   *time.Time    `json:"stop,omitempty"`
	// NameTag is the account's name tag: its name (a JWT account's
	// name claim in upstream).
	NameTag    string `json:"name_tag,omitempty"`
	Kind       string `json:"kind,omitempty"`
	ClientType string `json:"client_type,omitempty"`
}

// ConnectEventMsg is the advisory published on $SYS.ACCOUNT.<acc>.CONNECT.
// The core fills Type and Client; the system service the rest.
type ConnectEventMsg struct {
	Type   string      `json:"type"`
	ID     string      `json:"id"`
	Time   time.Time   `json:"timestamp"`
	Server *ServerInfo `json:"server"`
	Client ClientInfo  `json:"client"`
}

// DisconnectEventMsg is the advisory published on
// $SYS.ACCOUNT.<acc>.DISCONNECT. The core fills Type, Client, Sent,
// Received and Reason; the system service the rest. As upstream, Sent is
// what the client sent (its published messages) and Received what it
// was delivered.
type DisconnectEventMsg struct {
	Type     string      `json:"type"`
	ID       string      `json:"id"`
	Time     time.Time   `json:"timestamp"`
	Server   *ServerInfo `json:"server"`
	Client   ClientInfo  `json:"client"`
	Sent     DataStats   `json:"sent"`
	Received DataStats   `json:"received"`
	Reason   string      `json:"reason"`
}
