// Package gateway links clusters into a supercluster, as upstream
// nats-server's gateways do: the gateway {} block of the configuration
// file (ParseConfig, Options), and the gateway connections themselves
// (Start), built on the server's inter-server link seam with the kind
// server.ConnGateway.
//
// # Configuration
//
// ParseConfig reads upstream's keys: name, host, port, listen,
// advertise, connect_retries, connect_backoff, reject_unknown_cluster
// (alias reject_unknown), authorization { user, password, timeout },
// tls {} and gateways [ { name, url, urls, tls } ]. Every error of the
// block is reported at once, with its file:line:col and upstream's text.
// CheckClusterName applies upstream's rule between the cluster's name and
// the gateway's.
package gateway
