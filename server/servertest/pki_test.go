package servertest_test

import (
	"crypto/tls"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

func TestPKIServesTLSWithClientCertificates(t *testing.T) {
	p := servertest.NewPKI(t)
	s := servertest.Start(t, server.Options{TLSConfig: p.ServerConfig(true)})
	nc := servertest.Connect(t, s, nats.Secure(p.ClientConfig(p.Client("alice", "alice@example.com"))))
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := nats.Connect(s.ClientURL(), nats.NoReconnect(), nats.Secure(p.ClientConfig())); err == nil {
		t.Fatal("connected without a client certificate")
	}
}

func TestPKIMutualAndFiles(t *testing.T) {
	p := servertest.NewPKI(t)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", p.MutualConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	c, err := tls.Dial("tcp", ln.Addr().String(), p.MutualConfig())
	if err != nil {
		t.Fatalf("mutual handshake: %v", err)
	}
	c.Close()

	f := p.Files()
	for _, path := range []string{f.CA, f.Cert, f.Key} {
		b, err := os.ReadFile(path)
		if err != nil || !strings.HasPrefix(string(b), "-----BEGIN ") {
			t.Fatalf("%s: %q, %v", path, b, err)
		}
	}
	if _, err := tls.LoadX509KeyPair(f.Cert, f.Key); err != nil {
		t.Fatal(err)
	}
	if !p.Server.Leaf.NotAfter.After(time.Now()) {
		t.Fatal("server certificate expired")
	}
}
