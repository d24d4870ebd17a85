package server

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"strings"
	"time"

	"natsd.dev/server/internal/handshake"
)

// DefaultTLSTimeout bounds a client's TLS handshake when Options.TLSTimeout
// is zero; upstream's default is the same two seconds.
const DefaultTLSTimeout = 2 * time.Second

// DefaultTLSHandshakeFirstFallback is how long a server with tls {
// handshake_first: auto } waits for a client to start the TLS handshake
// before it sends INFO in the clear, as upstream does.
const DefaultTLSHandshakeFirstFallback = 50 * time.Millisecond

// errTextThrottled is upstream's -ERR for a client refused by tls {
// connection_rate_limit }.
const errTextThrottled = "Connection throttling is active. Please try again later."

// ErrCertNotPinned is the handshake error of a client whose certificate is
// not in tls { pinned_certs }; the text is upstream's, so the log line
// reads "TLS handshake error: certificate not pinned".
var ErrCertNotPinned = errors.New("certificate not pinned")

// tlsVerifies reports whether cfg asks clients for a verified certificate,
// which INFO announces as tls_verify.
func tlsVerifies(cfg *tls.Config) bool {
	return cfg != nil && cfg.ClientAuth == tls.RequireAndVerifyClientCert
}

// tlsState is what the client listener's handshakes follow. The server
// holds it in an atomic pointer so that Reload can swap certificates, CAs
// and the tls {} settings: a connection reads it once when it starts, so
// new connections use the new state and established ones are left alone.
type tlsState struct {
	// cfg is the configuration handshakes use, with the pinned_certs
	// check installed.
	cfg     *tls.Config
	timeout time.Duration
	first   bool
	// fallback, with first, is how long to wait for the client to start
	// the handshake before sending INFO and handshaking after it; zero
	// waits for the handshake however long the TLS timeout allows.
	fallback time.Duration
	pinned   PinnedCerts
	// limiter enforces connection_rate_limit; nil is no limit.
	limiter *handshake.RateLimiter
}

// newTLSState builds the handshake state of o; nil without TLS.
func (s *Server) newTLSState(o *Options) *tlsState {
	if o.TLSConfig == nil {
		return nil
	}
	st := &tlsState{
		cfg:      o.TLSConfig,
		timeout:  o.TLSTimeout,
		first:    o.TLSHandshakeFirst,
		fallback: o.TLSHandshakeFirstFallback,
		pinned:   o.TLSPinnedCerts,
	}
	if len(o.TLSPinnedCerts) > 0 {
		st.cfg = WithPinnedCerts(o.TLSConfig, o.TLSPinnedCerts)
	}
	if o.TLSRateLimit > 0 {
		st.limiter = handshake.NewRateLimiter(o.TLSRateLimit, func(n int64) {
			select {
			case <-s.quit: // nobody reads a warning about a stopped server
			default:
				s.log.Warn(fmt.Sprintf("Rejected %d connections due to TLS rate limiting", n))
			}
		})
	}
	return st
}

// initTLS sets up the client listener's TLS from o at New: s.tlsConfig is
// a fixed front whose GetConfigForClient hands each handshake the current
// state's configuration.
func (s *Server) initTLS(o *Options) {
	st := s.newTLSState(o)
	if st == nil {
		return
	}
	s.tlsState.Store(st)
	s.tlsConfig = &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
		return s.tlsState.Load().cfg, nil
	}}
	if o.TLSHandshakeFirst && o.TLSHandshakeFirstFallback == 0 {
		s.log.Warn(`Clients that are not using "TLS Handshake First" option will fail to connect`)
	}
}

