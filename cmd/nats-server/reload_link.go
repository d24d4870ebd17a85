package main

import (
	"natsd.dev/cluster/gateway"
	"natsd.dev/cluster/leaf"
)

// planLeafLinks adds to planLeaf what natsd reloads beyond upstream in
// the leafnodes {} block (leaf.CheckReload let it through): the
// authorization's users and secrets.
func planLeafLinks(p *reloadPlan, a, b *leaf.Options) {
	if a != nil && b != nil && leaf.AuthChanged(a, b) {
		p.change("leafnodes authorization", "")
		p.leaf = true
	}
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
