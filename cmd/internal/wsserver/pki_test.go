package wsserver_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testPKI is a test CA with a server certificate for 127.0.0.1 signed by
// it; client certificates are issued on demand.
type testPKI struct {
	t      testing.TB
	caCert *x509.Certificate
	caKey  *ecdsa.PrivateKey
	pool   *x509.CertPool
	server tls.Certificate
	serial int64
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
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
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	p := &testPKI{t: t, caCert: ca, caKey: key, pool: x509.NewCertPool(), serial: 1}
	p.pool.AddCert(ca)
	p.server = p.issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "natsd server"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:    []string{"localhost"},
	})
	return p
}

// issue signs tmpl (subject, usages and SANs filled by the caller).
func (p *testPKI) issue(tmpl *x509.Certificate) tls.Certificate {
	p.t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(p.t, err)
	p.serial++
	tmpl.SerialNumber = big.NewInt(p.serial)
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, &key.PublicKey, p.caKey)
	require.NoError(p.t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(p.t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// client issues a client certificate with the common name cn and the
// e-mail addresses emails.
func (p *testPKI) client(cn string, emails ...string) tls.Certificate {
	return p.issue(&x509.Certificate{
		Subject:        pkix.Name{CommonName: cn, Organization: []string{"natsd"}},
		ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		EmailAddresses: emails,
	})
}

// serverConfig is the server side: verify asks for client certificates.
func (p *testPKI) serverConfig(verify bool) *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{p.server}}
	if verify {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
		cfg.ClientCAs = p.pool
	}
	return cfg
}

// clientConfig trusts the CA and presents certs.
func (p *testPKI) clientConfig(certs ...tls.Certificate) *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: p.pool, Certificates: certs}
}

// writeFiles writes the CA, the server certificate and key, and the
// client certificate and key as PEM into dir.
func (p *testPKI) writeFiles(dir string, client tls.Certificate) (ca, cert, key, clientCert, clientKey string) {
	p.t.Helper()
	write := func(name string, typ string, b []byte) string {
		path := filepath.Join(dir, name)
		require.NoError(p.t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600))
		return path
	}
	keyDER := func(c tls.Certificate) []byte {
		b, err := x509.MarshalECPrivateKey(c.PrivateKey.(*ecdsa.PrivateKey))
		require.NoError(p.t, err)
		return b
	}
	ca = write("ca.pem", "CERTIFICATE", p.caCert.Raw)
	cert = write("server.pem", "CERTIFICATE", p.server.Certificate[0])
	key = write("server-key.pem", "EC PRIVATE KEY", keyDER(p.server))
	clientCert = write("client.pem", "CERTIFICATE", client.Certificate[0])
	clientKey = write("client-key.pem", "EC PRIVATE KEY", keyDER(client))
	return
}