// reloadTLS swaps in the tls {} settings of o (certificates, CAs,
// verification, pinned_certs, handshake_first, timeout, rate limit). It
// refuses what needs a restart: turning TLS on or off and verify_and_map,
// which authentication is built on. When pinned_certs changed it returns
// the connected clients, for dropUnpinned to check. s.mu is held.
func (s *Server) reloadTLS(o *Options) ([]*client, error) {
	if (o.TLSConfig == nil) != (s.tlsConfig == nil) {
		return nil, fmt.Errorf("%w: tls cannot be turned on or off by a reload", ErrBadOptions)
	}
	if o.TLSMap != s.opts.TLSMap {
		return nil, fmt.Errorf("%w: verify_and_map cannot be changed by a reload", ErrBadOptions)
	}
	if s.tlsConfig == nil {
		return nil, nil
	}
	if o.TLSMap && !tlsVerifies(o.TLSConfig) {
		return nil, fmt.Errorf("%w: verify_and_map needs TLS with verified client certificates", ErrBadOptions)
	}
	st := s.newTLSState(o)
	old := s.tlsState.Load()
	if old.limiter != nil && st.limiter != nil && old.limiter.Limit() == st.limiter.Limit() {
		st.limiter = old.limiter // keep counting the current second
	}
	s.tlsState.Store(st)
	s.opts.TLSConfig = o.TLSConfig
	s.opts.TLSTimeout = o.TLSTimeout
	s.opts.TLSHandshakeFirst = o.TLSHandshakeFirst
	s.opts.TLSHandshakeFirstFallback = o.TLSHandshakeFirstFallback
	s.opts.TLSPinnedCerts = o.TLSPinnedCerts
	s.opts.TLSRateLimit = o.TLSRateLimit
	s.info.TLSVerify = tlsVerifies(o.TLSConfig)
	if len(st.pinned) == 0 || maps.Equal(old.pinned, st.pinned) {
		return nil, nil
	}
	return s.clientsLocked(), nil
}

// dropUnpinned closes those of cs whose certificate the current
// pinned_certs do not list, as upstream does after a reload. Only clients
// whose CONNECT was processed are checked (ConnectionState waits for a
// handshake in progress; one still handshaking meets the new pins). It
// takes each client.mu alone; s.mu is not held.
func (s *Server) dropUnpinned(cs []*client) {
	if len(cs) == 0 {
		return
	}
	pinned := s.tlsState.Load().pinned
	var drop []*client
	for _, c := range cs {
		c.mu.Lock()
		done := c.connectSeenLocked()
		tc, ok := c.nc.(*tls.Conn)
		c.mu.Unlock()
		if ok && done && pinned.VerifyConnection(tc.ConnectionState()) != nil {
			drop = append(drop, c)
		}
	}
	if len(drop) == 0 {
		return
	}
	s.log.Info(fmt.Sprintf("Disconnect %d clients due to pinned certs reload", len(drop)))
	for _, c := range drop {
		c.closeConnection(reasonTLSHandshakeError)
	}
}

// wrapTLS prepares a connection of the TLS client listener: with
// handshake_first and a fallback delay its first bytes are read ahead
// (see startTLS), so it gets a replaying wrapper.
func (s *Server) wrapTLS(nc net.Conn, tlsCfg *tls.Config) net.Conn {
	if tlsCfg == nil {
		return nc
	}
	if st := s.tlsState.Load(); st != nil && st.first && st.fallback > 0 {
		return &handshake.PrefixConn{Conn: nc}
	}
	return nc
}

