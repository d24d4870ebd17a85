package servertest

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
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// PKI is a throwaway certificate authority for tests: a CA and a server
// certificate signed by it, valid for 127.0.0.1, ::1 and localhost and for
// both server and client authentication (so one certificate serves both
// ends of a route). Client certificates are issued on demand. Keys are
// ECDSA P-256; certificates are valid from an hour ago for a day.
type PKI struct {
	// CA is the authority's certificate; Pool holds only it.
	CA   *x509.Certificate
	Pool *x509.CertPool
	// Server is the server certificate with its key and parsed leaf.
	Server tls.Certificate

	tb     testing.TB
	key    *ecdsa.PrivateKey
	mu     sync.Mutex
	serial int64
}

// NewPKI creates a CA and its server certificate.
func NewPKI(tb testing.TB) *PKI {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatalf("servertest: CA key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "natsd test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatalf("servertest: CA certificate: %v", err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatalf("servertest: CA certificate: %v", err)
	}
	p := &PKI{CA: ca, Pool: x509.NewCertPool(), tb: tb, key: key, serial: 1}
	p.Pool.AddCert(ca)
	p.Server = p.Issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "natsd server"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:    []string{"localhost"},
	})
	return p
}

// Issue signs a certificate for a fresh key. The caller fills tmpl's
// subject, extended key usages and names; Issue sets its serial number,
// validity and key usage.
func (p *PKI) Issue(tmpl *x509.Certificate) tls.Certificate {
	p.tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		p.tb.Fatalf("servertest: key: %v", err)
	}
	p.mu.Lock()
	p.serial++
	tmpl.SerialNumber = big.NewInt(p.serial)
	p.mu.Unlock()
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	leaf := p.Sign(tmpl, &key.PublicKey)
	return tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: key, Leaf: leaf}
}

// Sign signs tmpl as it is for the public key pub (to re-issue a
// certificate for an existing key, say) and returns the certificate.
func (p *PKI) Sign(tmpl *x509.Certificate, pub any) *x509.Certificate {
	p.tb.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.CA, pub, p.key)
	if err != nil {
		p.tb.Fatalf("servertest: certificate: %v", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		p.tb.Fatalf("servertest: certificate: %v", err)
	}
	return leaf
}

// Client issues a client certificate with common name cn, organization
// "natsd" and the e-mail addresses emails.
func (p *PKI) Client(cn string, emails ...string) tls.Certificate {
	p.tb.Helper()
	return p.Issue(&x509.Certificate{
		Subject:        pkix.Name{CommonName: cn, Organization: []string{"natsd"}},
		ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		EmailAddresses: emails,
	})
}

// ServerConfig is a server's TLS configuration presenting Server; with
// verify it requires client certificates signed by the CA.
func (p *PKI) ServerConfig(verify bool) *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{p.Server}}
	if verify {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
		cfg.ClientCAs = p.Pool
	}
	return cfg
}

// ClientConfig is a client's TLS configuration trusting the CA and
// presenting certs.
func (p *PKI) ClientConfig(certs ...tls.Certificate) *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: p.Pool, Certificates: certs}
}

// MutualConfig presents Server and verifies peers against the CA in both
// directions, as a route's TLS configuration does.
func (p *PKI) MutualConfig() *tls.Config {
	cfg := p.ServerConfig(true)
	cfg.RootCAs = p.Pool
	return cfg
}

// Files are PEM files of a PKI.
type Files struct {
	CA   string // the CA certificate
	Cert string // the server certificate
	Key  string // the server certificate's key
}

// Files writes the CA and the server certificate and key as PEM into a
// fresh directory of the test's temporary directory.
func (p *PKI) Files() Files {
	p.tb.Helper()
	dir := p.tb.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	p.writePEM(ca, "CERTIFICATE", p.CA.Raw)
	cert, key := p.WriteCert(dir, "server", p.Server)
	return Files{CA: ca, Cert: cert, Key: key}
}

// WriteCert writes c and its key as PEM into dir, as name.pem and
// name-key.pem.
func (p *PKI) WriteCert(dir, name string, c tls.Certificate) (certFile, keyFile string) {
	p.tb.Helper()
	ec, ok := c.PrivateKey.(*ecdsa.PrivateKey)
	if !ok {
		p.tb.Fatalf("servertest: %s: not an ECDSA key", name)
	}
	keyDER, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		p.tb.Fatalf("servertest: %s key: %v", name, err)
	}
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	p.writePEM(certFile, "CERTIFICATE", c.Certificate[0])
	p.writePEM(keyFile, "EC PRIVATE KEY", keyDER)
	return certFile, keyFile
}

func (p *PKI) writePEM(path, typ string, der []byte) {
	p.tb.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		p.tb.Fatalf("servertest: %v", fmt.Errorf("write %s: %w", path, err))
	}
}
