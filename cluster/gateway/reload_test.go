package gateway_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"natsd.dev/cluster/gateway"
	"natsd.dev/server/servertest"
)

// tlsOf is a gateway tls {} block presenting pki's server certificate and
// trusting the CAs of pools in both directions.
func tlsOf(pki *servertest.PKI, pools ...*servertest.PKI) *tls.Config {
	pool := x509.NewCertPool()
	for _, p := range pools {
		pool.AddCert(p.CA)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pki.Server},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, RootCAs: pool}
}

// A reload gives the gateway a new certificate and CA: a cluster that
// trusts only the new CA connects once it is applied, and the
// established connections stay.
func TestReloadTLS(t *testing.T) {
	pki1, pki2 := servertest.NewPKI(t), servertest.NewPKI(t)
	b := startNode(t, "b1", "B", gateway.Options{TLSConfig: tlsOf(pki1, pki1)})
	a := startNode(t, "a1", "A", gateway.Options{TLSConfig: tlsOf(pki1, pki1), Gateways: []gateway.RemoteGateway{remoteTo("B", b)}})
	waitGateways(t, a, "B")
	waitGateways(t, b, "A")

	c := startNode(t, "c1", "C", gateway.Options{TLSConfig: tlsOf(pki2, pki2), Gateways: []gateway.RemoteGateway{remoteTo("B", b)}})
	servertest.WaitUntil(t, "C's handshake refused", func() bool {
		return strings.Contains(c.log.String(), "TLS gateway handshake error")
	})

	ch, err := b.gw.Reload(&gateway.Options{Name: "B", Host: "127.0.0.1", TLSConfig: tlsOf(pki2, pki1, pki2)})
	if err != nil || len(ch) != 1 || ch[0].String() != "gateway tls" {
		t.Fatalf("reload: %v %v", ch, err)
	}
	servertest.WaitUntil(t, "C connected to B", func() bool {
		return slices.Contains(c.gw.OutboundGateways(), "B") && slices.Contains(b.gw.InboundGateways(), "C")
	})
	if !slices.Contains(a.gw.OutboundGateways(), "B") || !slices.Contains(b.gw.OutboundGateways(), "A") {
		t.Errorf("the established A-B connections: %v %v", a.gw.OutboundGateways(), b.gw.OutboundGateways())
	}
}

// A reload adds a remote cluster (it is dialed) and turns
// reject_unknown_cluster on (a cluster not configured is refused).
func TestReloadRemoteAddedAndRejectUnknown(t *testing.T) {
	b := startNode(t, "b1", "B", gateway.Options{})
	a := startNode(t, "a1", "A", gateway.Options{})
	ch, err := a.gw.Reload(&gateway.Options{Name: "A", Host: "127.0.0.1", Gateways: []gateway.RemoteGateway{remoteTo("B", b)}})
	if err != nil || len(ch) != 1 || ch[0].String() != `gateway remote "B" added` {
		t.Fatalf("add: %v %v", ch, err)
	}
	waitGateways(t, a, "B")

	ch, err = b.gw.Reload(&gateway.Options{Name: "B", Host: "127.0.0.1", RejectUnknown: true})
	if err != nil || len(ch) != 1 || ch[0].String() != "gateway reject_unknown_cluster = true" {
		t.Fatalf("reject_unknown: %v %v", ch, err)
	}
	c := startNode(t, "c1", "C", gateway.Options{Gateways: []gateway.RemoteGateway{remoteTo("B", b)}})
	servertest.WaitUntil(t, "C refused", func() bool {
		return strings.Contains(b.log.String(), `Rejecting connection from gateway "C"`)
	})
	if slices.Contains(b.gw.InboundGateways(), "C") {
		t.Error("C's connection accepted")
	}
	_ = c
}

// What a reload cannot change is refused, naming the field, and nothing
// changes.
func TestReloadRefused(t *testing.T) {
	b := startNode(t, "b1", "B", gateway.Options{Username: "gw", Password: "p"})
	a := startNode(t, "a1", "A", gateway.Options{Gateways: []gateway.RemoteGateway{remoteTo("B", b)}})
	base := gateway.Options{Name: "A", Host: "127.0.0.1", Gateways: []gateway.RemoteGateway{remoteTo("B", b)}}
	other := remoteTo("B", b)
	other.URLs = append(other.URLs, &url.URL{Scheme: "nats", Host: "127.0.0.1:1"})
	pki := servertest.NewPKI(t)
	for _, tc := range []struct {
		edit func(o *gateway.Options)
		want string
	}{
		{func(o *gateway.Options) { o.Name = "Z" }, `config reload not supported for Gateway: field "Name": old=A, new=Z`},
		{func(o *gateway.Options) { o.Password = "x" }, `config reload not supported for Gateway: field "Password": old=, new=x`},
		{func(o *gateway.Options) { o.Gateways = nil }, `config reload not supported for Gateway: field "Gateways": old=[B], new=[]`},
		{func(o *gateway.Options) { o.Gateways = []gateway.RemoteGateway{other} }, `config reload not supported for Gateway: field "Gateways"`},
		{func(o *gateway.Options) { o.TLSConfig = tlsOf(pki, pki) }, `config reload not supported for Gateway: field "TLSConfig": old=false, new=true`},
		{func(o *gateway.Options) { o.Port = -1 }, `config reload not supported for Gateway: field "Port": old=0, new=-1`},
	} {
		o := base
		tc.edit(&o)
		_, err := a.gw.Reload(&o)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || !errors.Is(err, gateway.ErrReloadUnsupported) {
			t.Errorf("got %v, want %s", err, tc.want)
		}
	}
	if ch, err := a.gw.Reload(&base); err != nil || len(ch) != 0 {
		t.Errorf("an unchanged block: %v %v", ch, err)
	}
	if ch, err := gateway.CheckReload(nil, &gateway.Options{Port: -1}); err != nil || len(ch) != 0 {
		t.Errorf("no gateway before or after: %v %v", ch, err)
	}
}

// A remote's own tls {} block reloads (logged by the remote's name);
// turning it on or off is refused.
func TestCheckReloadRemoteTLS(t *testing.T) {
	pki1, pki2 := servertest.NewPKI(t), servertest.NewPKI(t)
	u := &url.URL{Scheme: "nats", Host: "127.0.0.1:7222"}
	with := func(tc *tls.Config) *gateway.Options {
		return &gateway.Options{Name: "A", Port: 7222, TLSConfig: tlsOf(pki1, pki1),
			Gateways: []gateway.RemoteGateway{{Name: "B", URLs: []*url.URL{u}, TLSConfig: tc}}}
	}
	ch, err := gateway.CheckReload(with(tlsOf(pki1, pki1)), with(tlsOf(pki2, pki2)))
	if err != nil || len(ch) != 1 || ch[0].String() != `gateway remote "B" tls` {
		t.Errorf("remote tls: %v %v", ch, err)
	}
	if _, err := gateway.CheckReload(with(tlsOf(pki1, pki1)), with(nil)); err == nil || !strings.Contains(err.Error(), `field "Gateways": old=B tls on, new=B tls off`) {
		t.Errorf("remote tls off: %v", err)
	}
}
