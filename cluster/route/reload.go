package route

import (
	"errors"
	"fmt"
	"net"
	"reflect"
	"slices"
	"strconv"

	"natsd.dev/server"
)

// ErrReloadUnsupported is returned (wrapped, naming the key) by Reload for
// a change it cannot apply to running routes.
var ErrReloadUnsupported = errors.New("cluster: config reload not supported")

// Reload applies a new configuration of the cluster {} block to the
// running cluster, as a configuration reload does upstream:
//
//   - ping_interval and ping_max: each route's next ping uses them;
//   - connect_retries and connect_backoff: the next dial attempts use them;
//   - authorization (user, password, timeout): new routes must present
//     the new credentials; a route this server accepted whose CONNECT no
//     longer satisfies them is closed with -ERR 'Authorization
//     Violation', as upstream closes it;
//   - tls (certificates, verification, timeout): new route handshakes use
//     it; routes up keep their session. Turning TLS on or off is refused;
//   - advertise: the INFO this server sends new routes names it;
//   - no_advertise: peers' client URLs are no longer (or again) given to
//     this server's clients, and every peer gets this server's INFO anew.
//
// Everything else of o is compared with the running options and any
// difference is refused with an error wrapping ErrReloadUnsupported:
// name, listen, pool_size, accounts, compression and permissions (they
// shape the route connections and the interest they carry), and the
// dialer. Routes are SetRoutes's: Reload ignores o.Routes. Reload does
// nothing and returns nil when o changes nothing it applies.
func (c *Cluster) Reload(o *Options) error {
	if o == nil {
		return ErrNoServer
	}
	nu := *o
	nu.Routes = nil
	if err := nu.normalize(); err != nil {
		return err
	}
	old := c.opts()
	if err := reloadRefused(old, &nu); err != nil {
		return err
	}
	c.opt.Store(&nu)

	if old.Username != nu.Username || old.Password != nu.Password {
		c.mu.Lock()
		c.info.AuthRequired = nu.Username != ""
		c.mu.Unlock()
		c.recheckAuth(&nu)
	}
	if old.Advertise != nu.Advertise {
		if err := c.setAdvertise(&nu); err != nil {
			c.log.Error("Cluster advertise: " + err.Error())
		}
	}
	if old.NoAdvertise != nu.NoAdvertise {
		if nu.NoAdvertise {
			c.s.SetRemoteConnectURLs(nil)
		} else {
			c.updateConnectURLs()
		}
		c.sendInfoToAll()
	}
	return nil
}

// reloadRefused is the first key Reload cannot apply from a to b, nil
// when there is none.
func reloadRefused(a, b *Options) error {
	for _, k := range []struct {
		key  string
		same bool
	}{
		{"name", a.Name == b.Name},
		{"listen", a.Host == b.Host && a.Port == b.Port},
		{"tls", (a.TLSConfig == nil) == (b.TLSConfig == nil)},
		{"pool_size", a.PoolSize == b.PoolSize},
		{"accounts", slices.Equal(a.PinnedAccounts, b.PinnedAccounts)},
		{"compression", reflect.DeepEqual(a.Compression, b.Compression)},
		{"permissions", reflect.DeepEqual(a.Permissions, b.Permissions)},
		{"dialer", a.Dialer == b.Dialer},
	} {
		if !k.same {
			return fmt.Errorf("%w for cluster %s", ErrReloadUnsupported, k.key)
		}
	}
	return nil
}

// recheckAuth closes the accepted routes whose CONNECT credentials do not
// satisfy o's authorization.
func (c *Cluster) recheckAuth(o *Options) {
	c.mu.Lock()
	routes := make([]*route, 0, len(c.all))
	for r := range c.all {
		if !r.solicited {
			routes = append(routes, r)
		}
	}
	c.mu.Unlock()
	for _, r := range routes {
		r.mu.Lock()
		user, pass, connected := r.user, r.pass, r.connected
		r.mu.Unlock()
		if !connected || authorized(o, user, pass) {
			continue
		}
		c.log.Error(r.prefix + " - Route connection not authorized after reload")
		r.sendErr(errTextAuthViolation)
		r.close(server.LinkAuthViolation)
	}
}

// setAdvertise makes the INFO this server sends name o.Advertise (or the
// listener's address without one).
func (c *Cluster) setAdvertise(o *Options) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ln == nil {
		return nil
	}
	port := 0
	if a, ok := c.ln.Addr().(*net.TCPAddr); ok {
		port = a.Port
	}
	c.info.Host, c.info.Port, c.info.IP = o.Host, port, ""
	if o.Advertise == "" {
		return nil
	}
	h, p, err := SplitHostPort(o.Advertise)
	if err != nil {
		return fmt.Errorf("advertise %q: %w", o.Advertise, err)
	}
	if p == 0 {
		p = port
	}
	c.info.Host, c.info.Port = h, p
	c.info.IP = "nats-route://" + net.JoinHostPort(h, strconv.Itoa(p)) + "/"
	return nil
}
