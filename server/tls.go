package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// DefaultTLSTimeout bounds a client's TLS handshake when Options.TLSTimeout
// is zero; upstream's default is the same two seconds.
const DefaultTLSTimeout = 2 * time.Second

// tlsVerifies reports whether cfg asks clients for a verified certificate,
// which INFO announces as tls_verify.
func tlsVerifies(cfg *tls.Config) bool {
	return cfg != nil && cfg.ClientAuth == tls.RequireAndVerifyClientCert
}

// startTLS runs on the reader goroutine of a client of a TLS listener,
// before the read loop: it sends INFO in the clear and handshakes (or, with
// TLSHandshakeFirst, handshakes and then queues INFO for the writer). The
// whole exchange is bounded by the TLS timeout, so a client that opens the
// socket and stalls is dropped. On failure it logs, closes the connection
// and returns false. c.nc is the *tls.Conn from the start, so the writer and
// the monitoring code never see the field change; a write the writer starts
// meanwhile waits inside crypto/tls for the handshake to end.
func (c *client) startTLS(raw net.Conn, info []byte) bool {
	s := c.srv
	tc := c.nc.(*tls.Conn)
	raw.SetDeadline(time.Now().Add(s.tlsTimeout))
	if !s.tlsFirst {
		if _, err := raw.Write(info); err != nil {
			c.tlsFailed(err)
			return false
		}
	}
	if err := tc.Handshake(); err != nil {
		c.tlsFailed(err)
		return false
	}
	// Only the read deadline is ours to clear: the writer sets its own
	// write deadline before every flush.
	raw.SetReadDeadline(time.Time{})
	if s.tlsFirst {
		c.mu.Lock()
		c.out.write(info)
		c.mu.Unlock()
	}
	c.debugf("TLS handshake complete")
	cs := tc.ConnectionState()
	c.debugf("TLS version " + strings.TrimPrefix(tls.VersionName(cs.Version), "TLS ") + ", cipher suite " + tls.CipherSuiteName(cs.CipherSuite))
	return true
}

// tlsFailed logs a failed handshake as upstream does and closes c. A
// handshake cut short by our own close (shutdown) is not an error.
func (c *client) tlsFailed(err error) {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	switch {
	case closed:
		c.debugf("TLS handshake ended by close: " + err.Error())
		return
	case errors.Is(err, os.ErrDeadlineExceeded):
		c.srv.log.Error(c.logPrefix + " - TLS handshake timeout")
	default:
		c.srv.log.Error(c.logPrefix + " - TLS handshake error: " + err.Error())
	}
	c.closeConnection(reasonTLSHandshakeError)
}

// TLSFiles are the files and switches of a TLS listener, as the tls {}
// block and the --tlscert, --tlskey, --tlscacert and --tlsverify flags give
// them.
type TLSFiles struct {
	CertFile, KeyFile string
	// CAFile verifies client certificates; empty uses the system roots.
	CAFile string
	// Verify requires a client certificate that verifies.
	Verify bool
}

// Errors of LoadTLSConfig, with upstream's texts.
var (
	ErrTLSNoCert = errors.New("missing 'cert_file' in TLS configuration")
	ErrTLSNoKey  = errors.New("missing 'key_file' in TLS configuration")
)

// LoadTLSConfig loads f into a server tls.Config with TLS 1.2 as minimum
// and Go's secure defaults otherwise.
func LoadTLSConfig(f TLSFiles) (*tls.Config, error) {
	switch {
	case f.CertFile == "":
		return nil, ErrTLSNoCert
	case f.KeyFile == "":
		return nil, ErrTLSNoKey
	}
	cert, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("error parsing X509 certificate/key pair: %w", err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if f.Verify {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	if f.CAFile != "" {
		pem, err := os.ReadFile(f.CAFile)
		if err != nil {
			return nil, fmt.Errorf("error reading ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("failed to parse root ca certificate")
		}
		cfg.ClientCAs = pool
	}
	return cfg, nil
}
