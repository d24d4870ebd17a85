package route_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"natsd.dev/cluster/route"
	"natsd.dev/server/servertest"
)

// TestReloadAuthorization: a new password on A closes the route B dialed
// with the old one ('Authorization Violation'); B dialing with the new one
// gets the route back. Timers reload without touching the route.
func TestReloadAuthorization(t *testing.T) {
	ao := route.Options{Name: "test", Host: "127.0.0.1", Username: "u", Password: "one"}
	a := startNode(t, "A", ao)
	b := startNode(t, "B", route.Options{Name: "test"})
	withCreds := func(pass string) *url.URL {
		u := a.routeURL()
		u.User = url.UserPassword("u", pass)
		return u
	}
	b.c.SetRoutes([]*url.URL{withCreds("one")})
	waitRoutes(t, 1, a, b)

	timers := ao
	timers.PingInterval, timers.MaxPingsOut, timers.ConnectRetries, timers.ConnectBackoff = 5*time.Second, 4, 2, true
	if err := a.c.Reload(&timers); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(a.log.String(), "Router connection closed") {
		t.Fatalf("reloading timers closed a route:\n%s", a.log.String())
	}

	nu := timers
	nu.Password = "two"
	if err := a.c.Reload(&nu); err != nil {
		t.Fatal(err)
	}
	servertest.WaitUntilWithin(t, 5*time.Second, "the route closed on A", func() bool {
		return strings.Contains(a.log.String(), "Route connection not authorized after reload") &&
			strings.Contains(a.log.String(), "Router connection closed: Authentication Failure")
	})
	b.c.SetRoutes([]*url.URL{withCreds("two")})
	waitRoutes(t, 1, a, b)
}

// TestReloadRefused: the keys that shape the routes are refused, and the
// options in force stay.
func TestReloadRefused(t *testing.T) {
	o := route.Options{Name: "test"}
	a := startNode(t, "A", o)
	for name, change := range map[string]func(o *route.Options){
		"name":        func(o *route.Options) { o.Name = "other" },
		"pool_size":   func(o *route.Options) { o.PoolSize = 5 },
		"accounts":    func(o *route.Options) { o.PinnedAccounts = []string{"$G"} },
		"compression": func(o *route.Options) { o.Compression.Mode = route.CompressionS2Fast },
		"permissions": func(o *route.Options) {
			o.Permissions = &route.RoutePermissions{Import: &route.SubjectPermission{Allow: []string{"a"}}}
		},
	} {
		nu := o
		nu.Host = "127.0.0.1"
		change(&nu)
		err := a.c.Reload(&nu)
		if !errors.Is(err, route.ErrReloadUnsupported) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
