package cluster

import (
	"net/url"

	"natsd.dev/cluster/route"
	"natsd.dev/confparse"
	"natsd.dev/server"
)

// Cluster is route.Cluster: the route side of one server.
type Cluster = route.Cluster

// Options is route.Options: the cluster {} block and the cluster flags.
type Options = route.Options

// Start is route.Start: it brings the routes of s up.
func Start(s *server.Server, o *Options) (*Cluster, error) { return route.Start(s, o) }

// DefaultOptions is route.DefaultOptions.
func DefaultOptions() Options { return route.DefaultOptions() }

// ParseConfig is route.ParseConfig: it turns a cluster {} block into
// Options.
func ParseConfig(e *confparse.Entry) (o *Options, warnings confparse.ErrorList, err error) {
	return route.ParseConfig(e)
}

// ParseRouteURL is route.ParseRouteURL.
func ParseRouteURL(s string) (*url.URL, error) { return route.ParseRouteURL(s) }

// SplitHostPort is route.SplitHostPort.
func SplitHostPort(s string) (host string, port int, err error) { return route.SplitHostPort(s) }
