package route_test

import (
	"errors"
	"log/slog"
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

// TestReloadName: a reloaded name keeps the route up, as upstream's
// does, and a new peer of the old name is refused.
func TestReloadName(t *testing.T) {
	a := startNode(t, "A", route.Options{Name: "one"})
	b := startNode(t, "B", route.Options{Name: "one", Routes: []*url.URL{a.routeURL()}})
	waitRoutes(t, 1, a, b)
	// Every pooled connection is up first: one still dialing would carry
	// the new name and be refused by B, as upstream's would.
	servertest.WaitUntilWithin(t, 5*time.Second, "the pool", func() bool {
		return a.c.NumRouteConns() == route.DefaultPoolSize && b.c.NumRouteConns() == route.DefaultPoolSize
	})
	nu := a.o
	nu.Name = "two"
	if err := a.c.Reload(&nu); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(a.log.String(), "Cluster name updated to two") || a.c.Name() != "two" || a.s.ClusterName() != "two" {
		t.Fatalf("name %q/%q, log:\n%s", a.c.Name(), a.s.ClusterName(), a.log.String())
	}
	waitRoutes(t, 1, a, b)
	crossTest(t, b, a, []string{"x"}, 1, []string{"x"}, "x")()
	c := startNode(t, "C", route.Options{Name: "one", Routes: []*url.URL{a.routeURL()}})
	servertest.WaitUntilWithin(t, 5*time.Second, "the old name refused", func() bool {
		return strings.Contains(a.log.String(), `Rejecting connection, cluster name "one" does not match "two"`)
	})
	if n := c.c.NumRoutes(); n != 0 {
		t.Fatalf("C has %d routes to a cluster of another name", n)
	}
}

// TestReloadRefused: the keys that shape the cluster listener are
// refused, and the options in force stay.
func TestReloadRefused(t *testing.T) {
	o := route.Options{Name: "test"}
	a := startNode(t, "A", o)
	for name, change := range map[string]func(o *route.Options){
		"listen": func(o *route.Options) { o.Port = 1 },
	} {
		nu := o
		nu.Host = "127.0.0.1"
		change(&nu)
		err := a.c.Reload(&nu)
		if !errors.Is(err, route.ErrReloadUnsupported) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v", name, err)
		}
	}
	nu := o
	nu.Host = "127.0.0.1"
	nu.PinnedAccounts = []string{"NOPE"}
	if err := a.c.Reload(&nu); err == nil || !strings.Contains(err.Error(), `"NOPE"`) {
		t.Errorf("pinning a missing account: %v", err)
	}
}

// TestReloadPermissionsRemakesRoutes: A first exports only "end" (B's
// interest in "x" is refused), then a reload lets everything cross, and
// then one refuses "x" again: the routes are made anew each time and
// "x" crosses only in between; A's import permissions reload likewise.
func TestReloadPermissionsRemakesRoutes(t *testing.T) {
	onlyEnd := &route.RoutePermissions{Export: &route.SubjectPermission{Allow: []string{"end"}}}
	a, b := permPair(t, onlyEnd)
	// Each phase's subscriber goes before the next: the routes made anew
	// would replay its interest while the next phase counts its own.
	crossTest(t, a, b, []string{"x"}, 0, []string{"x"})()

	ao := a.o
	ao.Permissions = nil
	if err := a.c.Reload(&ao); err != nil {
		t.Fatal(err)
	}
	servertest.WaitUntilWithin(t, 5*time.Second, "the routes closed", func() bool {
		return strings.Contains(a.log.String(), "Router connection closed: Client Closed")
	})
	waitRoutes(t, 1, a, b)
	crossTest(t, a, b, []string{"x"}, 1, []string{"x"}, "x")()

	// A's import now refuses "y": A no longer announces its interest in
	// it, so B does not send it.
	ao.Permissions = &route.RoutePermissions{Import: &route.SubjectPermission{Deny: []string{"y"}}}
	if err := a.c.Reload(&ao); err != nil {
		t.Fatal(err)
	}
	servertest.WaitUntilWithin(t, 5*time.Second, "the routes closed again", func() bool {
		return strings.Count(a.log.String(), "Router connection closed: Client Closed") >= 2
	})
	waitRoutes(t, 1, a, b)
	crossTest(t, b, a, []string{"y", "z"}, 1, []string{"y", "z"}, "z")
}

// TestReloadPoolSizeRemakesRoutes: a mesh of three with pool_size 3
// reloaded to 5 on each server (the seed last, so that the others'
// routes to it fail with "Mismatch route pool size" meanwhile) ends
// with five connections per peer and messages crossing.
func TestReloadPoolSizeRemakesRoutes(t *testing.T) {
	a, b, c := mesh3(t)
	want := func(n int) func() bool {
		return func() bool {
			for _, x := range []*node{a, b, c} {
				if x.c.NumRouteConns() != 2*n || x.c.NumRoutes() != 2 {
					return false
				}
			}
			return true
		}
	}
	servertest.WaitUntilWithin(t, 5*time.Second, "3 connections per peer", want(3))
	for _, x := range []*node{b, c, a} {
		o := x.o
		o.PoolSize = 5
		if err := x.c.Reload(&o); err != nil {
			t.Fatal(err)
		}
	}
	servertest.WaitUntilWithin(t, 15*time.Second, "5 connections per peer", want(5))
	crossTest(t, b, c, []string{"p"}, 1, []string{"p"}, "p")
}

// TestReloadTraceRoutesUp: a server reload that turns trace on (a new
// logger that takes trace records) traces the route already up, as
// those made afterwards.
func TestReloadTraceRoutesUp(t *testing.T) {
	a := startNode(t, "A", route.Options{Name: "trace"})
	b := startNode(t, "B", route.Options{Name: "trace", Routes: []*url.URL{a.routeURL()}})
	waitRoutes(t, 1, a, b)
	so := a.s.Options()
	so.Logger = slog.New(&lineHandler{w: a.log, trace: true})
	if err := a.s.Reload(so); err != nil {
		t.Fatal(err)
	}
	nc := b.connect(t)
	if _, err := nc.SubscribeSync("after.reload"); err != nil {
		t.Fatal(err)
	}
	nc.Flush()
	servertest.WaitUntilWithin(t, 5*time.Second, "the route's trace line", func() bool {
		return strings.Contains(a.log.String(), "<<- [RS+ $G after.reload]")
	})
}
