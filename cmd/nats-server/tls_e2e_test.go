package main

// End-to-end tests of TLS: the binary serves nats.go over TLS from the
// --tls flags and from a tls {} block, serves monitoring over HTTPS (-ms)
// and refuses what cannot work.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"
)

// TestTLSFlags starts the binary with --tls --tlscert --tlskey: nats.go
// trusting the certificate exchanges messages, a client that does not is
// refused.
func TestTLSFlags(t *testing.T) {
	dir := t.TempDir()
	cert, key, pool := selfSigned(t, dir)
	p := start(t, "--tls", "--tlscert", cert, "--tlskey", key)
	sub := p.connect(nats.Secure(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	pub := p.connect(nats.Secure(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	s, err := sub.SubscribeSync("e2e.tls")
	require.NoError(t, err)
	require.NoError(t, sub.Flush())
	require.NoError(t, pub.Publish("e2e.tls", []byte("over tls")))
	m, err := s.NextMsg(3 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "over tls", string(m.Data))

	_, err = nats.Connect(p.url(), nats.NoReconnect(), nats.Timeout(2*time.Second))
	require.Error(t, err, "a client that does not trust the certificate")
	p.waitLog("TLS handshake error: ")
}

// TestTLSConfigAndHTTPSMonitoring starts the binary with a tls {} block
// that verifies client certificates and -ms: clients need a certificate,
// and /varz answers over HTTPS.
func TestTLSConfigAndHTTPSMonitoring(t *testing.T) {
	dir := t.TempDir()
	cert, key, pool, pair := testPKI(t, dir)
	conf := writeFile(t, filepath.Join(dir, "tls.conf"), `
tls {
  cert_file: "`+cert+`"
  key_file: "`+key+`"
  ca_file: "`+filepath.Join(dir, "ca.pem")+`"
  verify: true
  timeout: 2
}
`)
	p := start(t, "-c", conf, "-ms", "-1")
	p.waitLog("[INF] Starting https monitor on https://127.0.0.1:")
	nc := p.connect(nats.Secure(&tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}))
	require.NoError(t, nc.Flush())
	_, err := nats.Connect(p.url(), nats.NoReconnect(), nats.Timeout(2*time.Second), nats.Secure(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	require.Error(t, err, "a client without a certificate")

	b, err := os.ReadFile(p.ports)
	require.NoError(t, err)
	var doc struct{ Monitoring []string }
	require.NoError(t, json.Unmarshal(b, &doc))
	require.Len(t, doc.Monitoring, 1, string(b))
	require.True(t, strings.HasPrefix(doc.Monitoring[0], "https://127.0.0.1:"), doc.Monitoring[0])

	hc := http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: pool, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12,
	}}}
	resp, err := hc.Get(doc.Monitoring[0] + "/varz")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var varz struct {
		Connections int  `json:"connections"`
		HTTPSPort   int  `json:"https_port"`
		TLSRequired bool `json:"tls_required"`
		TLSVerify   bool `json:"tls_verify"`
	}
	require.NoError(t, json.Unmarshal(body, &varz), string(body))
	require.Equal(t, 1, varz.Connections)
	require.NotZero(t, varz.HTTPSPort)

	// As upstream, monitoring does not ask for a client certificate.
	hc.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	resp2, err := hc.Get(doc.Monitoring[0] + "/healthz")
	require.NoError(t, err)
	resp2.Body.Close()
	require.Equal(t, http.StatusOK, resp2.StatusCode)
}

func TestTLSRefusals(t *testing.T) {
	dir := t.TempDir()
	cert, key, _ := selfSigned(t, dir)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-ms", "8443"}, "https monitoring (-ms, https_port) requires TLS"},
		{[]string{"--tls", "--tlskey", key}, "TLS Server certificate must be present and valid"},
		{[]string{"--tlsverify", "--tlscert", cert}, "TLS Server private key must be present and valid"},
		{[]string{"-c", writeFile(t, filepath.Join(dir, "ocsp.conf"), "tls { cert_file: \""+cert+"\", key_file: \""+key+"\", ocsp_peer: true }\n")}, "tls ocsp_peer is not supported yet"},
		{[]string{"-c", writeFile(t, filepath.Join(dir, "first.conf"), "tls { cert_file: \""+cert+"\", key_file: \""+key+"\", handshake_first: \"soon\" }\n")}, `field "handshake_first" value "soon" is invalid`},
	} {
		code, _, errOut := runOnce(t, tc.args...)
		require.Equal(t, 1, code, "%v", tc.args)
		require.Contains(t, errOut, tc.want, "%v", tc.args)
	}
}

// testPKI writes a CA (ca.pem) and a server certificate for 127.0.0.1
// signed by it into dir, and returns the server files, a pool trusting
// the CA and a client certificate it signed.
func testPKI(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool, client tls.Certificate) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "natsd e2e CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	pool = x509.NewCertPool()
	pool.AddCert(ca)
	writeFile(t, filepath.Join(dir, "ca.pem"), string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})))
	issue := func(serial int64, usage x509.ExtKeyUsage, ips []net.IP) ([]byte, *ecdsa.PrivateKey) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "natsd e2e"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		require.NoError(t, err)
		return der, key
	}
	der, key := issue(2, x509.ExtKeyUsageServerAuth, []net.IP{net.IPv4(127, 0, 0, 1)})
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certFile = writeFile(t, filepath.Join(dir, "server.pem"), string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	keyFile = writeFile(t, filepath.Join(dir, "server-key.pem"), string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})))
	cder, ckey := issue(3, x509.ExtKeyUsageClientAuth, nil)
	return certFile, keyFile, pool, tls.Certificate{Certificate: [][]byte{cder}, PrivateKey: ckey}
}

