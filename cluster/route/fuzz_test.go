package route

import (
	"context"
	"io"
	"net"
	"testing"

	"natsd.dev/server"
)

// FuzzRouteInput feeds arbitrary bytes to a route connection as if a peer
// sent them: the protocol parser, then the route's handling of every
// operation (RS+/RS-, RMSG/HMSG delivery, CONNECT, INFO, PING). The
// cluster is closed, so no INFO can make it dial anything. Oracle: no
// panic, and once the route closes no remote interest is left in the
// account's sublist.
func FuzzRouteInput(f *testing.F) {
	for _, seed := range []string{
		"RS+ $G foo\r\nRS+ $G bar q 3\r\nRMSG $G foo 5\r\nhello\r\nRS- $G foo\r\n",
		"RMSG $G foo + reply q1 q2 2\r\nhi\r\nHMSG $G bar | q 12 14\r\nNATS/1.0\r\n\r\nhi\r\n",
		"CONNECT {\"name\":\"X\",\"cluster\":\"c\"}\r\nINFO {\"server_id\":\"X\",\"cluster\":\"c\"}\r\nPING\r\n",
		"RS+ $G foo.* q 0\r\nRS+ $G foo.* q -1\r\nRS+ nope x\r\nRS- $G nothing\r\n",
		"-ERR 'bye'\r\n",
	} {
		f.Add([]byte(seed))
	}
	s, err := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort})
	if err != nil {
		f.Fatal(err)
	}
	if err := s.Start(); err != nil {
		f.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	c, err := Start(s, &Options{Name: "c", Port: -1, PoolSize: -1})
	if err != nil {
		f.Fatal(err)
	}
	c.Close() // closed: no dialing, no registration
	f.Fuzz(func(t *testing.T, data []byte) {
		near, far := net.Pipe()
		go io.Copy(io.Discard, far)
		defer far.Close()
		r := &route{cl: c, nc: near, compression: CompressionOff}
		link, err := s.NewLink(near, r.linkConfig())
		if err != nil {
			t.Skip("server stopped")
		}
		r.link, r.prefix = link, link.LogPrefix()
		r.initParser()
		_ = r.parser.Parse(data, r)
		link.EndBatch()
		link.Close(server.LinkClientClosed)
		if n := s.GlobalAccount().NumSubscriptions(); n != 0 {
			t.Fatalf("%d remote subscriptions left after the route closed", n)
		}
	})
}
