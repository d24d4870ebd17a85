package websocket_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	cws "github.com/coder/websocket"

	"natsd.dev/websocket"
)

// Tests in this file use a real client library (github.com/coder/websocket).

func TestEcho(t *testing.T) {
	sizes := []int{1, 125, 126, 4096, 65535, 65536, 1 << 20}
	payload := bytes.Repeat([]byte("PUB foo.bar 11\r\nhello world\r\n"), (1<<20)/29+1)
	for _, tc := range []struct {
		name       string
		server     bool // Config.Compression
		client     cws.CompressionMode
		compressed bool
	}{
		{"plain", false, cws.CompressionDisabled, false},
		{"server-only", true, cws.CompressionDisabled, false},
		{"client-only", false, cws.CompressionNoContextTakeover, false},
		{"deflate", true, cws.CompressionNoContextTakeover, true},
		{"deflate-client-asks-takeover", true, cws.CompressionContextTakeover, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			accepted := make(chan *websocket.Conn, 1)
			s := startServer(t, websocket.Config{Compression: tc.server}, func(c *websocket.Conn) {
				accepted <- c
				echo(nil)(c)
			})
			c, resp := dial(t, s.url, &cws.DialOptions{CompressionMode: tc.client, CompressionThreshold: 1})
			sc := <-accepted
			if got := resp.Header.Get("Sec-WebSocket-Extensions"); (got != "") != tc.compressed {
				t.Fatalf("extensions %q, compressed %v", got, tc.compressed)
			}
			if sc.Compressed() != tc.compressed {
				t.Fatalf("Compressed() = %v", sc.Compressed())
			}
			ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
			defer cancel()
			for _, n := range sizes {
				for _, typ := range []cws.MessageType{cws.MessageBinary, cws.MessageText} {
					if n > 1<<16 && typ == cws.MessageText {
						continue // keep the suite fast; large text adds nothing
					}
					if err := c.Write(ctx, typ, payload[:n]); err != nil {
						t.Fatal(err)
					}
					if got := readAtLeast(t, c, n); !bytes.Equal(got, payload[:n]) {
						t.Fatalf("size %d type %v: echo differs", n, typ)
					}
				}
			}
			if err := c.Close(cws.StatusNormalClosure, ""); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestFragmentationWithPing(t *testing.T) {
	s := startServer(t, websocket.Config{}, echo(nil))
	c, _ := dial(t, s.url, nil)
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()

	parts := []string{"héllo ", "wörld, ", strings.Repeat("x", 70000)}
	want := strings.Join(parts, "")
	got := make(chan []byte, 1)
	go func() {
		// Ping needs a concurrent reader to see the pong.
		var b []byte
		for len(b) < len(want) {
			_, p, err := c.Read(ctx)
			if err != nil {
				break
			}
			b = append(b, p...)
		}
		got <- b
	}()
	w, err := c.Writer(ctx, cws.MessageText)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range parts {
		if _, err := io.WriteString(w, p); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			// A ping between two fragments of a message.
			if err := c.Ping(ctx); err != nil {
				t.Fatalf("ping: %v", err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if b := <-got; string(b) != want {
		t.Fatalf("echo %d bytes, want %d", len(b), len(want))
	}
}

func TestClientCloses(t *testing.T) {
	done := make(chan error, 1)
	s := startServer(t, websocket.Config{}, echo(done))
	c, _ := dial(t, s.url, nil)
	// Close waits for the server to echo the close frame.
	if err := c.Close(cws.StatusGoingAway, "bye"); err != nil {
		t.Fatalf("close handshake: %v", err)
	}
	if err := <-done; err != io.EOF {
		t.Fatalf("server Read: %v, want io.EOF", err)
	}
}

func TestServerClosesWithStatus(t *testing.T) {
	s := startServer(t, websocket.Config{}, func(c *websocket.Conn) {
		c.CloseWithStatus(websocket.StatusPolicyViolation, "Authorization Violation")
		if _, err := c.Write([]byte("late")); err == nil {
			t.Error("Write after Close succeeded")
		}
	})
	c, _ := dial(t, s.url, nil)
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	_, _, err := c.Read(ctx)
	var ce cws.CloseError
	if !errors.As(err, &ce) || ce.Code != cws.StatusPolicyViolation || ce.Reason != "Authorization Violation" {
		t.Fatalf("client Read: %v", err)
	}
}

func TestCookiesAndCheckRequest(t *testing.T) {
	type result struct {
		jwt  string
		path string
	}
	results := make(chan result, 1)
	cfg := websocket.Config{
		CheckRequest: func(r *http.Request) error {
			if c, err := r.Cookie("token"); err == nil && c.Value == "bad" {
				return &websocket.HandshakeError{Status: http.StatusUnauthorized, Reason: "bad token"}
			}
			return nil
		},
	}
	s := startServer(t, cfg, func(c *websocket.Conn) {
		var r result
		if ck, err := c.Request().Cookie("jwt"); err == nil {
			r.jwt = ck.Value
		}
		r.path = c.Request().URL.Path
		results <- r
	})
	h := http.Header{"Cookie": {"jwt=eyJhbGciOi; token=good"}}
	dial(t, s.url+"/mqtt", &cws.DialOptions{HTTPHeader: h})
	if r := <-results; r.jwt != "eyJhbGciOi" || r.path != "/mqtt" {
		t.Fatalf("got %+v", r)
	}

	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	_, resp, err := cws.Dial(ctx, s.url, &cws.DialOptions{HTTPHeader: http.Header{"Cookie": {"token=bad"}}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("rejected dial: %v %v", resp, err)
	}
}

func TestSubprotocol(t *testing.T) {
	got := make(chan string, 1)
	handler := func(c *websocket.Conn) { got <- c.Subprotocol() }

	// As upstream for NATS: the header is ignored and not answered.
	s := startServer(t, websocket.Config{}, handler)
	c, _ := dial(t, s.url, &cws.DialOptions{Subprotocols: []string{"nats"}})
	if p := <-got; p != "" || c.Subprotocol() != "" {
		t.Fatalf("subprotocol %q/%q, want none", p, c.Subprotocol())
	}

	s = startServer(t, websocket.Config{Subprotocols: []string{"mqtt"}}, handler)
	c, _ = dial(t, s.url, &cws.DialOptions{Subprotocols: []string{"nats", "mqtt"}})
	if p := <-got; p != "mqtt" || c.Subprotocol() != "mqtt" {
		t.Fatalf("subprotocol %q/%q, want mqtt", p, c.Subprotocol())
	}
}

func TestTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tl := tls.NewListener(inner, &tls.Config{Certificates: []tls.Certificate{cert}})
	isTLS := make(chan bool, 1)
	s := serve(t, tl, "wss", websocket.Config{}, func(c *websocket.Conn) {
		isTLS <- c.Request().TLS != nil
		echo(nil)(c)
	})
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	defer tr.CloseIdleConnections()
	c, _ := dial(t, s.url, &cws.DialOptions{HTTPClient: &http.Client{Transport: tr}})
	if !<-isTLS {
		t.Fatal("Request().TLS is nil over TLS")
	}
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	if err := c.Write(ctx, cws.MessageBinary, []byte("PING\r\n")); err != nil {
		t.Fatal(err)
	}
	if got := readAtLeast(t, c, 6); string(got) != "PING\r\n" {
		t.Fatalf("got %q", got)
	}
	c.Close(cws.StatusNormalClosure, "")
}

// selfSigned returns a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "natsd test"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k, Leaf: leaf}, pool
}
