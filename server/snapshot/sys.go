package snapshot

import "time"

// Monitoring over NATS: the envelope of $SYS.REQ.SERVER.<id>.<KIND>
// answers and the filter of PING requests.

// ServerInfo names the answering server in a monitoring response.
type ServerInfo struct {
	Name      string    `json:"name"`
	Host      string    `json:"host"`
	ID        string    `json:"id"`
	Cluster   string    `json:"cluster,omitempty"`
	Domain    string    `json:"domain,omitempty"`
	Version   string    `json:"ver"`
	Tags      []string  `json:"tags,omitempty"`
	JetStream bool      `json:"jetstream"`
	Seq       uint64    `json:"seq"`
	Time      time.Time `json:"time"`
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