// TestTLSReload: the tls {} block reloads on SIGHUP: a new certificate
// and CA serve new connections (HTTPS monitoring included) while
// established ones stay; verify_and_map needs a restart.
func TestTLSReload(t *testing.T) {
	dir := t.TempDir()
	cert, key, pool, _ := testPKI(t, dir)
	block := "tls { cert_file: \"" + cert + "\", key_file: \"" + key + "\" }\n"
	conf := writeFile(t, filepath.Join(dir, "r.conf"), block+"max_payload: 1KB\n")
	p := start(t, "-c", conf, "-ms", "-1")
	p.waitLog("[INF] Starting https monitor on https://")
	b, err := os.ReadFile(p.ports)
	require.NoError(t, err)
	var doc struct{ Monitoring []string }
	require.NoError(t, json.Unmarshal(b, &doc))
	require.Len(t, doc.Monitoring, 1, string(b))
	healthz := func(pool *x509.CertPool) error {
		hc := http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
		resp, err := hc.Get(doc.Monitoring[0] + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	require.NoError(t, healthz(pool))
	secure := nats.Secure(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	old := p.connect(secure)
	require.Equal(t, int64(1024), old.MaxPayload())

	writeFile(t, conf, block+"max_payload: 2KB\n")
	p.signal(syscall.SIGHUP)
	p.waitLog("Reloaded server configuration")
	require.Equal(t, int64(2048), p.connect(secure).MaxPayload())

	// A certificate from another CA: new clients need the new CA.
	dir2 := filepath.Join(dir, "new")
	require.NoError(t, os.Mkdir(dir2, 0o700))
	cert2, key2, pool2, _ := testPKI(t, dir2)
	writeFile(t, conf, "tls { cert_file: \""+cert2+"\", key_file: \""+key2+"\", timeout: 5 }\nmax_payload: 2KB\n")
	p.signal(syscall.SIGHUP)
	eventually(t, "the new certificate", func() bool {
		nc, err := nats.Connect(p.url(), nats.NoReconnect(), nats.Timeout(2*time.Second), nats.Secure(&tls.Config{RootCAs: pool2, MinVersion: tls.VersionTLS12}))
		if err != nil {
			return false
		}
		nc.Close()
		return true
	})
	_, err = nats.Connect(p.url(), nats.NoReconnect(), nats.Timeout(2*time.Second), secure)
	require.Error(t, err, "the old CA no longer verifies the server")
	require.NoError(t, old.Flush(), "the established connection stays")
	// HTTPS monitoring serves the new certificate too.
	require.NoError(t, healthz(pool2))
	require.Error(t, healthz(pool))

	// verify_and_map changes how clients authenticate: restart only.
	writeFile(t, conf, "tls { cert_file: \""+cert2+"\", key_file: \""+key2+"\", verify_and_map: true }\nmax_payload: 2KB\n")
	p.signal(syscall.SIGHUP)
	p.waitLog("config reload not supported for tls")
}

// TestTLSPinnedCertsAndHandshakeFirstAuto runs a tls {} block with
// verify, pinned_certs and handshake_first: auto: nats.go clients with
// and without TLSHandshakeFirst connect with the pinned certificate; a
// reload that pins another key drops them and refuses new ones.
func TestTLSPinnedCertsAndHandshakeFirstAuto(t *testing.T) {
	dir := t.TempDir()
	cert, key, pool, pair := testPKI(t, dir)
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	require.NoError(t, err)
	sum := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	conf := func(pin string) string {
		return "tls {\n cert_file: \"" + cert + "\"\n key_file: \"" + key + "\"\n ca_file: \"" + filepath.Join(dir, "ca.pem") +
			"\"\n verify: true\n handshake_first: auto\n pinned_certs: [\"" + pin + "\"]\n}\n"
	}
	path := writeFile(t, filepath.Join(dir, "pin.conf"), conf(hex.EncodeToString(sum[:])))
	p := start(t, "-c", path)
	require.NotContains(t, p.log.String(), "will fail to connect")
	secure := nats.Secure(&tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12})
	first := p.connect(secure, nats.TLSHandshakeFirst())
	plain := p.connect(secure)
	sub, err := first.SubscribeSync("pin")
	require.NoError(t, err)
	require.NoError(t, first.Flush())
	require.NoError(t, plain.Publish("pin", []byte("ok")))
	_, err = sub.NextMsg(3 * time.Second)
	require.NoError(t, err)

	writeFile(t, path, conf(strings.Repeat("ab", 32)))
	p.signal(syscall.SIGHUP)
	p.waitLog("Disconnect 2 clients due to pinned certs reload")
	eventually(t, "both clients closed", func() bool { return first.IsClosed() && plain.IsClosed() })
	_, err = nats.Connect(p.url(), nats.NoReconnect(), nats.Timeout(2*time.Second), secure)
	require.Error(t, err)
	p.waitLog("TLS handshake error: certificate not pinned")
}
