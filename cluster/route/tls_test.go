package route_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"natsd.dev/cluster/route"
)

// testCA issues route certificates valid for 127.0.0.1, for both server
// and client authentication.
type testCA struct {
	t    testing.TB
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newCA(t testing.TB) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "route CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{t: t, cert: cert, key: key, pool: pool}
}

// config returns a route TLS config: a certificate of this CA, verifying
// peers in both directions against trusted.
func (ca *testCA) config(trusted *x509.CertPool) *tls.Config {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		ca.t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "route"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		ca.t.Fatal(err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		RootCAs:      trusted,
		ClientCAs:    trusted,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	}
}

func TestRouteTLS(t *testing.T) {
	ca := newCA(t)
	a := startNode(t, "A", route.Options{Name: "test", TLSConfig: ca.config(ca.pool)})
	b := startNode(t, "B", route.Options{Name: "test", TLSConfig: ca.config(ca.pool), Routes: []*url.URL{a.routeURL()}})
	c := startNode(t, "C", route.Options{Name: "test", TLSConfig: ca.config(ca.pool), Routes: []*url.URL{a.routeURL()}})
	waitRoutes(t, 2, a, b, c)

	sub := c.connect(t)
	s, _ := sub.SubscribeSync("secure")
	sub.Flush()
	waitInterest(t, b, 1)
	pub := b.connect(t)
	pub.Publish("secure", []byte("over tls"))
	if m, err := s.NextMsg(2 * time.Second); err != nil || string(m.Data) != "over tls" {
		t.Fatalf("msg %v err %v", m, err)
	}

	// A server whose certificate another CA signed is refused, and it
	// refuses the seed's certificate too: verification goes both ways.
	other := newCA(t)
	d := startNode(t, "D", route.Options{Name: "test", TLSConfig: other.config(other.pool), Routes: []*url.URL{a.routeURL()}})
	waitFor(t, 5*time.Second, "handshake failure on both sides", func() bool {
		return strings.Contains(d.log.String(), "TLS route handshake error") &&
			strings.Contains(a.log.String(), "TLS route handshake error")
	})
	if d.c.NumRoutes() != 0 || a.c.NumRoutes() != 2 {
		t.Fatalf("routes D %d A %d", d.c.NumRoutes(), a.c.NumRoutes())
	}
	// A plain-text peer is refused as well.
	e := startNode(t, "E", route.Options{Name: "test", Routes: []*url.URL{a.routeURL()}})
	waitFor(t, 5*time.Second, "A to drop E's plain-text route", func() bool {
		return strings.Contains(e.log.String(), "Route handshake error")
	})
	if e.c.NumRoutes() != 0 {
		t.Fatal("plain route accepted by a TLS cluster")
	}
}

// files writes a certificate of the CA (and the CA) as PEM files for an
// upstream server's tls {} block.
func (ca *testCA) files(t *testing.T, cfg *tls.Config) (caFile, certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	keyDER, err := x509.MarshalECPrivateKey(cfg.Certificates[0].PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	return write("ca.pem", "CERTIFICATE", ca.cert.Raw), write("cert.pem", "CERTIFICATE", cfg.Certificates[0].Certificate[0]), write("key.pem", "EC PRIVATE KEY", keyDER)
}

// TestRouteTLSWithUpstream: a TLS route between natsd and upstream, each
// side dialing, certificates verified both ways.
func TestRouteTLSWithUpstream(t *testing.T) {
	bin := os.Getenv("NATSD_UPSTREAM_SERVER")
	if bin == "" {
		t.Skip("NATSD_UPSTREAM_SERVER not set")
	}
	ca := newCA(t)
	for _, natsdDials := range []bool{true, false} {
		t.Run(fmt.Sprintf("natsd dials %v", natsdDials), func(t *testing.T) {
			ports := make([]int, 2)
			for i := range ports {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				ports[i] = ln.Addr().(*net.TCPAddr).Port
				ln.Close()
			}
			caFile, certFile, keyFile := ca.files(t, ca.config(ca.pool))
			var nd *node
			routes := ""
			if !natsdDials {
				nd = startNode(t, "natsd", route.Options{Name: "tls", TLSConfig: ca.config(ca.pool)})
				routes = ", routes: [" + nd.routeURL().String() + "]"
			}
			conf := fmt.Sprintf("listen: 127.0.0.1:%d\ncluster { name: tls, listen: 127.0.0.1:%d%s\n tls { ca_file: %q, cert_file: %q, key_file: %q, verify: true } }\n",
				ports[0], ports[1], routes, caFile, certFile, keyFile)
			path := filepath.Join(t.TempDir(), "up.conf")
			if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bin, "-c", path)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			if natsdDials {
				time.Sleep(200 * time.Millisecond)
				nd = startNode(t, "natsd", route.Options{Name: "tls", TLSConfig: ca.config(ca.pool),
					Routes: []*url.URL{{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", ports[1])}}})
			}
			waitFor(t, 5*time.Second, "TLS routes to upstream", func() bool { return len(nd.c.Routez(nil).Routes) == route.DefaultPoolSize })
			var up *nats.Conn
			var err error
			for range 50 {
				if up, err = nats.Connect(fmt.Sprintf("nats://127.0.0.1:%d", ports[0])); err == nil {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer up.Close()
			s, _ := up.SubscribeSync("tls.x")
			up.Flush()
			waitInterest(t, nd, 1)
			ours := nd.connect(t)
			ours.Publish("tls.x", []byte("secure"))
			if m, err := s.NextMsg(2 * time.Second); err != nil || string(m.Data) != "secure" {
				t.Fatalf("natsd -> upstream over TLS: %v", err)
			}
		})
	}
}
