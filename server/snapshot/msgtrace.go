package snapshot

import "time"

// Message tracing (ADR-41): a message published with a Nats-Trace-Dest
// header makes every server it crosses publish one MsgTraceEvent to that
// subject. Field names follow upstream's msgtrace JSON.

// Message trace event types (MsgTraceIngress.Type and the others).
const (
	MsgTraceTypeIngress        = "in"
	MsgTraceTypeSubjectMapping = "sm"
	MsgTraceTypeStreamExport   = "se"
	MsgTraceTypeServiceImport  = "si"
	MsgTraceTypeJetStream      = "js"
	MsgTraceTypeEgress         = "eg"
)

// Connection kinds of trace events, upstream's client kinds.
const (
	MsgTraceKindClient  = 0
	MsgTraceKindRouter  = 1
	MsgTraceKindGateway = 2
	MsgTraceKindSystem  = 3
	MsgTraceKindLeaf    = 4
)

// MsgTraceEvent is what one server publishes to a message's trace
// destination: its identity, the traced message's headers and size, how
// many remote servers it forwarded the message to (Hops) and its events
// in order (MsgTraceIngress first, then *SubjectMapping, *StreamExport,
// *ServiceImport, *JetStream and *Egress as they happened).
type MsgTraceEvent struct {
	Server  ServerInfo      `json:"server"`
	Request MsgTraceRequest `json:"request"`
	Hops    int             `json:"hops,omitempty"`
	Events  []any           `json:"events"`
}

// MsgTraceRequest describes the traced message: its headers as received
// and its size (headers included).
type MsgTraceRequest struct {
	Header  map[string][]string `json:"header,omitempty"`
	MsgSize int                 `json:"msgsize,omitempty"`
}

// MsgTraceIngress is how the message entered the server; Error is set
// when the server refused it (a publish permission).
type MsgTraceIngress struct {
	Type    string    `json:"type"`
	Time    time.Time `json:"ts"`
	Kind    int       `json:"kind"`
	CID     uint64    `json:"cid"`
	Name    string    `json:"name,omitempty"`
	Account string    `json:"acc"`
	Subject string    `json:"subj"`
	Error   string    `json:"error,omitempty"`
}

// MsgTraceSubjectMapping is a mapping that changed the subject.
type MsgTraceSubjectMapping struct {
	Type     string    `json:"type"`
	Time     time.Time `json:"ts"`
	MappedTo string    `json:"to"`
}

// MsgTraceStreamExport is the message crossing into the importing
// account Account of a stream export, as subject To there.
type MsgTraceStreamExport struct {
	Type    string    `json:"type"`
	Time    time.Time `json:"ts"`
	Account string    `json:"acc"`
	To      string    `json:"to"`
}

// MsgTraceServiceImport is the message crossing into the exporting
// account Account of a service import, from subject From to To.
type MsgTraceServiceImport struct {
	Type    string    `json:"type"`
	Time    time.Time `json:"ts"`
	Account string    `json:"acc"`
	From    string    `json:"from"`
	To      string    `json:"to"`
}

// MsgTraceJetStream is a stream that stored the message (or, trace
// only, would have), as Subject; NoInterest when an interest stream
// kept it for no consumer, Error when it refused it.
type MsgTraceJetStream struct {
	Type       string    `json:"type"`
	Time       time.Time `json:"ts"`
	Stream     string    `json:"stream"`
	Subject    string    `json:"subject,omitempty"`
	NoInterest bool      `json:"nointerest,omitempty"`
	Error      string    `json:"error,omitempty"`
}

// MsgTraceEgress is one connection the message left through: a client
// (with the subscription and queue group that took it) or a remote
// server (with the hop the copy was given, Nats-Trace-Hop).
type MsgTraceEgress struct {
	Type         string    `json:"type"`
	Time         time.Time `json:"ts"`
	Kind         int       `json:"kind"`
	CID          uint64    `json:"cid"`
	Name         string    `json:"name,omitempty"`
	Hop          string    `json:"hop,omitempty"`
	Account      string    `json:"acc,omitempty"`
	Subscription string    `json:"sub,omitempty"`
	Queue        string    `json:"queue,omitempty"`
	Error        string    `json:"error,omitempty"`
}
