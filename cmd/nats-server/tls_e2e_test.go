package main

// End-to-end tests of TLS: the binary serves nats.go over TLS from the
// --tls flags and from a tls {} block, serves monitoring over HTTPS (-ms)
// and refuses what cannot work.

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// TestTLSFlags starts the binary with --tls --tlscert --tlskey: nats.go
// trusting the certificate exchanges messages, a client that does not is
// refused.
func TestTLSFlags(t *testing.T) {
	pki := servertest.NewPKI(t)
	f := pki.Files()
	cert, key, pool := f.Cert, f.Key, pki.Pool
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
	pki := servertest.NewPKI(t)
	f := pki.Files()
	cert, key, pool, pair := f.Cert, f.Key, pki.Pool, pki.Client("natsd e2e")
	conf := writeFile(t, filepath.Join(dir, "tls.conf"), `
tls {
  cert_file: "`+cert+`"
  key_file: "`+key+`"
  ca_file: "`+f.CA+`"
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
	f := servertest.NewPKI(t).Files()
	cert, key := f.Cert, f.Key
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

// TestTLSReload: the tls {} block reloads on SIGHUP: a new certificate
// and CA serve new connections (HTTPS monitoring included) while
// established ones stay; verify_and_map needs a restart.
func TestTLSReload(t *testing.T) {
	dir := t.TempDir()
	pki := servertest.NewPKI(t)
	f := pki.Files()
	cert, key, pool := f.Cert, f.Key, pki.Pool
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
	pki2 := servertest.NewPKI(t)
	f2 := pki2.Files()
	cert2, key2, pool2 := f2.Cert, f2.Key, pki2.Pool
	writeFile(t, conf, "tls { cert_file: \""+cert2+"\", key_file: \""+key2+"\", timeout: 5 }\nmax_payload: 2KB\n")
	p.signal(syscall.SIGHUP)
	servertest.WaitUntil(t, "the new certificate", func() bool {
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
	pki := servertest.NewPKI(t)
	f := pki.Files()
	cert, key, pool, pair := f.Cert, f.Key, pki.Pool, pki.Client("natsd e2e")
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	require.NoError(t, err)
	sum := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	conf := func(pin string) string {
		return "tls {\n cert_file: \"" + cert + "\"\n key_file: \"" + key + "\"\n ca_file: \"" + f.CA +
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
	servertest.WaitUntil(t, "both clients closed", func() bool { return first.IsClosed() && plain.IsClosed() })
	_, err = nats.Connect(p.url(), nats.NoReconnect(), nats.Timeout(2*time.Second), secure)
	require.Error(t, err)
	p.waitLog("TLS handshake error: certificate not pinned")
}
