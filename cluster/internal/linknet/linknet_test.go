package linknet

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"testing"
	"testing/synctest"
	"time"
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
