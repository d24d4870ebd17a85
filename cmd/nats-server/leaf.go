package main

import "natsd.dev/cluster/leaf"

// startLeaf starts the leaf nodes of the leafnodes {} block (its
// listener, its remotes) after the server and its cluster, so that the
// cluster's name is known to the handshake; shutdown stops them before
// the cluster.
func (p *process) startLeaf() error {
	o := p.cfg.leaf
	if o == nil || (o.Port == 0 && len(o.Remotes) == 0) {
		return nil
	}
	oc := *o
	oc.DefaultJSDomains = p.jsOpts.DefaultDomains
	oc.GatewayReplies = p.cfg.gateway.On()
	lf, err := leaf.Start(p.srv, &oc)
	if err != nil {
		return err
	}
	p.lf = lf
	p.leafWS.Store(lf)
	return nil
}

// reloadLeaf applies a reload's leafnodes {} block (the plan refused
// what leaf.Leaf.Reload refuses): the running leaf nodes take the new
// remotes, or, when none ran (no listener, no remote), they start with
// the new ones.
func (p *process) reloadLeaf() {
	if p.lf == nil {
		if err := p.startLeaf(); err != nil {
			p.logs.log.Error("Leafnode reload: " + err.Error())
		}
		return
	}
	// As startLeaf: default_js_domain and the gateways are the server's,
	// not the block's.
	var o leaf.Options
	if p.cfg.leaf != nil {
		o = *p.cfg.leaf
	}
	o.DefaultJSDomains = p.jsOpts.DefaultDomains
	o.GatewayReplies = p.cfg.gateway.On()
	if _, err := p.lf.Reload(&o); err != nil {
		p.logs.log.Error("Leafnode reload: " + err.Error())
	}
}
