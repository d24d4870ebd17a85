package websocket_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"time"

	cws "github.com/coder/websocket"
	"github.com/klauspost/compress/s2"

	"natsd.dev/websocket"
)

// A server echoing the byte stream of every client, and a browser-like
// client talking to it.
func ExampleNewListener() {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	l, err := websocket.NewListener(inner, websocket.Config{Compression: true})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	served := make(chan struct{})
	go func() {
		defer close(served)
		nc, err := l.Accept() // the handshake is done
		if err != nil {
			return
		}
		defer nc.Close()
		io.Copy(nc, nc) // one binary message per read
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := cws.Dial(ctx, "ws://"+l.Addr().String(), nil)
	if err != nil {
		log.Fatal(err)
	}
	c.Write(ctx, cws.MessageText, []byte("PING\r\n"))
	_, p, err := c.Read(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", p)
	c.Close(cws.StatusNormalClosure, "")
	<-served
	// Output: "PING\r\n"
}

// Reading an authentication cookie and rejecting a request during the
// handshake.
func ExampleConfig_checkRequest() {
	cfg := websocket.Config{
		AllowedOrigins: []string{"https://app.example.com"},
		CheckRequest: func(r *http.Request) error {
			if _, err := r.Cookie("jwt"); err != nil {
				return &websocket.HandshakeError{Status: http.StatusUnauthorized, Reason: "no jwt cookie"}
			}
			return nil
		},
		OnHandshakeError: func(err error) { log.Print(err) },
	}
	_ = cfg
	// After Accept, the cookie is at hand again:
	//
	//	ck, err := nc.(*websocket.Conn).Request().Cookie("jwt")
}

// Closing with a status that tells the client why, as a server does for an
// authorization violation.
func ExampleConn_CloseWithStatus() {
	var c *websocket.Conn // from Listener.Accept
	if c != nil {
		c.CloseWithStatus(websocket.StatusPolicyViolation, "Authorization Violation")
	}
	fmt.Println(websocket.StatusPolicyViolation)
	// Output: policy violation
}

// Capping compressed messages at a protocol's largest message, and
// counting what a connection that has not authenticated holds.
func ExampleConn_SetMaxMessageSize() {
	var c *websocket.Conn // from Listener.Accept
	if c != nil {
		// A message may inflate to 1 MiB and carry 8 MiB compressed;
		// past that Read fails with a *CloseError of code 1009.
		c.SetMaxMessageSize(1 << 20)
		// From any goroutine, for a memory budget.
		_ = c.PendingBytes()
	}
	fmt.Println(websocket.StatusMessageTooBig, websocket.CompressedSizeFactor)
	// Output: message too big 8
}

// A leaf node's end of a connection to a hub's websocket port: the
// /leafnode path, compression and no masking asked for, the hub agreeing
// to both.
func ExampleDial() {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	l, err := websocket.NewListener(inner, websocket.Config{
		Compression:    true,
		AllowNoMasking: func(r *http.Request) bool { return r.URL.Path == "/leafnode" },
	})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	served := make(chan struct{})
	go func() {
		defer close(served)
		nc, err := l.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		io.Copy(nc, nc)
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := websocket.Dial(ctx, "ws://"+l.Addr().String()+"/leafnode", websocket.DialConfig{
		Compression: true,
		NoMasking:   true,
	})
	if err != nil {
		log.Fatal(err)
	}
	c.Write([]byte("PING\r\n"))
	buf := make([]byte, 6)
	io.ReadFull(c, buf)
	fmt.Printf("%q compressed=%v masked=%v\n", buf, c.Compressed(), c.Masked())
	c.Close()
	<-served
	// Output: "PING\r\n" compressed=true masked=false
}

// Both ends switch to an S2 stream beneath the WebSocket framing after a
// first message, as NATS leaf nodes do once they agreed on compression.
func ExampleConn_WrapTransport() {
	s2Layer := func(r io.Reader, nc net.Conn) io.ReadWriter {
		w := s2.NewWriter(nc, s2.WriterConcurrency(1))
		return struct {
			io.Reader
			io.Writer
		}{s2.NewReader(r), flushWriter{w}}
	}
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	l, err := websocket.NewListener(inner, websocket.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	served := make(chan struct{})
	go func() {
		defer close(served)
		nc, err := l.Accept()
		if err != nil {
			return
		}
		c := nc.(*websocket.Conn)
		defer c.Close()
		first := make([]byte, 7)
		io.ReadFull(c, first) // "SWITCH\n": what follows is S2
		c.WrapTransport(s2Layer)
		io.Copy(c, c)
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := websocket.Dial(ctx, "ws://"+l.Addr().String(), websocket.DialConfig{})
	if err != nil {
		log.Fatal(err)
	}
	c.Write([]byte("SWITCH\n"))
	c.WrapTransport(s2Layer)
	c.Write([]byte("PING\r\n"))
	buf := make([]byte, 6)
	io.ReadFull(c, buf)
	fmt.Printf("%q\n", buf)
	c.Close()
	<-served
	// Output: "PING\r\n"
}

// flushWriter flushes an s2.Writer after every write.
type flushWriter struct{ w *s2.Writer }

func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err == nil {
		err = f.w.Flush()
	}
	return n, err
}
