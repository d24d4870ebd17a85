package gateway

import (
	"net"
	"strconv"
	"time"

	"natsd.dev/server"
	"natsd.dev/server/snapshot"
)

// varzSection is the section of /varz the gateway contributes.
const varzSection = "gateway"

// register puts the gateway on its server's monitoring registry: the
// GATEWAYZ provider (/gatewayz and $SYS...GATEWAYZ) and the gateway
// section of /varz. unregister takes them off.
func (gw *Gateway) register() {
	gw.s.RegisterProvider(server.KindGatewayz, server.ProviderFunc(gw.gatewayz))
	gw.s.RegisterVarz(varzSection, server.VarzFunc(gw.contributeVarz))
}

func (gw *Gateway) unregister() {
	gw.s.RegisterProvider(server.KindGatewayz, nil)
	gw.s.RegisterVarz(varzSection, nil)
}

// gatewayz is the GATEWAYZ provider: the outbound connection to each
// remote cluster and the inbound ones by cluster, with upstream's names;
// o.Name (gw_name) keeps one remote cluster. Accounts (accs) are not
// reported yet.
func (gw *Gateway) gatewayz(o *snapshot.GatewayzOptions) (*snapshot.Gatewayz, error) {
	z := &snapshot.Gatewayz{
		ID:               gw.s.ID(),
		Now:              time.Now().UTC(),
		Name:             gw.o.Name,
		Host:             gw.o.Host,
		Port:             gw.ln.Addr().(*net.TCPAddr).Port,
		OutboundGateways: map[string]*snapshot.RemoteGatewayz{},
		InboundGateways:  map[string][]*snapshot.RemoteGatewayz{},
	}
	keep := func(name string) bool { return o == nil || o.Name == "" || o.Name == name }
	gw.mu.Lock()
	var out, in []*conn
	for c := range gw.all {
		if c.registered && keep(c.remoteName) {
			if c.outbound {
				out = append(out, c)
			} else {
				in = append(in, c)
			}
		}
	}
	configured := map[string]bool{}
	for name, r := range gw.remotes {
		configured[name] = !r.implicit
	}
	gw.mu.Unlock()
	now := time.Now()
	for _, c := range out {
		z.OutboundGateways[c.remoteName] = &snapshot.RemoteGatewayz{IsConfigured: configured[c.remoteName], Connection: c.connInfo(now)}
	}
	for _, c := range in {
		z.InboundGateways[c.remoteName] = append(z.InboundGateways[c.remoteName],
			&snapshot.RemoteGatewayz{IsConfigured: configured[c.remoteName], Connection: c.connInfo(now)})
	}
	return z, nil
}

// connInfo describes the connection as /gatewayz does.
func (c *conn) connInfo(now time.Time) *snapshot.ConnInfo {
	st := c.link.Stats()
	ci := &snapshot.ConnInfo{
		Cid:          c.link.ID(),
		Start:        st.Start,
		LastActivity: st.LastActivity,
		Uptime:       now.Sub(st.Start).Round(time.Second).String(),
		Pending:      st.Pending,
		InMsgs:       st.InMsgs,
		OutMsgs:      st.OutMsgs,
		InBytes:      st.InBytes,
		OutBytes:     st.OutBytes,
		NumSubs:      uint32(st.NumSubs),
		Name:         c.remoteID,
	}
	if !st.LastActivity.IsZero() {
		ci.Idle = now.Sub(st.LastActivity).Round(time.Second).String()
	}
	if host, port, err := net.SplitHostPort(c.addr); err == nil {
		ci.IP = host
		ci.Port, _ = strconv.Atoi(port)
	}
	return ci
}

// contributeVarz fills the gateway section of /varz.
func (gw *Gateway) contributeVarz(v *snapshot.Varz) {
	g := snapshot.GatewayOptsVarz{
		Name:           gw.o.Name,
		Host:           gw.o.Host,
		Port:           gw.ln.Addr().(*net.TCPAddr).Port,
		AuthTimeout:    gw.o.AuthTimeout.Seconds(),
		TLSTimeout:     gw.o.TLSTimeout.Seconds(),
		TLSRequired:    gw.o.TLSConfig != nil,
		TLSVerify:      gw.o.TLSConfig != nil,
		Advertise:      gw.o.Advertise,
		ConnectRetries: gw.o.ConnectRetries,
		RejectUnknown:  gw.o.RejectUnknown,
	}
	for _, rg := range gw.o.Gateways {
		g.Gateways = append(g.Gateways, rg.Name)
	}
	v.Gateway = g
}
