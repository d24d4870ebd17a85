// Package cluster connects natsd servers with routes: the cluster
// listener, solicited and gossiped routes forming a full mesh, interest
// propagation (RS+/RS-) and message forwarding (RMSG), connection pooling
// and S2 compression, following upstream nats-server 2.x's route protocol.
package cluster
