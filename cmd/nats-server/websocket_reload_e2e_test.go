package main

import (
	"crypto/tls"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

// TestWebsocketReloadTLS swaps the websocket block's certificate for one
// of another CA and sends SIGHUP: as upstream, the next wss:// clients
// get the new certificate (nats.go trusting only the new CA connects, one
// trusting only the old one fails) while the client already connected
// stays. A change of advertise is still refused.
func TestWebsocketReloadTLS(t *testing.T) {
	dir := t.TempDir()
	oldPKI, newPKI := servertest.NewPKI(t), servertest.NewPKI(t)
	block := "ws {\n  host: 127.0.0.1\n  port: -1\n  tls { cert_file: %q, key_file: %q }\n%s}\n"
	fo, fn := oldPKI.Files(), newPKI.Files()
	conf := writeFile(t, filepath.Join(dir, "wss.conf"), fmt.Sprintf(block, fo.Cert, fo.Key, ""))
	p := start(t, "-c", conf)
	url := p.websocketURL()
	dial := func(pki *servertest.PKI) (*nats.Conn, error) {
		return nats.Connect(url, nats.NoReconnect(), nats.Timeout(5*time.Second),
			nats.Secure(&tls.Config{RootCAs: pki.Pool, MinVersion: tls.VersionTLS12}))
	}
	before, err := dial(oldPKI)
	require.NoError(t, err)
	defer before.Close()

	writeFile(t, conf, fmt.Sprintf(block, fn.Cert, fn.Key, ""))
	p.signal(syscall.SIGHUP)
	p.waitLog("Reloaded: websocket tls")
	p.waitLog("Reloaded server configuration")

	after, err := dial(newPKI)
	require.NoError(t, err)
	defer after.Close()
	_, err = dial(oldPKI)
	require.Error(t, err, "a client trusting the old CA only connected after the reload")
	exchange(t, after, before)

	writeFile(t, conf, fmt.Sprintf(block, fn.Cert, fn.Key, "  advertise: \"h:1\"\n"))
	p.signal(syscall.SIGHUP)
	p.waitLog("[ERR] Failed to reload server configuration: config reload not supported for websocket")
}