// startTLS runs on the reader goroutine of a client of a TLS listener,
// before the read loop: it sends INFO in the clear and handshakes (or, with
// TLSHandshakeFirst, handshakes and then queues INFO for the writer; with a
// fallback delay, it first waits that long for the client to start the
// handshake and sends INFO first if it does not). The exchange is bounded
// by the TLS timeout, so a client that opens the socket and stalls is
// dropped. On failure it logs, closes the connection and returns false.
// c.nc is the *tls.Conn from the start, so the writer and the monitoring
// code never see the field change; a write the writer starts meanwhile
// waits inside crypto/tls for the handshake to end.
func (c *client) startTLS(raw net.Conn, info []byte) bool {
	st := c.srv.tlsState.Load()
	tc := c.nc.(*tls.Conn)
	first := st.first
	if pc, ok := raw.(*handshake.PrefixConn); ok && first {
		first = pc.Await(st.fallback)
	}
	raw.SetDeadline(time.Now().Add(st.timeout))
	if !first {
		if _, err := raw.Write(info); err != nil {
			c.tlsFailed(err)
			return false
		}
	}
	if st.limiter != nil && !st.limiter.Allow() {
		// As upstream, the refusal goes out in the clear.
		raw.Write([]byte("-ERR '" + errTextThrottled + "'\r\n"))
		c.closeConnection(reasonMaxConnections)
		return false
	}
	if err := tc.Handshake(); err != nil {
		c.tlsFailed(err)
		return false
	}
	// Only the read deadline is ours to clear: the writer sets its own
	// write deadline before every flush.
	raw.SetReadDeadline(time.Time{})
	if first {
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
	var np *notPinnedError
	switch {
	case closed:
		c.debugf("TLS handshake ended by close: " + err.Error())
		return
	case errors.Is(err, os.ErrDeadlineExceeded):
		c.srv.log.Error(c.logPrefix() + " - TLS handshake timeout")
	case errors.As(err, &np):
		if np.keyID == "" {
			c.debugf("Failed pinned cert test as client did not provide a certificate")
		} else {
			c.debugf("Failed pinned cert test for key id: " + np.keyID)
		}
		c.srv.log.Error(c.logPrefix() + " - TLS handshake error: " + err.Error())
	default:
		c.srv.log.Error(c.logPrefix() + " - TLS handshake error: " + err.Error())
	}
	c.closeConnection(reasonTLSHandshakeError)
}

// PinnedCerts is the set of tls { pinned_certs }: lower-case hex SHA-256
// digests of the SubjectPublicKeyInfo of the certificates a listener
// accepts. Build it with NewPinnedCerts; a nil or empty set pins nothing.
type PinnedCerts map[string]struct{}

// NewPinnedCerts returns the set of ids (hex digests, any case).
func NewPinnedCerts(ids ...string) PinnedCerts {
	p := make(PinnedCerts, len(ids))
	for _, id := range ids {
		p[strings.ToLower(id)] = struct{}{}
	}
	return p
}

// CertKeyID returns the pinned_certs entry of cert: the hex SHA-256 of
// its SubjectPublicKeyInfo, what `openssl x509 -noout -pubkey | openssl
// pkey -pubin -outform der | sha256sum` prints.
func CertKeyID(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return hex.EncodeToString(sum[:])
}

// notPinnedError is ErrCertNotPinned with the key id that was refused
// (empty when the peer sent no certificate), which the debug log shows.
type notPinnedError struct{ keyID string }

func (e *notPinnedError) Error() string { return ErrCertNotPinned.Error() }
func (e *notPinnedError) Unwrap() error { return ErrCertNotPinned }

// VerifyConnection fails unless the peer's leaf certificate is in p; it
// has the signature of tls.Config.VerifyConnection. The error wraps
// ErrCertNotPinned.
func (p PinnedCerts) VerifyConnection(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 || cs.PeerCertificates[0] == nil {
		return &notPinnedError{}
	}
	id := CertKeyID(cs.PeerCertificates[0])
	if _, ok := p[id]; !ok {
		return &notPinnedError{keyID: id}
	}
	return nil
}

// WithPinnedCerts returns a copy of cfg whose handshakes fail unless the
// peer's certificate is in p (after cfg's own VerifyConnection, if any).
// The check runs inside the handshake, so a refused client gets a
// bad_certificate alert. An empty p returns cfg itself.
func WithPinnedCerts(cfg *tls.Config, p PinnedCerts) *tls.Config {
	if len(p) == 0 || cfg == nil {
		return cfg
	}
	c := cfg.Clone()
	prev := cfg.VerifyConnection
	c.VerifyConnection = func(cs tls.ConnectionState) error {
		if prev != nil {
			if err := prev(cs); err != nil {
				return err
			}
		}
		return p.VerifyConnection(cs)
	}
	return c
}
