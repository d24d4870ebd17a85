package monitor

import (
	"net/http"

	"natsd.dev/server"
	"natsd.dev/server/snapshot"
)

// JszPath is the JetStream endpoint.
const JszPath = "/jsz"

func (m *Server) handleJsz(w http.ResponseWriter, r *http.Request) {
	q := newQuery(w, r)
	o := &snapshot.JszOptions{
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
	m.render(w, r, server.KindJsz, o)
}
