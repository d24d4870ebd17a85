// Package cluster is the root of natsd's inter-server links, one package
// per link kind on one shared dial/accept layer:
//
//   - natsd.dev/cluster/route: routes between the servers of one cluster
//     (explicit and gossiped, pooling, compression, permissions).
//   - natsd.dev/cluster/gateway: gateways between clusters (superclusters).
//   - natsd.dev/cluster/leaf: leaf nodes.
//   - cluster/internal/linknet: what every kind shares: a Group that owns a
//     kind's accept loops, dial loops and connection goroutines, dials
//     through an injectable Dialer (*net.Dialer, *tls.Dialer, net.Pipe in
//     tests), serves any net.Listener and stops with Shutdown(ctx).
//   - cluster/internal/linkconf: what the kinds' configuration parsers
//     read alike (listen and port, URLs, single-user authorization,
//     strict TLS, unknown keys), each kind passing its own texts;
//     linkconf/linkconftest is their tests' shared scaffolding.
//
// Every kind plugs into the core through server's link seam (server.Link,
// created with server.LinkConfig: its kind, encoder, forwarding policy and
// close reasons) and hears of interest through server.AddInterestListener,
// which tells the origin of each change, so interest crosses kinds (a
// leaf node's reaches the routes and back) without the core knowing the
// kinds. Each kind must pass the link conformance suite,
// servertest.RunLinkConformance.
//
// This package keeps the route API under its former names (Start,
// Options, ParseConfig, ...) for the callers of the single-package
// cluster; new code imports cluster/route.
package cluster
