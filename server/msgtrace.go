package server

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"natsd.dev/server/internal/snappy"
	"natsd.dev/server/snapshot"
	"natsd.dev/sublist"
)

// Message tracing (ADR-41, upstream 2.11+). A message whose header names
// a subject in Nats-Trace-Dest makes each server it crosses publish one
// snapshot.MsgTraceEvent to that subject, in the account the message was
// published in: how the message came in (a client, or a route with the
// Nats-Trace-Hop it was given), the mapping that changed its subject,
// the account boundaries it crossed, the streams that stored it and
// every connection it left through (client subscriptions, routes,
// gateways and leaf nodes, each with its kind and the peer's name: the
// remote server's, a gateway's its gateway name, as upstream's). With
// Nats-Trace-Only (1, true, on) the events are the same but no client
// gets the message and no stream stores it; routes still carry it, so
// that the peer reports its part.
//
// An account with a msg_trace block (AccountMsgTrace) also traces, to
// its destination, the messages published in it with a W3C traceparent
// header whose sampled flag is set, Sampling percent of them; a
// Nats-Trace-Dest header takes precedence. Routes carry such a message
// with its traceparent and Nats-Trace-Hop only, as upstream's: a peer
// traces it (unsampled again) when the account has a msg_trace there.
//
// As upstream, the publisher must be allowed to publish to the
// destination (else the message is refused with a publish violation for
// the destination, CVE-2026-33249), and a destination that is not a
// valid subject disables tracing with an error logged. A trace ends at an
// account boundary unless the boundary allows it (allow_trace on a
// stream import or a service export): a stream export ("se") or service
// import ("si") event, then the message is delivered untraced (or, trace
// only, not at all); a service's exporter gets it with Nats-Trace-Dest
// "trace disabled", as do routes past the boundary. Where the boundary
// allows it, the trace goes on: egress events name the other account,
// and a service's exporter gets the message with a Nats-Trace-Dest that
// leads back to the importer's destination (a pending response
// subject), as upstream's.
//
// The event is compressed when the traced message's Accept-Encoding
// asks for it: gzip, or snappy (also "s2"; the snappy framing format),
// with a Content-Encoding header saying which.
//
// A session attached with SessionOptions.Traced (a JetStream stream's
// capture) gets traced messages with the trace attached, trace only
// ones included (Msg.TraceOnly): the event is published once its handler
// has run and reported (Msg.TraceJetStream).
//
// Untraced messages pay one scan of their header block, when they have
// one, and nothing else.

const (
	traceDestHeader = "Nats-Trace-Dest"
	traceOnlyHeader = "Nats-Trace-Only"
	traceHopHeader  = "Nats-Trace-Hop"
	traceParent     = "traceparent"
	acceptEncoding  = "Accept-Encoding"
)

var (
	traceDestBytes   = []byte(traceDestHeader)
	traceParentBytes = []byte(traceParent)
)

// AccountMsgTrace is an account's msg_trace block: the messages
// published in the account with a sampled W3C traceparent header are
// traced to Dest, Sampling percent of them at random (1 to 100; 0 is
// 100).
type AccountMsgTrace struct {
	Dest     string
	Sampling int
}

// setAccountMsgTrace gives the accounts of o their msg_trace settings;
// it runs in New.
func (s *Server) setAccountMsgTrace(o *Options) error {
	traces, err := accountMsgTraces(o, func(name string) bool { return s.accounts[name] != nil })
	if err != nil {
		return err
	}
	setAccountMsgTraces(s.accounts, traces)
	return nil
}

// accountMsgTraces checks the msg_trace settings of o against the
// accounts that exist and returns them with their defaults filled in.
func accountMsgTraces(o *Options, exists func(string) bool) (map[string]*AccountMsgTrace, error) {
	traces := make(map[string]*AccountMsgTrace, len(o.AccountMsgTrace))
	for name, t := range o.AccountMsgTrace {
		if !exists(name) {
			return nil, fmt.Errorf("%w: msg_trace for undefined account %q", ErrBadOptions, name)
		}
		if !sublist.ValidLiteralSubject(t.Dest) {
			return nil, fmt.Errorf("%w: account %s: trace destination %q is not valid", ErrBadOptions, name, t.Dest)
		}
		if t.Sampling < 0 || t.Sampling > 100 {
			return nil, fmt.Errorf("%w: account %s: trace sampling %d is not in [1..100]", ErrBadOptions, name, t.Sampling)
		}
		if t.Sampling == 0 {
			t.Sampling = 100
		}
		traces[name] = &t
	}
	return traces, nil
}

// setAccountMsgTraces gives each of accs its setting of traces (none
// when traces has none), keeping the pointer of an unchanged one.
func setAccountMsgTraces(accs map[string]*Account, traces map[string]*AccountMsgTrace) {
	for name, acc := range accs {
		t, cur := traces[name], acc.trace.Load()
		if t == nil && cur == nil || t != nil && cur != nil && *t == *cur {
			continue
		}
		acc.trace.Store(t)
	}
}

