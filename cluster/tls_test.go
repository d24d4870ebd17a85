package cluster_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"natsd.dev/cluster"
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
	a := startNode(t, "A", cluster.Options{Name: "test", TLSConfig: ca.config(ca.pool)})
	b := startNode(t, "B", cluster.Options{Name: "test", TLSConfig: ca.config(ca.pool), Routes: []*url.URL{a.routeURL()}})
	c := startNode(t, "C", cluster.Options{Name: "test", TLSConfig: ca.config(ca.pool), Routes: []*url.URL{a.routeURL()}})
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
	d := startNode(t, "D", cluster.Options{Name: "test", TLSConfig: other.config(other.pool), Routes: []*url.URL{a.routeURL()}})
	waitFor(t, 5*time.Second, "handshake failure on both sides", func() bool {
		return strings.Contains(d.log.String(), "TLS route handshake error") &&
			strings.Contains(a.log.String(), "TLS route handshake error")
	})
	if d.c.NumRoutes() != 0 || a.c.NumRoutes() != 2 {
		t.Fatalf("routes D %d A %d", d.c.NumRoutes(), a.c.NumRoutes())
	}
	// A plain-text peer is refused as well.
	e := startNode(t, "E", cluster.Options{Name: "test", Routes: []*url.URL{a.routeURL()}})
	time.Sleep(300 * time.Millisecond)
	if e.c.NumRoutes() != 0 {
		t.Fatal("plain route accepted by a TLS cluster")
	}
}
