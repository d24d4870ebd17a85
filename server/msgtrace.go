package server

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"time"

	"natsd.dev/server/snapshot"
	"natsd.dev/sublist"
)

// Message tracing (ADR-41, upstream 2.11+). A message whose header names
// a subject in Nats-Trace-Dest makes each server it crosses publish one
// snapshot.MsgTraceEvent to that subject, in the account the message was
// published in: how the message came in (a client, or a route with the
// Nats-Trace-Hop it was given), the mapping that changed its subject,
// and every connection it left through (client subscriptions, routes).
// With Nats-Trace-Only (1, true, on) the events are the same but no
// client gets the message; routes still carry it, so that the peer
// reports its part.
//
// As upstream, the publisher must be allowed to publish to the
// destination (else the message is refused with a publish violation for
// the destination, CVE-2026-33249), and a destination that is not a
// valid subject disables tracing with an error logged. A trace ends at an
// account boundary, as upstream's without allow_trace (not supported): a
// stream export ("se") or service import ("si") event, then the message
// is delivered untraced (or, trace only, not at all); a service's
// exporter gets it with Nats-Trace-Dest "trace disabled", as do routes
// past the boundary. Not done:
// JetStream ("js") events, the traceparent (trace context) activation
// and the account's msg_trace settings, compressed events.
//
// Untraced messages pay one scan of their header block, when they have
// one, and nothing else.

const (
	traceDestHeader = "Nats-Trace-Dest"
	traceOnlyHeader = "Nats-Trace-Only"
	traceHopHeader  = "Nats-Trace-Hop"
)

var traceDestBytes = []byte(traceDestHeader)

// msgTrace is the trace of one message through this server, kept in the
// publisher's pubCtx while it is delivered.
type msgTrace struct {
	acc  *Account // where the event is published
	dest string
	only bool
	hop  string // the Nats-Trace-Hop the message came with ("" at the origin)
	hdr  []byte // the traced message's header block
	ev   snapshot.MsgTraceEvent
}

// tracedHeader reports whether a header block asks for tracing.
func tracedHeader(hdrLen int, payload []byte) bool {
	return hdrLen > 0 && hdrLen <= len(payload) && bytes.Contains(payload[:hdrLen], traceDestBytes)
}

// headerValue returns the value of the first line of hdr (a NATS/1.0
// header block) named name. Names are compared as written, as upstream
// finds the tracing headers (nats-trace-dest does not trace).
func headerValue(hdr []byte, name string) (string, bool) {
	_, rest, ok := bytes.Cut(hdr, []byte("\r\n"))
	for ok {
		var line []byte
		line, rest, ok = bytes.Cut(rest, []byte("\r\n"))
		k, v, found := bytes.Cut(line, []byte(":"))
		if found && string(bytes.TrimSpace(k)) == name {
			return string(bytes.TrimSpace(v)), true
		}
	}
	return "", false
}

// headerMap returns the header lines of hdr by name, as written.
func headerMap(hdr []byte) map[string][]string {
	m := make(map[string][]string)
	_, rest, ok := bytes.Cut(hdr, []byte("\r\n"))
	for ok {
		var line []byte
		line, rest, ok = bytes.Cut(rest, []byte("\r\n"))
		if k, v, found := bytes.Cut(line, []byte(":")); found {
			key := string(bytes.TrimSpace(k))
			m[key] = append(m[key], string(bytes.TrimSpace(v)))
		}
	}
	return m
}

// newMsgTrace starts the trace of a message (hdrLen header bytes at the
// start of payload) that entered through c, of trace kind kind, in acc on
// subject. It returns nil when the destination is missing or invalid.
func newMsgTrace(c *client, kind int, name string, acc *Account, subject []byte, hdrLen int, payload []byte) *msgTrace {
	hdr := payload[:hdrLen]
	dest, ok := headerValue(hdr, traceDestHeader)
	if !ok || dest == traceDisabled {
		return nil
	}
	if !sublist.ValidLiteralSubject(dest) {
		c.srv.log.Error(c.logPrefix() + " - Destination " + strconv.Quote(dest) + " is not valid, won't be able to trace events")
		return nil
	}
	mt := &msgTrace{acc: acc, dest: dest, hdr: hdr}
	if v, ok := headerValue(hdr, traceOnlyHeader); ok {
		switch strings.ToLower(v) {
		case "1", "true", "on":
			mt.only = true
		}
	}
	mt.hop, _ = headerValue(hdr, traceHopHeader)
	mt.ev.Request = snapshot.MsgTraceRequest{Header: headerMap(hdr), MsgSize: len(payload)}
	mt.ev.Events = append(mt.ev.Events, &snapshot.MsgTraceIngress{
		Type: snapshot.MsgTraceTypeIngress, Time: time.Now().UTC(), Kind: kind,
		CID: c.cid, Name: name, Account: acc.Name, Subject: string(subject),
	})
	return mt
}

// traceDisabled is the Nats-Trace-Dest of a message whose trace ended at
// an account boundary, as upstream marks it: servers further on do not
// trace it.
const traceDisabled = "trace disabled"

// disabled returns the message (hdrLen header bytes, then the body) with
// its Nats-Trace-Dest set to traceDisabled.
func (mt *msgTrace) disabled(hdrLen int, payload []byte) (int, []byte) {
	h := withHeader(payload[:hdrLen], traceDestHeader, traceDisabled)
	n := len(h)
	return n, append(h, payload[hdrLen:]...)
}