// traceRequested reports whether a message published in a with a header
// block may be traced: it names a destination, or a has a msg_trace
// setting and the header a traceparent.
func (a *Account) traceRequested(hdrLen int, payload []byte) bool {
	if hdrLen <= 0 || hdrLen > len(payload) {
		return false
	}
	h := payload[:hdrLen]
	return bytes.Contains(h, traceDestBytes) || (a.trace.Load() != nil && bytes.Contains(h, traceParentBytes))
}

// sampled reports whether a traceparent value (version-traceid-parentid-
// flags) has its sampled flag set.
func sampled(tp string) bool {
	parts := strings.Split(tp, "-")
	if len(parts) < 4 || len(parts[3]) != 2 {
		return false
	}
	f, err := strconv.ParseUint(parts[3], 16, 8)
	return err == nil && f&1 == 1
}

// msgTrace is the trace of one message through this server, kept in the
// publisher's pubCtx while it is delivered.
type msgTrace struct {
	srv  *Server
	acc  *Account // where the event is published
	dest string
	only bool
	hop  string // the Nats-Trace-Hop the message came with ("" at the origin)
	enc  string // the event's Content-Encoding: "", "gzip" or "snappy"
	// holds counts who still adds events: the publisher, and each
	// Traced session that has the message queued. The last one out
	// publishes the event.
	holds atomic.Int32
	// mu guards ev once a session holds the trace (its handler runs on
	// another goroutine).
	mu sync.Mutex
	ev snapshot.MsgTraceEvent
}

// add appends one event.
func (mt *msgTrace) add(e any) {
	mt.mu.Lock()
	mt.ev.Events = append(mt.ev.Events, e)
	mt.mu.Unlock()
}

