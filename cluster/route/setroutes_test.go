package route_test

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"natsd.dev/cluster/route"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// TestSetRoutes reloads the routes of A: a route added is dialed and
// carries messages (nats.go on both ends), a route removed is closed with
// "Route Removed" and not dialed again.
func TestSetRoutes(t *testing.T) {
	a := startNode(t, "A", route.Options{Name: "test"})
	b := startNode(t, "B", route.Options{Name: "test"})
	c := startNode(t, "C", route.Options{Name: "test"})

	a.c.SetRoutes([]*url.URL{b.routeURL()})
	waitRoutes(t, 1, a, b)
	// The same list again changes nothing.
	// (TestSetRoutesStopsDialing checks that it dials nothing.)
	a.c.SetRoutes([]*url.URL{b.routeURL()})
	waitRoutes(t, 1, a, b)

	a.c.SetRoutes(nil)
	waitRoutes(t, 0, a, b)
	servertest.WaitUntilWithin(t, 2*time.Second, "the close reason in A's log", func() bool {
		return strings.Contains(a.log.String(), "Router connection closed: Route Removed")
	})
	if !strings.Contains(a.log.String(), "Removed route "+b.routeURL().String()) {
		t.Errorf("no %q in A's log", "Removed route "+b.routeURL().String())
	}
	// An explicit route is redialed after about a second; a removed one
	// never is (TestSetRoutesStopsDialing checks it on a fake clock).

	a.c.SetRoutes([]*url.URL{c.routeURL()})
	waitRoutes(t, 1, a, c)
	// A pooled connection A was dialing when B was removed may have
	// reached B's accept before A closed it as removed: B counts it until
	// it reads the close.
	waitRoutes(t, 0, b)
	sub := c.connect(t)
	s, err := sub.SubscribeSync("reload.routes")
	if err != nil {
		t.Fatal(err)
	}
	sub.Flush()
	waitInterest(t, a, 1)
	p := a.connect(t)
	p.Publish("reload.routes", []byte("hi"))
	p.Flush()
	if m, err := s.NextMsg(2 * time.Second); err != nil || string(m.Data) != "hi" {
		t.Fatalf("message over the added route: %v %v", m, err)
	}
	v := a.c.ClusterVarz()
	if len(v.URLs) != 1 || v.URLs[0] != c.c.Addr().String() {
		t.Errorf("/varz cluster urls %v", v.URLs)
	}
}

// countingDialer fails every dial and counts them.
type countingDialer struct{ n atomic.Int64 }

func (d *countingDialer) DialContext(context.Context, string, string) (net.Conn, error) {
	d.n.Add(1)
	return nil, errors.New("connection refused")
}

// TestSetRoutesStopsDialing removes a route that was never reached: its
// connect loop stops, and adding it back dials it again. The loops run
// in a synctest bubble on a fake clock, with dials that always fail.
func TestSetRoutesStopsDialing(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	dead := &url.URL{Scheme: "nats-route", Host: "127.0.0.1:1"}
	synctest.Test(t, func(t *testing.T) {
		d := &countingDialer{}
		c, err := route.Start(s, &route.Options{Name: "test", Port: -1, Routes: []*url.URL{dead}, Dialer: d})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		synctest.Wait()
		if d.n.Load() != 1 {
			t.Fatalf("%d dials at start, want 1", d.n.Load())
		}
		time.Sleep(3 * time.Second) // an attempt a second
		synctest.Wait()
		n := d.n.Load()
		if n != 4 {
			t.Fatalf("%d dials after 3s, want 4", n)
		}
		// The same list again changes nothing.
		c.SetRoutes([]*url.URL{dead})
		synctest.Wait()
		if m := d.n.Load(); m != n {
			t.Fatalf("setting the same routes dialed %d times", m-n)
		}
		c.SetRoutes(nil)
		// The loop checks the list before each attempt: it ends at the
		// next, with every goroutine of the cluster idle.
		time.Sleep(time.Minute)
		synctest.Wait()
		if m := d.n.Load(); m != n {
			t.Fatalf("the removed route was dialed %d more times", m-n)
		}
		c.SetRoutes([]*url.URL{dead})
		synctest.Wait()
		if m := d.n.Load(); m != n+1 {
			t.Fatalf("the route added back was dialed %d times, want once at once", m-n)
		}
	})
}

// TestSetRoutesNewCredentials changes the credentials of a route: the old
// connections close ("Route Removed") and the route is dialed again with
// the new URL, once.
func TestSetRoutesNewCredentials(t *testing.T) {
	b := startNode(t, "B", route.Options{Name: "test"})
	a := startNode(t, "A", route.Options{Name: "test", Routes: []*url.URL{b.routeURL()}})
	// It failed once under load (B's interest not on A within 5 s) and
	// not in 200 runs since: the state of both sides tells why next time.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("A's routez %+v\nB's routez %+v", a.c.Routez(nil), b.c.Routez(nil))
			t.Logf("A's log:\n%s\nB's log:\n%s", a.log.String(), b.log.String())
		}
	})
	waitRoutes(t, 1, a, b)
	// The whole pool first: a pooled connection still being dialed when
	// the route changes would be closed as removed on top of the pool.
	servertest.WaitUntil(t, "the full pool", func() bool {
		return a.c.NumRouteConns() == route.DefaultPoolSize && b.c.NumRouteConns() == route.DefaultPoolSize
	})
	withUser := b.routeURL()
	withUser.User = url.UserPassword("ruser", "secret")
	a.c.SetRoutes([]*url.URL{withUser})
	servertest.WaitUntilWithin(t, 2*time.Second, "the close reason in A's log", func() bool {
		return strings.Contains(a.log.String(), "Router connection closed: Route Removed")
	})
	// The old connections are gone (not redialed: their URL is no longer
	// listed, and TestSetRoutesStopsDialing checks that a URL no longer
	// listed is not redialed); the route left is the new one.
	waitRoutes(t, 1, a, b)
	if n := strings.Count(a.log.String(), "Route Removed"); n == 0 || n > 3 {
		t.Fatalf("%d routes closed as removed, want 1 to the pool size", n)
	}
	sub := b.connect(t)
	s, _ := sub.SubscribeSync("creds")
	sub.Flush()
	waitInterest(t, a, 1)
	p := a.connect(t)
	p.Publish("creds", nil)
	p.Flush()
	if _, err := s.NextMsg(2 * time.Second); err != nil {
		t.Fatal(err)
	}
}