// streamExport records the message crossing into acc through a stream
// import, as local there; the trace ends there.
func (mt *msgTrace) streamExport(acc *Account, local []byte) {
	mt.ev.Events = append(mt.ev.Events, &snapshot.MsgTraceStreamExport{
		Type: snapshot.MsgTraceTypeStreamExport, Time: time.Now().UTC(), Account: acc.Name, To: string(local),
	})
}

// serviceImport records the message crossing into the exporting account
// acc of a service import, from subject to target; the trace ends there.
func (mt *msgTrace) serviceImport(acc *Account, subject, target []byte) {
	mt.ev.Events = append(mt.ev.Events, &snapshot.MsgTraceServiceImport{
		Type: snapshot.MsgTraceTypeServiceImport, Time: time.Now().UTC(), Account: acc.Name, From: string(subject), To: string(target),
	})
}

// ingressError records why the server refused the message.
func (mt *msgTrace) ingressError(text string) {
	mt.ev.Events[0].(*snapshot.MsgTraceIngress).Error = text
}

// mapped records a subject mapping.
func (mt *msgTrace) mapped(to []byte) {
	mt.ev.Events = append(mt.ev.Events, &snapshot.MsgTraceSubjectMapping{
		Type: snapshot.MsgTraceTypeSubjectMapping, Time: time.Now().UTC(), MappedTo: string(to),
	})
}

// egress records the delivery of the message to sub and reports whether
// it must be withheld (trace only). A subscription of an in-process
// service (not a user's connection) gets no event and, trace only, no
// message.
func (mt *msgTrace) egress(sub *subscription) (withhold bool) {
	dc := sub.client
	if !dc.userConn() {
		return mt.only
	}
	dc.mu.Lock()
	name := dc.name
	dc.mu.Unlock()
	mt.ev.Events = append(mt.ev.Events, &snapshot.MsgTraceEgress{
		Type: snapshot.MsgTraceTypeEgress, Time: time.Now().UTC(), Kind: snapshot.MsgTraceKindClient,
		CID: dc.cid, Name: name, Subscription: sub.subject, Queue: sub.queue,
	})
	return mt.only
}

// sendRoutes writes the traced message to each recorded link with the
// next Nats-Trace-Hop in its header ("1", "2", ... at the origin, "1.1"
// and so on after), recording an egress for each, then forgets them.
func (mt *msgTrace) sendRoutes(pc *pubCtx, acc *Account, subject, reply []byte, hdrLen int, payload []byte) {
	body := payload[hdrLen:]
	for i := range pc.routes {
		t := &pc.routes[i]
		mt.ev.Hops++
		hop := strconv.Itoa(mt.ev.Hops)
		if mt.hop != "" {
			hop = mt.hop + "." + hop
		}
		msg := withHeader(payload[:hdrLen], traceHopHeader, hop)
		n := len(msg)
		msg = append(msg, body...)
		dc := t.c
		dc.mu.Lock()
		name := dc.name
		dc.mu.Unlock()
		mt.ev.Events = append(mt.ev.Events, &snapshot.MsgTraceEgress{
			Type: snapshot.MsgTraceTypeEgress, Time: time.Now().UTC(), Kind: snapshot.MsgTraceKindRouter,
			CID: dc.cid, Name: name, Hop: hop,
		})
		pc.deliverRoute(dc, acc, subject, reply, t.queues, n, msg)
		t.c = nil
		clear(t.queues)
		t.queues = t.queues[:0]
	}
	pc.routes = pc.routes[:0]
}

// withHeader returns a copy of the header block hdr with the line
// "name: value" in place of any line of that name.
func withHeader(hdr []byte, name, value string) []byte {
	out := make([]byte, 0, len(hdr)+len(name)+len(value)+4)
	status, rest, _ := bytes.Cut(hdr, []byte("\r\n"))
	out = append(append(out, status...), "\r\n"...)
	for len(rest) > 0 {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		if len(line) == 0 {
			continue
		}
		if k, _, ok := bytes.Cut(line, []byte(":")); ok && strings.EqualFold(string(bytes.TrimSpace(k)), name) {
			continue
		}
		out = append(append(out, line...), "\r\n"...)
	}
	out = append(out, name+": "+value+"\r\n\r\n"...)
	return out
}

// sendTrace publishes mt's event to its destination in its account.
func (s *Server) sendTrace(mt *msgTrace) {
	mt.ev.Server = *s.serverInfo()
	b, err := json.Marshal(&mt.ev)
	if err != nil {
		return
	}
	_ = s.traceClient(mt.acc).Publish(mt.dest, "", nil, b)
}

// traceClients are the internal clients that publish trace events, one
// per account, made on first use.
type traceClients struct {
	mu sync.Mutex
	m  map[*Account]*InternalClient
}

func (s *Server) traceClient(acc *Account) *InternalClient {
	tc := &s.traceClients
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if ic := tc.m[acc]; ic != nil {
		return ic
	}
	c := &client{
		srv:     s,
		cid:     s.nextCID.Add(1),
		kind:    kindInternal,
		acc:     acc,
		subs:    make(map[string]*subscription),
		done:    make(chan struct{}),
		headers: true,
	}
	c.opts = connectOpts{Echo: true, Headers: true, Protocol: 1}
	ic := &InternalClient{c: c}
	if tc.m == nil {
		tc.m = make(map[*Account]*InternalClient)
	}
	tc.m[acc] = ic
	return ic
}