// release drops one hold on mt, publishing the event with the last.
func (mt *msgTrace) release() {
	if mt.holds.Add(-1) == 0 {
		mt.srv.sendTrace(mt)
	}
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
	if c.link != nil {
		kind = c.link.traceKind() // a route, gateway or leaf node
	}
	hdr := payload[:hdrLen]
	dest, ok := headerValue(hdr, traceDestHeader)
	if !ok {
		// The account's msg_trace, for a sampled traceparent.
		t := acc.trace.Load()
		if t == nil {
			return nil
		}
		if tp, ok := headerValue(hdr, traceParent); !ok || !sampled(tp) {
			return nil
		}
		// A message that a peer forwarded with a hop was sampled
		// there: as upstream's, it is traced here too (to this
		// server's msg_trace destination of the account).
		if _, hop := headerValue(hdr, traceHopHeader); !hop && t.Sampling < 100 && rand.IntN(100) >= t.Sampling {
			return nil
		}
		dest = t.Dest
	}
	if dest == traceDisabled {
		return nil
	}
	if !sublist.ValidLiteralSubject(dest) {
		c.srv.log.Error(c.logPrefix() + " - Destination " + strconv.Quote(dest) + " is not valid, won't be able to trace events")
		return nil
	}
	mt := &msgTrace{srv: c.srv, acc: acc, dest: dest}
	mt.holds.Store(1)
	if v, ok := headerValue(hdr, acceptEncoding); ok {
		mt.enc = traceEncoding(v)
	}
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

// TraceDest returns the Nats-Trace-Dest of a message's header block hdr
// when it names a destination the message would be traced to (a valid
// subject, not "trace disabled"). A module that takes messages from a
// peer with publish permissions (an accepted leaf node connection) checks
// that the peer may publish to it, as upstream does since
// GHSA-p3j5-5hrq-p75h: else the trace event would publish for it.
func TraceDest(hdr []byte) (string, bool) {
	if len(hdr) == 0 || !bytes.Contains(hdr, traceDestBytes) {
		return "", false
	}
	dest, ok := headerValue(hdr, traceDestHeader)
	if !ok || dest == traceDisabled || !sublist.ValidLiteralSubject(dest) {
		return "", false
	}
	return dest, true
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
	mt.add(&snapshot.MsgTraceStreamExport{
		Type: snapshot.MsgTraceTypeStreamExport, Time: time.Now().UTC(), Account: acc.Name, To: string(local),
	})
}

// serviceImport records the message crossing into the exporting account
// acc of a service import, from subject to target; the trace ends there.
func (mt *msgTrace) serviceImport(acc *Account, subject, target []byte) {
	mt.add(&snapshot.MsgTraceServiceImport{
		Type: snapshot.MsgTraceTypeServiceImport, Time: time.Now().UTC(), Account: acc.Name, From: string(subject), To: string(target),
	})
}

// ingressError records why the server refused the message.
func (mt *msgTrace) ingressError(text string) {
	mt.ev.Events[0].(*snapshot.MsgTraceIngress).Error = text
}

// mapped records a subject mapping.
func (mt *msgTrace) mapped(to []byte) {
	mt.add(&snapshot.MsgTraceSubjectMapping{
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
	name, acc := dc.name, dc.acc
	dc.mu.Unlock()
	e := &snapshot.MsgTraceEgress{
		Type: snapshot.MsgTraceTypeEgress, Time: time.Now().UTC(), Kind: snapshot.MsgTraceKindClient,
		CID: dc.cid, Name: name, Subscription: sub.subject, Queue: sub.queue,
	}
	if acc != mt.acc && acc != nil {
		// Past an account boundary that allows the trace.
		e.Account = acc.Name
	}
	mt.add(e)
	return mt.only
}

// sendRoutes writes the traced message to each recorded link with the
// next Nats-Trace-Hop in its header ("1", "2", ... at the origin, "1.1"
// and so on after), recording an egress for each, then forgets them.
func (mt *msgTrace) sendRoutes(pc *pubCtx, acc *Account, subject, reply []byte, hdrLen int, payload []byte) {
	body := payload[hdrLen:]
	for i := range pc.routes {
		t := &pc.routes[i]
		mt.mu.Lock()
		mt.ev.Hops++
		hop := strconv.Itoa(mt.ev.Hops)
		mt.mu.Unlock()
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
		mt.add(&snapshot.MsgTraceEgress{
			Type: snapshot.MsgTraceTypeEgress, Time: time.Now().UTC(), Kind: dc.link.traceKind(),
			CID: dc.cid, Name: name, Hop: hop,
		})
		pc.deliverRoute(dc, acc, subject, reply, t.queues, n, msg)
		t.c = nil
		clear(t.queues)
		t.queues = t.queues[:0]
	}
	pc.routes = pc.routes[:0]
}

// traceKind is the kind trace events give the link's connection, as
// upstream's: router, gateway or leaf.
func (l *Link) traceKind() int {
	switch l.kind {
	case ConnGateway:
		return snapshot.MsgTraceKindGateway
	case ConnLeaf:
		return snapshot.MsgTraceKindLeaf
	}
	return snapshot.MsgTraceKindRouter
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

// sendTrace publishes mt's event to its destination in its account,
// compressed as the message's Accept-Encoding asked.
func (s *Server) sendTrace(mt *msgTrace) {
	info := s.serverInfo()
	mt.mu.Lock()
	mt.ev.Server = *info
	b, err := json.Marshal(&mt.ev)
	mt.mu.Unlock()
	if err != nil {
		return
	}
	var hdr []byte
	switch mt.enc {
	case traceGzip:
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		if _, err := zw.Write(b); err != nil || zw.Close() != nil {
			return
		}
		b, hdr = buf.Bytes(), []byte("NATS/1.0\r\nContent-Encoding: gzip\r\n\r\n")
	case traceSnappy:
		b, hdr = snappy.AppendStream(nil, b), []byte("NATS/1.0\r\nContent-Encoding: snappy\r\n\r\n")
	}
	_ = s.traceClient(mt.acc).Publish(mt.dest, "", hdr, b)
}

// Content encodings of trace events.
const (
	traceGzip   = "gzip"
	traceSnappy = "snappy"
)

// traceEncoding returns the encoding an Accept-Encoding value asks of a
// trace event: snappy (named "snappy" or "s2"), else gzip, else none.
func traceEncoding(v string) string {
	v = strings.ToLower(v)
	switch {
	case strings.Contains(v, "snappy") || strings.Contains(v, "s2"):
		return traceSnappy
	case strings.Contains(v, "gzip"):
		return traceGzip
	}
	return ""
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
	ic := &InternalClient{c: s.internalClient(acc)}
	if tc.m == nil {
		tc.m = make(map[*Account]*InternalClient)
	}
	tc.m[acc] = ic
	return ic
}

// Traced reports whether m is traced (ADR-41). Only the handlers of a
// session attached with SessionOptions.Traced see traced messages as
// such.
func (m *Msg) Traced() bool { return m.mt != nil }

// TraceOnly reports whether m is traced without delivery
// (Nats-Trace-Only): the handler reports what it would do and does not
// do it.
func (m *Msg) TraceOnly() bool { return m.mt != nil && m.mt.only }

// TraceJetStream records, in m's trace, that the stream named stream
// stores m as subject (or, trace only, would); noInterest that an
// interest stream kept it for no consumer, errText why it did not store
// it. It does nothing for an untraced message. Call it from the handler.
func (m *Msg) TraceJetStream(stream, subject string, noInterest bool, errText string) {
	if m.mt == nil {
		return
	}
	m.mt.add(&snapshot.MsgTraceJetStream{
		Type: snapshot.MsgTraceTypeJetStream, Time: time.Now().UTC(),
		Stream: stream, Subject: subject, NoInterest: noInterest, Error: errText,
	})
}
