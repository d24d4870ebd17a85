package main

import (
	"net/url"
	"slices"

	"natsd.dev/cluster/gateway"
	"natsd.dev/cluster/leaf"
)

// planLeafLinks adds to planLeaf the keys of the leafnodes {} block
// itself that reload (leaf.CheckReload let them through): compression
// and tls { handshake_first }, as upstream, and the authorization's
// users and secrets, beyond upstream.
func planLeafLinks(p *reloadPlan, a, b *leaf.Options) {
	if a == nil || b == nil {
		return
	}
	for _, key := range leaf.BlockChanges(a, b) {
		p.change(key, "")
		p.leaf = true
	}
	// A remote's tls {} block whose content changed: logged by the
	// remote (its next handshakes use it).
	for _, rb := range b.Remotes {
		if rb.TLSConfig == nil {
			continue
		}
		for _, ra := range a.Remotes {
			if ra.TLSConfig != nil && sameRemoteTarget(ra, rb) &&
				(!sameTLS(ra.TLSConfig, rb.TLSConfig) || !sameRoots(ra.TLSConfig, rb.TLSConfig)) {
				p.change(leaf.RemoteChange{Remote: rb, Change: "tls"}.String(), "")
				p.leaf = true
				break
			}
		}
	}
}

// sameRemoteTarget reports whether two remotes dial the same URLs for
// the same local account.
func sameRemoteTarget(a, b *leaf.Remote) bool {
	acc := func(r *leaf.Remote) string {
		if r.Account == "" {
			return "$G"
		}
		return r.Account
	}
	return acc(a) == acc(b) && slices.EqualFunc(a.URLs, b.URLs, func(x, y *url.URL) bool { return x.String() == y.String() })
}

// The reload of the gateway {} block: planGateway says what a reload
// changes or refuses (gateway.CheckReload), reloadGateway applies it to
// the running gateways (gateway.Gateway.Reload).

// planGateway compares the gateway {} blocks: the content of the tls {}
// blocks (upstream's one reloadable part), reject_unknown_cluster and
// remote clusters added apply; anything else is refused, naming the
// field.
func planGateway(p *reloadPlan, a, b *gateway.Options) {
	changes, err := gateway.CheckReload(a, b)
	if err != nil {
		p.refuse("gateway", err)
		return
	}
	for _, c := range changes {
		p.change(c.Key, c.Value)
		p.gateway = true
	}
}

// reloadGateway applies a reload's gateway {} block (the plan refused
// what gateway.Gateway.Reload refuses).
func (p *process) reloadGateway() {
	if p.gw == nil {
		return
	}
	if _, err := p.gw.Reload(p.cfg.gateway); err != nil {
		p.logs.log.Error("Gateway reload: " + err.Error())
	}
}
