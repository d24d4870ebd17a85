package server

import (
	"context"
	"strconv"
)

// Protocol tracing (-V), in upstream's words: "<<-" marks what a
// connection sent, "->>" what the server sent it, each op in brackets
// and a message's payload on a line of its own ("MSG_PAYLOAD: [...]",
// quoted, cut at max_traced_msg_len with "..."). Everything here runs
// only when the connection's traceOn is set, so the hot paths pay one
// boolean test.
//
// The server's in-process clients of the system account (the $SYS
// services, their events) are traced as "SYSTEM" with -VV
// (trace_verbose) only, as upstream's system client: their SUBs and
// PUBs, as if they were a connection's.

// sysTracePrefix is the log prefix of the system account's internal
// clients, as upstream names its system client.
const sysTracePrefix = "SYSTEM"

// trace logs one trace line of c.
func (c *client) trace(line string) {
	c.srv.log.Log(context.Background(), LevelTrace, c.logPrefix()+" - "+line)
}

// traceOut logs an op the server sent c, e.g. "->> [PONG]".
func (c *client) traceOut(op string) {
	c.trace("->> [" + op + "]")
}

// tracePayload logs a message payload (headers included) that c sent
// (in) or received; an empty payload has no line, as upstream.
func (c *client) tracePayload(in bool, payload []byte) {
	if len(payload) == 0 {
		return
	}
	dir := "->> "
	if in {
		dir = "<<- "
	}
	c.trace(dir + "MSG_PAYLOAD: [" + quoteTraced(payload, int(c.srv.maxTracedMsgLen.Load())) + "]")
}

// quoteTraced quotes payload as Go's %q does; past max bytes (max > 0)
// only the first max are quoted, followed by "..." inside the quotes,
// as upstream's max_traced_msg_len.
func quoteTraced(payload []byte, max int) string {
	if max > 0 && len(payload) > max {
		q := strconv.Quote(string(payload[:max]))
		return q[:len(q)-1] + `..."`
	}
	return strconv.Quote(string(payload))
}

// traceMsgOut logs a message delivered to c: its control line as it went
// on the wire, then its payload.
func (c *client) traceMsgOut(subject, sid, reply []byte, hdrLen int, payload []byte) {
	line := appendMsgLine(nil, subject, sid, reply, hdrLen, len(payload))
	c.traceOut(string(line[:len(line)-2])) // without CRLF
	c.tracePayload(false, payload)
}

// traceInternalSub logs an internal client's subscription as upstream
// traces its system client's: "<<- [SUB subject queue sid]".
func (c *client) traceInternalSub(sub *subscription) {
	c.trace("<<- [SUB " + sub.subject + " " + sub.queue + " " + string(sub.sid) + "]")
}

// traceInternalPub logs an internal client's publish as upstream traces
// its system client's: "<<- [PUB subject reply size]", then the payload.
func (c *client) traceInternalPub(subject, reply []byte, payload []byte) {
	c.trace("<<- [PUB " + string(subject) + " " + string(reply) + " " + strconv.Itoa(len(payload)) + "]")
	c.tracePayload(true, payload)
}

// traceSystem turns tracing on for an in-process client (an internal
// client or a session) bound to the system account when -VV asks for
// it; it must run before the client is used.
func (c *client) traceSystem() {
	s := c.srv
	if c.acc != nil && c.acc == s.sysAcc && s.traceVerbose.Load() && s.log.Enabled(context.Background(), LevelTrace) {
		c.traceOn.Store(true)
		c.setLogPrefix(sysTracePrefix)
	}
}

// traceDelSub logs the removal of a subscription (an UNSUB, its last
// message delivered, the connection closed) as upstream does.
func (c *client) traceDelSub(sid []byte) {
	c.trace("<-> [DELSUB " + string(sid) + "]")
}

// retraceLocked applies the trace settings of a reload (-V/trace,
// -VV/trace_verbose, through the swapped log handler) to the
// connections already up, as to those to come: clients and links trace
// when the log takes trace records, sessions of the system account when
// trace_verbose is on too. s.mu is held. In-process InternalClients keep
// the setting they were created with.
func (s *Server) retraceLocked() {
	on := s.log.Enabled(context.Background(), LevelTrace)
	for _, c := range s.clients {
		c.traceOn.Store(on)
	}
	for _, l := range s.links {
		l.c.traceOn.Store(on)
	}
	for _, c := range s.sessions {
		if c.acc != nil && c.acc == s.sysAcc {
			c.traceOn.Store(false)
			c.traceSystem()
		}
	}
}

// Tracing reports whether the link's protocol is traced (-V): set when
// the link is created and by each reload that changes the trace
// settings. Link owners test it before building a trace line.
func (l *Link) Tracing() bool { return l.c.traceOn.Load() }
