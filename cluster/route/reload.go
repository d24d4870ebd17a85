package route

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

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
//     this server's clients, and every peer gets this server's INFO anew;
//   - name: the INFO and CONNECT of new routes carry it and peers of
//     another name are refused from then on; the routes up stay, as
//     upstream keeps them ("Cluster name updated to <name>"). Without a
//     name the current one stays and may be replaced by a peer's, as a
//     generated one is;
//   - pool_size, accounts (pinned accounts, which must exist),
//     compression and permissions: the routes are made anew (see
//     remakeRoutes), as upstream re-makes them for pool_size and
//     accounts; the peers must change pool_size too (until they do,
//     "Mismatch route pool size" refuses the routes and the explicit
//     ones are retried).
//
// Everything else of o is compared with the running options and any
// difference is refused with an error wrapping ErrReloadUnsupported:
// listen, turning TLS on or off, and the dialer. Routes are SetRoutes's: Reload ignores o.Routes. Reload does
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
	var perms *routeFilters
	if !reflect.DeepEqual(old.Permissions, nu.Permissions) {
		rf, err := compileRoutePermissions(nu.Permissions)
		if err != nil {
			return err
		}
		perms = &rf
	}
	var pc *poolConf
	if old.PoolSize != nu.PoolSize || !slices.Equal(old.PinnedAccounts, nu.PinnedAccounts) {
		var err error
		if pc, err = c.newPoolConf(&nu); err != nil {
			return err
		}
	}
	remake := perms != nil || pc != nil || !reflect.DeepEqual(old.Compression, nu.Compression)
	c.opt.Store(&nu)

	if old.Username != nu.Username || old.Password != nu.Password {
		c.mu.Lock()
		c.info.AuthRequired = nu.Username != ""
		c.mu.Unlock()
		c.recheckAuth(&nu)
	}
	if old.Name != nu.Name {
		c.rename(nu.Name)
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
	if remake {
		c.remakeRoutes(perms, pc)
	}
	return nil
}

// rename applies a reloaded cluster name (see Reload).
func (c *Cluster) rename(name string) {
	c.mu.Lock()
	if name == "" {
		c.dynamic = true
		c.mu.Unlock()
		return
	}
	c.name, c.dynamic = name, false
	c.mu.Unlock()
	c.s.SetClusterName(name)
	c.log.Info("Cluster name updated to " + name)
}

// remakeRoutes applies new permissions (perms), pooling (pc) or
// compression (already in the options) by making the routes anew, as
// upstream's reload re-makes them for pool_size and accounts: every
// route connection is closed ("Client Closed"), the routes this server
// dialed are dialed again, and the peers that dialed it are dialed
// back (at their route URL) once their connections are gone, so that
// the mesh forms again whatever side listed whom. The new connections
// negotiate compression anew, are pooled and pinned as pc says and are
// sent the local interest the new import permissions allow (the count
// is rebuilt from the server's subscriptions); the peer's interest is
// filtered by the new export permissions as it arrives.
func (c *Cluster) remakeRoutes(perms *routeFilters, pc *poolConf) {
	if perms != nil {
		// The interest count is rebuilt from scratch under the new
		// import permissions: stop listening, forget it, listen again
		// (which replays every subscription there is).
		c.mu.Lock()
		unlisten := c.unlisten
		c.mu.Unlock()
		unlisten()
	}
	c.imu.Lock()
	c.mu.Lock()
	if perms != nil {
		c.perms.Store(perms)
		c.interest = make(map[ikey]int32)
	}
	if pc != nil {
		c.poolCfg.Store(pc)
	}
	clear(c.ready) // the old routes get no more interest updates
	o := c.opts()
	routes := make([]*route, 0, len(c.all))
	var again []*url.URL
	for r := range c.all {
		routes = append(routes, r)
		if u := c.dialBackLocked(r, o); u != nil && !containsURL(again, u) {
			again = append(again, u)
		}
	}
	closed := c.closed
	c.mu.Unlock()
	c.imu.Unlock()
	if perms != nil {
		l := c.s.AddInterestListener(server.InterestFunc(c.interestChanged))
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			l()
			return
		}
		c.unlisten = l
		c.mu.Unlock()
	}
	if closed {
		return
	}
	for _, r := range routes {
		r.close(server.LinkClientClosed)
	}
	c.g.Go(func() {
		// Dial once the old connections are gone, or a new one could
		// be taken for a duplicate of one of them.
		for range 500 {
			c.mu.Lock()
			left := 0
			for _, r := range routes {
				if _, ok := c.all[r]; ok {
					left++
				}
			}
			c.mu.Unlock()
			if left == 0 || !c.g.Sleep(10*time.Millisecond) {
				break
			}
		}
		for _, u := range again {
			c.solicit(u, false)
		}
	})
}

// dialBackLocked is the URL to dial r's peer at once r is closed by a
// reload, nil when r's own reconnect does it (an explicit route) or the
// peer's route URL is unknown. c.mu is held.
func (c *Cluster) dialBackLocked(r *route, o *Options) *url.URL {
	if r.solicited {
		if r.explicit || r.url == nil {
			return nil
		}
		return r.url
	}
	if r.routeURL == "" {
		return nil
	}
	u, err := url.Parse(r.routeURL)
	if err != nil || u.Host == "" {
		return nil
	}
	for _, cu := range c.configured {
		if strings.EqualFold(cu.Host, u.Host) {
			return nil // dialed again as configured
		}
	}
	if o.Username != "" {
		u.User = url.UserPassword(o.Username, o.Password)
	}
	return u
}

// reloadRefused is the first key Reload cannot apply from a to b, nil
// when there is none.
func reloadRefused(a, b *Options) error {
	for _, k := range []struct {
		key  string
		same bool
	}{
		{"listen", a.Host == b.Host && a.Port == b.Port},
		{"tls", (a.TLSConfig == nil) == (b.TLSConfig == nil)},
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
