package linknet

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// pipeListener is a net.Listener whose connections are net.Pipe ends
// handed in by Dial; Fail makes Accept return err once.
type pipeListener struct {
	conns chan net.Conn
	errs  chan error
	once  sync.Once
	done  chan struct{}
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), errs: make(chan error, 1), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case err := <-l.errs:
		return nil, err
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error   { l.once.Do(func() { close(l.done) }); return nil }
func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }

// DialContext makes it a Dialer whose far ends the listener accepts.
func (l *pipeListener) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	near, far := net.Pipe()
	select {
	case l.conns <- far:
		return near, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type tempErr struct{}

func (tempErr) Error() string   { return "too many open files" }
func (tempErr) Timeout() bool   { return false }
func (tempErr) Temporary() bool { return true }

func TestServeDialShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := NewGroup("test", nil)
		ln := newPipeListener()
		handled := make(chan net.Conn, 1)
		served := make(chan error, 1)
		g.Go(func() { served <- g.Serve(ln, func(nc net.Conn) { handled <- nc }) })
		// A temporary accept error backs off and serving goes on.
		ln.errs <- tempErr{}
		nc, err := g.Dial(ln, "127.0.0.1:1")
		if err != nil {
			t.Fatal(err)
		}
		far := <-handled
		go func() { far.Write([]byte("hi")) }()
		buf := make([]byte, 2)
		if _, err := nc.Read(buf); err != nil || string(buf) != "hi" {
			t.Fatalf("read %q, %v", buf, err)
		}
		if err := g.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := <-served; !errors.Is(err, ErrClosed) {
			t.Fatalf("Serve returned %v, want ErrClosed", err)
		}
		if g.Go(func() {}) {
			t.Error("Go ran a goroutine after Shutdown")
		}
		if _, err := g.Dial(ln, "x"); !errors.Is(err, ErrClosed) {
			t.Errorf("Dial after Shutdown: %v", err)
		}
		if err := g.Serve(newPipeListener(), nil); !errors.Is(err, ErrClosed) {
			t.Errorf("Serve after Shutdown: %v", err)
		}
	})
}

func TestSleepEndsWithShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := NewGroup("test", nil)
		start := time.Now()
		if !g.Sleep(time.Second) || time.Since(start) != time.Second {
			t.Fatalf("Sleep(1s) took %v", time.Since(start))
		}
		woke := make(chan bool)
		g.Go(func() { woke <- g.Sleep(time.Hour) })
		synctest.Wait()
		g.Close()
		if <-woke {
			t.Error("Sleep reported a full wait after Close")
		}
		if err := g.Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}

func TestShutdownDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := NewGroup("test", nil)
		release := make(chan struct{})
		g.Go(func() { <-release }) // ignores the group's context
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if err := g.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Shutdown returned %v, want the deadline", err)
		}
		close(release)
		if err := g.Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDialFailure(t *testing.T) {
	g := NewGroup("test", nil)
	defer g.Close()
	want := errors.New("refused")
	if _, err := g.Dial(dialFunc(func(context.Context, string, string) (net.Conn, error) { return nil, want }), "x"); !errors.Is(err, want) {
		t.Fatalf("Dial: %v", err)
	}
}

type dialFunc func(ctx context.Context, network, address string) (net.Conn, error)

func (f dialFunc) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return f(ctx, network, address)
}

// *net.Dialer and *tls.Dialer are Dialers.
var (
	_ Dialer = (*net.Dialer)(nil)
	_ Dialer = (*tls.Dialer)(nil)
)

// TestTrackClosedByClose: a connection still in its handshake is closed by
// Close, and one tracked after Close is refused and closed at once.
func TestTrackClosedByClose(t *testing.T) {
	g := NewGroup("test", nil)
	a, peerA := net.Pipe()
	defer peerA.Close()
	b, peerB := net.Pipe()
	defer peerB.Close()
	gone, peerGone := net.Pipe()
	defer peerGone.Close()
	if !g.Track(a) || !g.Track(gone) {
		t.Fatal("Track refused before Close")
	}
	g.Untrack(gone) // its link took it over: Close must leave it open
	g.Close()
	if _, err := a.Write([]byte("x")); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("tracked connection not closed by Close: %v", err)
	}
	go peerGone.Read(make([]byte, 1))
	if _, err := gone.Write([]byte("x")); err != nil {
		t.Fatalf("untracked connection closed by Close: %v", err)
	}
	if g.Track(b) {
		t.Fatal("Track accepted after Close")
	}
	if _, err := b.Write([]byte("x")); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("connection tracked after Close left open: %v", err)
	}
}

// TestReadLoop: every read is parsed, a read failure closes the link as
// the peer's doing and a parse failure goes to the callback.
func TestReadLoop(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	for _, failParse := range []bool{false, true} {
		near, far := net.Pipe()
		l, err := s.NewLink(near, server.LinkConfig{Kind: server.ConnRoute})
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			far.Write([]byte("PING\r\n"))
			far.Close()
		}()
		var got bytes.Buffer
		var parseErr error
		boom := errors.New("boom")
		parse := func(b []byte) error {
			got.Write(b)
			if failParse {
				return boom
			}
			return nil
		}
		ReadLoop(near, l, parse, func(err error) { parseErr = err })
		if got.String() != "PING\r\n" {
			t.Fatalf("parsed %q", got.String())
		}
		if failParse {
			if parseErr != boom || l.Closed() {
				t.Fatalf("parse failure: callback got %v, link closed %v", parseErr, l.Closed())
			}
			l.Close(server.LinkClientClosed)
		} else if parseErr != nil || !l.Closed() {
			t.Fatalf("end of input: callback got %v, link closed %v", parseErr, l.Closed())
		}
	}
}
