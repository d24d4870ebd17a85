package leaf

import (
	"net"
	"strconv"
	"time"

	"natsd.dev/server"
	"natsd.dev/server/snapshot"
)

// varzSection is the section of /varz the leaf nodes contribute: leaf and
// leafnodes.
const varzSection = "leaf"

// register puts the leaf nodes on their server's monitoring registry: the
// LEAFZ provider (/leafz, $SYS.REQ.SERVER.<id>.LEAFZ and PING.LEAFZ,
// $SYS.REQ.ACCOUNT.<acc>.LEAFZ) and the leaf section of /varz.
// unregister takes them off at Shutdown.
func (lf *Leaf) register() {
	lf.s.RegisterProvider(server.KindLeafz, server.ProviderFunc(lf.leafz))
	lf.s.RegisterVarz(varzSection, server.VarzFunc(lf.contributeVarz))
}

func (lf *Leaf) unregister() {
	lf.s.RegisterProvider(server.KindLeafz, nil)
	lf.s.RegisterVarz(varzSection, nil)
}

// Leafz describes every leaf node connection past its handshake, by
// connection id, as /leafz does: with opts.Subscriptions each with the
// interest its peer registered, with opts.Account only the connections
// bound to that account.
func (lf *Leaf) Leafz(opts *snapshot.LeafzOptions) *snapshot.Leafz {
	if opts == nil {
		opts = &snapshot.LeafzOptions{}
	}
	lz := &snapshot.Leafz{ID: lf.s.ID(), Now: time.Now().UTC(), Leafs: []*snapshot.LeafInfo{}}
	for _, ci := range lf.connections(opts.Subscriptions) {
		if opts.Account != "" && ci.Account != opts.Account {
			continue
		}
		li := &snapshot.LeafInfo{
			ID:          ci.ID,
			Name:        ci.Name,
			IsSpoke:     ci.Spoke,
			Account:     ci.Account,
			IP:          ci.IP,
			Port:        ci.Port,
			InMsgs:      ci.Stats.InMsgs,
			OutMsgs:     ci.Stats.OutMsgs,
			InBytes:     ci.Stats.InBytes,
			OutBytes:    ci.Stats.OutBytes,
			NumSubs:     uint32(ci.Stats.NumSubs),
			Subs:        ci.Subs,
			Compression: ci.Compression,
		}
		if ci.RTT > 0 {
			li.RTT = ci.RTT.String()
		}
		lz.Leafs = append(lz.Leafs, li)
	}
	lz.NumLeafs = len(lz.Leafs)
	return lz
}

// leafz is the LEAFZ provider.
func (lf *Leaf) leafz(opts *snapshot.LeafzOptions) (*snapshot.Leafz, error) {
	return lf.Leafz(opts), nil
}

// Varz is the leaf section of /varz: the listener's host, port and
// timeouts, and each remote's local account, URLs (host:port) and deny
// lists, as upstream's.
func (lf *Leaf) Varz() snapshot.LeafNodeOptsVarz {
	o := &lf.o
	var v snapshot.LeafNodeOptsVarz
	if lf.ln != nil {
		v.Host = o.Host
		if a, ok := lf.ln.Addr().(*net.TCPAddr); ok {
			v.Port = a.Port
		}
		v.AuthTimeout = o.AuthTimeout.Seconds()
		v.TLSTimeout = o.TLSTimeout.Seconds()
		tc := lf.tlsConfig.Load()
		v.TLSRequired = tc != nil
		v.TLSVerify = tc != nil && tc.ClientAuth == tlsRequireAndVerify
		v.TLSCertNotAfter = server.TLSCertNotAfter(tc)
	}
	lf.mu.Lock()
	remotes := make([]*Remote, len(lf.remotes))
	for i, r := range lf.remotes {
		remotes[i] = r.conf
	}
	lf.mu.Unlock()
	for _, r := range remotes {
		rv := snapshot.RemoteLeafOptsVarz{LocalAccount: r.Account}
		if rv.LocalAccount == "" {
			rv.LocalAccount = server.GlobalAccountName
		}
		for _, u := range r.URLs {
			host := u.Host
			if u.Port() == "" {
				host = net.JoinHostPort(u.Hostname(), strconv.Itoa(DefaultPort))
			}
			rv.URLs = append(rv.URLs, host)
		}
		if len(r.DenyExports) > 0 || len(r.DenyImports) > 0 {
			rv.Deny = &snapshot.DenyRules{Exports: r.DenyExports, Imports: r.DenyImports}
		}
		v.Remotes = append(v.Remotes, rv)
	}
	return v
}

// contributeVarz fills the leaf section of /varz and the leaf node count.
func (lf *Leaf) contributeVarz(v *snapshot.Varz) {
	v.LeafNode = lf.Varz()
	v.Leafs = lf.NumConnections()
}
