package monitor

import (
	"net/http"
	"time"

	"natsd.dev/server"
)

// JszPath is the JetStream endpoint.
const JszPath = "/jsz"

// JszOptions are the /jsz query options, as upstream: acc, accounts,
// streams, consumers, config, leader-only, offset, limit, raft.
type JszOptions struct {
	Account    string
	Accounts   bool
	Streams    bool
	Consumers  bool
	Config     bool
	LeaderOnly bool
	Offset     int
	Limit      int
	RaftGroups bool
}

// JetStreamReporter is the seam through which /jsz reaches JetStream: the
// monitor never imports the jetstream module, cmd wires its reporter in
// Options.JetStream. Jsz returns the document to render as JSON (with
// upstream's field names); an error whose text should reach the client is
// a *server.MonitorError (400), anything else is a 500.
type JetStreamReporter interface {
	Jsz(opts *JszOptions) (any, error)
}

// JetStreamHealth is an optional capability of a JetStreamReporter:
// /healthz asks it whether JetStream is healthy (honouring js-enabled-only
// and js-server-only) and answers 503 "unavailable" with the error's text
// when it is not.
type JetStreamHealth interface {
	JetStreamHealth(opts *server.HealthzOptions) error
}

// jszDisabled is the /jsz document of a server without JetStream, shaped
// like upstream's so tools see "disabled" rather than a 404.
type jszDisabled struct {
	ID        string      `json:"server_id"`
	Now       time.Time   `json:"now"`
	Disabled  bool        `json:"disabled"`
	Config    jszConfig   `json:"config"`
	Memory    uint64      `json:"memory"`
	Store     uint64      `json:"storage"`
	ResMemory uint64      `json:"reserved_memory"`
	ResStore  uint64      `json:"reserved_storage"`
	Accounts  int         `json:"accounts"`
	HAAssets  int         `json:"ha_assets"`
	API       jszAPIStats `json:"api"`
	Streams   int         `json:"streams"`
	Consumers int         `json:"consumers"`
	Messages  uint64      `json:"messages"`
	Bytes     uint64      `json:"bytes"`
}

type jszConfig struct {
	MaxMemory int64  `json:"max_memory"`
	MaxStore  int64  `json:"max_storage"`
	StoreDir  string `json:"store_dir,omitempty"`
}

type jszAPIStats struct {
	Total  uint64 `json:"total"`
	Errors uint64 `json:"errors"`
}

func (m *Server) handleJsz(w http.ResponseWriter, r *http.Request) {
	q := newQuery(w, r)
	o := &JszOptions{
		Account:    q.str("acc"),
		Accounts:   q.bool("accounts"),
		Streams:    q.bool("streams"),
		Consumers:  q.bool("consumers"),
		Config:     q.bool("config"),
		LeaderOnly: q.bool("leader-only"),
		Offset:     q.int("offset"),
		Limit:      q.int("limit"),
		RaftGroups: q.bool("raft"),
	}
	if !q.ok {
		return
	}
	if m.opts.JetStream == nil {
		m.writeJSON(w, r, &jszDisabled{ID: m.srv.ID(), Now: time.Now().UTC(), Disabled: true})
		return
	}
	doc, err := m.opts.JetStream.Jsz(o)
	if err != nil {
		writeErr(w, err)
		return
	}
	m.writeJSON(w, r, doc)
}
