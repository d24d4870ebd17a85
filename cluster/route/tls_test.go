package route_test

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"natsd.dev/cluster/route"
	"natsd.dev/server/servertest"
)

func TestRouteTLS(t *testing.T) {
	ca := servertest.NewPKI(t)
	a := startNode(t, "A", route.Options{Name: "test", TLSConfig: ca.MutualConfig()})
	b := startNode(t, "B", route.Options{Name: "test", TLSConfig: ca.MutualConfig(), Routes: []*url.URL{a.routeURL()}})
	c := startNode(t, "C", route.Options{Name: "test", TLSConfig: ca.MutualConfig(), Routes: []*url.URL{a.routeURL()}})
	waitRoutes(t, 2, a, b, c)

	sub := c.connect(t)
	s, _ := sub.SubscribeSync("secure")
	sub.Flush()
	waitInterest(t, b, 1)
	pub := b.connect(t)
	pub.Publish("secure", []byte("over tls"))
	if m, err := s.NextMsg(2 * time.Second); err != nil || string(m.Data) != "over tls" {
		t.Fatalf("msg %v err %v", m, err)
	}

	// A server whose certificate another CA signed is refused, and it
	// refuses the seed's certificate too: verification goes both ways.
	other := servertest.NewPKI(t)
	d := startNode(t, "D", route.Options{Name: "test", TLSConfig: other.MutualConfig(), Routes: []*url.URL{a.routeURL()}})
	servertest.WaitUntilWithin(t, 5*time.Second, "handshake failure on both sides", func() bool {
		return strings.Contains(d.log.String(), "TLS route handshake error") &&
			strings.Contains(a.log.String(), "TLS route handshake error")
	})
	if d.c.NumRoutes() != 0 || a.c.NumRoutes() != 2 {
		t.Fatalf("routes D %d A %d", d.c.NumRoutes(), a.c.NumRoutes())
	}
	// A plain-text peer is refused as well.
	e := startNode(t, "E", route.Options{Name: "test", Routes: []*url.URL{a.routeURL()}})
	servertest.WaitUntilWithin(t, 5*time.Second, "A to drop E's plain-text route", func() bool {
		return strings.Contains(e.log.String(), "Route handshake error")
	})
	if e.c.NumRoutes() != 0 {
		t.Fatal("plain route accepted by a TLS cluster")
	}
}

// TestRouteTLSWithUpstream: a TLS route between natsd and upstream, each
// side dialing, certificates verified both ways.
func TestRouteTLSWithUpstream(t *testing.T) {
	bin := servertest.UpstreamBinary(t)
	ca := servertest.NewPKI(t)
	for _, natsdDials := range []bool{true, false} {
		t.Run(fmt.Sprintf("natsd dials %v", natsdDials), func(t *testing.T) {
			ports := servertest.FreePorts(t, 2)
			f := ca.Files()
			caFile, certFile, keyFile := f.CA, f.Cert, f.Key
			var nd *node
			routes := ""
			if !natsdDials {
				nd = startNode(t, "natsd", route.Options{Name: "tls", TLSConfig: ca.MutualConfig()})
				routes = ", routes: [" + nd.routeURL().String() + "]"
			}
			conf := fmt.Sprintf("listen: 127.0.0.1:%d\ncluster { name: tls, listen: 127.0.0.1:%d%s\n tls { ca_file: %q, cert_file: %q, key_file: %q, verify: true } }\n",
				ports[0], ports[1], routes, caFile, certFile, keyFile)
			path := filepath.Join(t.TempDir(), "up.conf")
			if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
				t.Fatal(err)
			}
			servertest.StartProcess(t, bin, "-c", path)
			if natsdDials {
				servertest.WaitListening(t, fmt.Sprintf("127.0.0.1:%d", ports[1]))
				nd = startNode(t, "natsd", route.Options{Name: "tls", TLSConfig: ca.MutualConfig(),
					Routes: []*url.URL{{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", ports[1])}}})
			}
			servertest.WaitUntilWithin(t, 5*time.Second, "TLS routes to upstream", func() bool { return len(nd.c.Routez(nil).Routes) == route.DefaultPoolSize })
			up := servertest.ConnectWhenReady(t, fmt.Sprintf("nats://127.0.0.1:%d", ports[0]))
			s, _ := up.SubscribeSync("tls.x")
			up.Flush()
			waitInterest(t, nd, 1)
			ours := nd.connect(t)
			ours.Publish("tls.x", []byte("secure"))
			if m, err := s.NextMsg(2 * time.Second); err != nil || string(m.Data) != "secure" {
				t.Fatalf("natsd -> upstream over TLS: %v", err)
			}
		})
	}
}
