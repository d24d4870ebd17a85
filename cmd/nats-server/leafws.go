package main

import (
	"net"

	"natsd.dev/cmd/internal/wsserver"
)

// leafWebsocket makes the WebSocket listener hand the leaf nodes it
// upgrades on /leafnode (remotes with ws:// and wss:// URLs) to the leaf
// nodes of the leafnodes {} block, when the block has a port, as
// upstream's websocket port does. The listener starts before the leaf
// nodes: a leaf node that comes in between is closed and dials again.
// Without a leaf node port the listener closes them with upstream's log
// line.
func (p *process) leafWebsocket(wo *wsserver.Options) {
	if o := p.cfg.leaf; o == nil || o.Port == 0 {
		return
	}
	wo.Leaf = func(nc net.Conn) {
		if lf := p.leafWS.Load(); lf != nil {
			lf.AcceptWebsocket(nc)
			return
		}
		nc.Close()
	}
}
