package servertest

import (
	"net"
	"sync"
	"testing"

	"natsd.dev/protocol"
	"natsd.dev/server"
)

// FakeLinkReason is the fake link kind's own close reason.
const FakeLinkReason = server.LinkKindReason

// ConnectFake links a and b with a fake link kind of the given kind
// (ConnRoute, ConnGateway or ConnLeaf): one in-memory link (net.Pipe)
// speaking the route protocol (RS+/RS-, RMSG/HMSG), which announces the
// interest DefaultForwardPolicy lets through and forwards as the policy
// says, with no handshake, gossip or loop detection. It returns once
// both ends exist and replayed their interest; the link closes with the
// test or when either server shuts down. It is the reference
// implementation RunLinkConformance is checked against.
func ConnectFake(tb testing.TB, kind server.ConnKind, a, b *server.Server) {
	tb.Helper()
	na, nb := net.Pipe()
	ea := newFakeEnd(tb, kind, a, na)
	eb := newFakeEnd(tb, kind, b, nb)
	for _, e := range []*fakeEnd{ea, eb} {
		go e.readLoop()
		e.listen()
	}
	tb.Cleanup(func() {
		ea.link.Close(server.LinkClientClosed)
		eb.link.Close(server.LinkClientClosed)
		<-ea.link.Done()
		<-eb.link.Done()
		<-ea.readDone
		<-eb.readDone
	})
}

type fakeKey struct{ account, subject, queue string }

// fakeEnd is one server's end of a fake link.
type fakeEnd struct {
	s        *server.Server
	kind     server.ConnKind
	nc       net.Conn
	link     *server.Link
	parser   protocol.Parser
	readDone chan struct{}

	mu       sync.Mutex
	counts   map[fakeKey]int32
	unlisten func()
}

func newFakeEnd(tb testing.TB, kind server.ConnKind, s *server.Server, nc net.Conn) *fakeEnd {
	tb.Helper()
	e := &fakeEnd{s: s, kind: kind, nc: nc, counts: make(map[fakeKey]int32), readDone: make(chan struct{})}
	e.parser.Role = protocol.RoleRoute
	e.parser.MaxPayload = -1
	l, err := s.NewLink(nc, server.LinkConfig{
		Kind:    kind,
		Reasons: []string{"Fake Link Reason"},
		OnClose: e.onClose,
	})
	if err != nil {
		tb.Fatal(err)
	}
	e.link = l
	return e
}

func (e *fakeEnd) listen() {
	remove := e.s.AddInterestListener(server.InterestFunc(e.interestChanged))
	e.mu.Lock()
	e.unlisten = remove
	e.mu.Unlock()
	if e.link.Closed() {
		remove()
	}
}

func (e *fakeEnd) onClose(server.LinkCloseReason) {
	e.nc.Close()
	e.mu.Lock()
	remove := e.unlisten
	e.mu.Unlock()
	if remove != nil {
		remove()
	}
}

// interestChanged announces local interest, and a link's when messages
// may flow from this kind to that link's kind, never back to its link.
func (e *fakeEnd) interestChanged(ev server.InterestEvent) {
	if ev.Link == e.link {
		return
	}
	if ev.Origin.IsLink() && !server.DefaultForwardPolicy(ev.Origin).Allows(e.kind) {
		return
	}
	k := fakeKey{ev.Account, ev.Subject, ev.Queue}
	e.mu.Lock()
	defer e.mu.Unlock()
	n := e.counts[k]
	if ev.Added {
		n++
	} else {
		n--
	}
	if n <= 0 {
		delete(e.counts, k)
		n = 0
	} else {
		e.counts[k] = n
	}
	acc, subj, q := []byte(ev.Account), []byte(ev.Subject), []byte(ev.Queue)
	var p []byte
	switch {
	case ev.Queue == "" && ev.Added && n == 1:
		p = protocol.AppendRSub(nil, acc, subj, nil, 0)
	case ev.Queue == "" && !ev.Added && n == 0:
		p = protocol.AppendRUnsub(nil, acc, subj, nil)
	case ev.Queue != "" && n > 0:
		p = protocol.AppendRSub(nil, acc, subj, q, n)
	case ev.Queue != "":
		p = protocol.AppendRUnsub(nil, acc, subj, q)
	}
	if p != nil {
		_ = e.link.Write(p)
	}
}

func (e *fakeEnd) readLoop() {
	defer close(e.readDone)
	buf := make([]byte, 32<<10)
	for {
		n, err := e.nc.Read(buf)
		if n > 0 {
			perr := e.parser.Parse(buf[:n], e)
			e.link.EndBatch()
			if perr != nil {
				e.link.Close(server.LinkParseError)
				return
			}
		}
		if err != nil {
			e.link.Close(server.LinkClientClosed)
			return
		}
	}
}

// HandleFrame implements protocol.Handler on the reader.
func (e *fakeEnd) HandleFrame(f *protocol.Frame) error {
	switch f.Op {
	case protocol.OpRSub:
		_ = e.link.AddRemoteSub(f.Account, f.Subject, f.Queue, f.Weight)
	case protocol.OpRUnsub:
		e.link.RemoveRemoteSub(f.Account, f.Subject, f.Queue)
	case protocol.OpRMsg:
		_ = e.link.Deliver(f.Account, f.Subject, f.Reply, f.Queues, -1, f.Payload)
	case protocol.OpHMsg:
		_ = e.link.Deliver(f.Account, f.Subject, f.Reply, f.Queues, f.HeaderLen, f.Payload)
	}
	return nil
}
