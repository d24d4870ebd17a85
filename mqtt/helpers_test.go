package mqtt_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"natsd.dev/jetstream"
	"natsd.dev/mqtt"
	"natsd.dev/mqtt/internal/packet"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// broker is a server with JetStream and MQTT for a test.
type broker struct {
	s   *server.Server
	js  *jetstream.JetStream
	m   *mqtt.MQTT
	dir string
	o   mqtt.Options
}

// start starts a server with JetStream in dir (a new temporary directory
// when "") and MQTT on a free port.
func start(tb testing.TB, so server.Options, o mqtt.Options, dir string) *broker {
	tb.Helper()
	if dir == "" {
		dir = tb.TempDir()
	}
	b := &broker{dir: dir, o: o}
	b.s = servertest.Start(tb, so)
	js, err := jetstream.Start(b.s, jetstream.Options{StoreDir: dir})
	if err != nil {
		tb.Fatal(err)
	}
	b.js = js
	tb.Cleanup(func() { _ = js.Shutdown(context.Background()) })
	o.Host, o.Port = "127.0.0.1", -1
	m, err := mqtt.Start(b.s, o)
	if err != nil {
		tb.Fatal(err)
	}
	b.m = m
	tb.Cleanup(func() { _ = m.Shutdown(context.Background()) })
	return b
}

// stop shuts the broker down (as a restart does).
func (b *broker) stop(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.m.Shutdown(ctx); err != nil {
		tb.Fatal(err)
	}
	if err := b.js.Shutdown(ctx); err != nil {
		tb.Fatal(err)
	}
	if err := b.s.Shutdown(ctx); err != nil {
		tb.Fatal(err)
	}
}

func (b *broker) url() string { return "tcp://" + b.m.Addr().String() }

var clientSeq atomic.Int64

// client connects a paho 3.1.1 client; opts may change its options.
func (b *broker) client(tb testing.TB, id string, opts ...func(*paho.ClientOptions)) paho.Client {
	tb.Helper()
	if id == "" {
		id = fmt.Sprintf("client-%d", clientSeq.Add(1))
	}
	o := paho.NewClientOptions().AddBroker(b.url()).SetClientID(id).
		SetAutoReconnect(false).SetConnectRetry(false).SetProtocolVersion(4).
		SetConnectTimeout(5 * time.Second).SetWriteTimeout(5 * time.Second).SetOrderMatters(true)
	for _, f := range opts {
		f(o)
	}
	c := paho.NewClient(o)
	if t := c.Connect(); !t.WaitTimeout(10*time.Second) || t.Error() != nil {
		tb.Fatalf("connect %s: %v", id, t.Error())
	}
	tb.Cleanup(func() { c.Disconnect(0) })
	return c
}

// wait fails the test when a paho token does not complete without error.
func wait(tb testing.TB, t paho.Token) {
	tb.Helper()
	if !t.WaitTimeout(10 * time.Second) {
		tb.Fatal("paho: timed out")
	}
	if err := t.Error(); err != nil {
		tb.Fatal(err)
	}
}

// received collects the messages of a paho subscription.
type received chan paho.Message

func (r received) handler(_ paho.Client, m paho.Message) { r <- m }

// next returns the next message, failing after 10 s.
func (r received) next(tb testing.TB) paho.Message {
	tb.Helper()
	select {
	case m := <-r:
		return m
	case <-time.After(10 * time.Second):
		tb.Fatal("no message within 10s")
		return nil
	}
}

// raw is a bare MQTT connection for exact bytes.
type raw struct {
	tb testing.TB
	nc net.Conn
	r  *packet.Reader
	v  byte
}

func (b *broker) raw(tb testing.TB) *raw {
	tb.Helper()
	nc, err := net.Dial("tcp", b.m.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { nc.Close() })
	return &raw{tb: tb, nc: nc, r: packet.NewReader(bufio.NewReader(nc), 4096), v: packet.V311}
}

func (r *raw) write(b []byte) {
	r.tb.Helper()
	r.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.nc.Write(b); err != nil {
		r.tb.Fatal(err)
	}
}

// next reads one packet within 10 s.
func (r *raw) next() (typ, flags byte, body []byte) {
	r.tb.Helper()
	r.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	typ, flags, body, err := r.r.Next()
	if err != nil {
		r.tb.Fatalf("read: %v", err)
	}
	return typ, flags, append([]byte(nil), body...)
}

// connect sends CONNECT and returns the CONNACK's code.
func (r *raw) connect(c *packet.Connect) (present bool, code byte) {
	r.tb.Helper()
	if c.Version == 0 {
		c.Version = r.v
	}
	if c.ProtoName == "" {
		c.ProtoName = "MQTT"
	}
	r.v = c.Version
	r.write(packet.AppendConnect(nil, c))
	typ, _, body := r.next()
	if typ != packet.CONNACK {
		r.tb.Fatalf("got packet type %d, want CONNACK", typ)
	}
	present, code, _, err := packet.DecodeConnack(r.v, body)
	if err != nil {
		r.tb.Fatal(err)
	}
	return present, code
}

// closed waits until the server closes the connection.
func (r *raw) closed() {
	r.tb.Helper()
	r.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 512)
	for {
		_, err := r.nc.Read(buf)
		if err == io.EOF || (err != nil && !isTimeout(err)) {
			return
		}
		if err != nil {
			r.tb.Fatal("connection not closed within 10s")
		}
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
