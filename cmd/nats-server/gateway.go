package main

import (
	"errors"

	"natsd.dev/cluster"
	"natsd.dev/cluster/gateway"
	"natsd.dev/confparse"
	"natsd.dev/server/config"
)

// gatewayBlock registers the gateway {} block: its options land in
// fc.gateway.
func (fc *fileConfig) gatewayBlock(d *confparse.Decoder, e *confparse.Entry) {
	o, warnings, err := gateway.ParseConfig(e)
	d.Warnings = append(d.Warnings, warnings...)
	if err != nil {
		var list confparse.ErrorList
		if errors.As(err, &list) {
			d.Errors = append(d.Errors, list...)
		} else {
			d.Errorf(e.KeyPos, config.ErrBadValue, "%v", err)
		}
		return
	}
	fc.gateway = o
}

// checkGateway applies upstream's rule between the cluster's name and the
// gateway's: a conflict is an error, an unset cluster name becomes the
// gateway's.
func checkGateway(cfg *fileConfig, co *cluster.Options) error {
	if !cfg.gateway.On() {
		return nil
	}
	if co == nil {
		return nil
	}
	name, err := gateway.CheckClusterName(co.Name, cfg.gateway.Name)
	if err != nil {
		return err
	}
	co.Name = name
	return nil
}

// startGateway starts the gateways of the gateway {} block, after the
// cluster (whose name it shares) and before the leaf nodes; shutdown
// stops it after the leaf nodes and before the cluster.
func (p *process) startGateway() error {
	o := p.cfg.gateway
	if !o.On() {
		return nil
	}
	if !clusterOn(p.co) {
		p.srv.SetClusterName(o.Name)
	}
	gw, err := gateway.Start(p.srv, o)
	if err != nil {
		return err
	}
	p.gw = gw
	return nil
}
