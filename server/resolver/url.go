package resolver

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"natsd.dev/auth"
	"natsd.dev/server"
)

// maxJWTSize bounds what the URL resolver reads of an answer.
const maxJWTSize = 1 << 20

// URL is the URL resolver (resolver: URL(http://host/jwt/v1/accounts/)):
// it fetches an account's JWT with a GET of the base URL followed by the
// account's public key, as from a NATS account server. It keeps nothing:
// the server keeps the accounts it built. With the ResolverStarter
// capability it applies the account updates pushed to
// $SYS.REQ.ACCOUNT.<pub>.CLAIMS.UPDATE (and $SYS.ACCOUNT.<pub>.CLAIMS.UPDATE)
// to the accounts the server built, as upstream's server does for the
// resolvers that do not track updates. Safe for concurrent use.
type URL struct {
	base   string
	client *http.Client
	updater
}

// NewURL returns the URL resolver of base (a "/" is added when missing);
// tlsConfig, when not nil, is used for https (resolver_tls). timeout
// bounds each fetch (DefaultFetchTimeout when 0).
func NewURL(base string, tlsConfig *tls.Config, timeout time.Duration) (*URL, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("error parsing account resolver url: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("error parsing account resolver url: unsupported scheme %q", u.Scheme)
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	if timeout <= 0 {
		timeout = DefaultFetchTimeout
	}
	tr := &http.Transport{MaxIdleConns: 10, IdleConnTimeout: 30 * time.Second, TLSClientConfig: tlsConfig}
	return &URL{base: base, client: &http.Client{Timeout: timeout, Transport: tr}}, nil
}

// Fetch implements server.AccountResolver.
func (u *URL) Fetch(pub string) (string, error) {
	if !auth.IsAccountKey(pub) {
		return "", errors.New("will only fetch valid account keys")
	}
	addr := u.base + pub
	resp, err := u.client.Get(addr)
	if err != nil {
		return "", fmt.Errorf("could not fetch <%q>: %v", redact(addr), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return "", fmt.Errorf("%w: could not fetch <%q>: %v", server.ErrAccountNotFound, redact(addr), resp.Status)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("could not fetch <%q>: %v", redact(addr), resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxJWTSize))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// redact hides a password in addr.
func redact(addr string) string {
	u, err := url.Parse(addr)
	if err != nil {
		return addr
	}
	return u.Redacted()
}

// Close implements server.ResolverCloser.
func (u *URL) Close() {
	u.updater.Close()
	u.client.CloseIdleConnections()
}
