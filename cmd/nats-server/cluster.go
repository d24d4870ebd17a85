package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"

	"natsd.dev/cluster"
)

// loadCluster layers the cluster flags over the cluster {} block of cfg
// (parsed by the block the command registers for the cluster module).
// Clustering is on when the result has a listener (Port != -1).
func loadCluster(cfg *fileConfig, f *flags) (*cluster.Options, error) {
	o := cluster.DefaultOptions()
	if cfg.cluster != nil {
		o = *cfg.cluster
	}
	if err := f.applyCluster(&o); err != nil {
		return nil, err
	}
	return &o, nil
}

// clusterOn reports whether o asks for a cluster listener.
func clusterOn(o *cluster.Options) bool { return o != nil && o.Port != -1 }

// applyCluster overrides o with the cluster flags that were given, as
// upstream merges them: --cluster (or --cluster_listen) replaces the
// listen address and the route credentials, --routes the routes; the
// others replace their key.
func (f *flags) applyCluster(o *cluster.Options) error {
	listen := f.cluster
	if f.clusterList != "" {
		listen = f.clusterList
	}
	if listen != "" {
		if err := applyClusterURL(o, listen); err != nil {
			return err
		}
	}
	if f.routes != "" {
		var routes []*url.URL
		for r := range strings.SplitSeq(f.routes, ",") {
			u, err := cluster.ParseRouteURL(r)
			if err != nil {
				return fmt.Errorf("--routes: %w", err)
			}
			routes = append(routes, u)
		}
		o.Routes = routes
	}
	if f.set["cluster_name"] {
		if strings.ContainsAny(f.clusterName, " \n") {
			return errors.New("cluster name cannot contain spaces or new lines")
		}
		o.Name = f.clusterName
	}
	if f.set["cluster_advertise"] {
		o.Advertise = f.clusterAdvertise
	}
	if f.set["no_advertise"] && f.noAdvertise {
		o.NoAdvertise = true
	}
	if f.set["connect_retries"] {
		o.ConnectRetries = f.connectRetries
	}
	return nil
}

// applyClusterURL takes a --cluster URL (nats://[user:pass@]host:port).
// Port -1 picks a free one, as in the file (Go's URL parser refuses it,
// so upstream's flag does not take it). Without credentials it clears
// those of the file, as upstream does.
func applyClusterURL(o *cluster.Options, s string) error {
	random := strings.HasSuffix(s, ":-1")
	if random {
		s = strings.TrimSuffix(s, "-1") + "0"
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("--cluster: %w", err)
	}
	host, port, err := cluster.SplitHostPort(u.Host)
	if err != nil {
		return fmt.Errorf("--cluster %q: %w", s, err)
	}
	if random {
		port = -1
	}
	o.Host = host
	switch port {
	case -1:
		o.Port = 0
	case 0:
		o.Port = -1
	default:
		o.Port = port
	}
	o.Username, o.Password = "", ""
	if u.User != nil {
		pass, ok := u.User.Password()
		if !ok {
			return errors.New("expected cluster password to be set")
		}
		o.Username, o.Password = u.User.Username(), pass
	}
	return nil
}

// sameCluster reports whether two parses configure the same cluster; TLS
// settings compare as the client listener's do.
func sameCluster(a, b *cluster.Options) bool {
	if a == nil || b == nil {
		return a == b
	}
	ca, cb := *a, *b
	ta, tb := ca.TLSConfig, cb.TLSConfig
	ca.TLSConfig, cb.TLSConfig = nil, nil
	return reflect.DeepEqual(ca, cb) && sameTLS(ta, tb) && sameRoots(ta, tb)
}

// withoutRoutes is a copy of o without its routes, nil for nil.
func withoutRoutes(o *cluster.Options) *cluster.Options {
	if o == nil {
		return nil
	}
	c := *o
	c.Routes = nil
	return &c
}

// sameRoutes reports whether two parses list the same routes, in the
// same order (URL text, credentials included).
func sameRoutes(a, b *cluster.Options) bool {
	var ra, rb []*url.URL
	if a != nil {
		ra = a.Routes
	}
	if b != nil {
		rb = b.Routes
	}
	return slices.EqualFunc(ra, rb, func(x, y *url.URL) bool { return x.String() == y.String() })
}

// sameRoots compares the CAs that verify the servers a route dials.
func sameRoots(a, b *tls.Config) bool {
	if a == nil || b == nil {
		return a == b
	}
	if (a.RootCAs == nil) != (b.RootCAs == nil) {
		return false
	}
	return a.RootCAs == nil || a.RootCAs.Equal(b.RootCAs)
}

// startCluster starts the cluster listener and the routes when the
// configuration asks for them; routes without a listener are ignored, as
// upstream does.
func (p *process) startCluster() error {
	co := p.co
	if !clusterOn(co) {
		if co != nil && len(co.Routes) > 0 {
			p.logs.log.Warn("Routes are ignored without a cluster listener (cluster { listen } or --cluster)")
		}
		return nil
	}
	c, err := cluster.Start(p.srv, co)
	if err != nil {
		return err
	}
	p.cl = c
	return nil
}
