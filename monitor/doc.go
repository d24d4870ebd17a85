// Package monitor is the HTTP(S) monitoring server of natsd: upstream
// nats-server's monitoring endpoints, with the same paths, query options
// and JSON field names so existing tools (the nats CLI, nats-top,
// prometheus-nats-exporter, dashboards) read it unchanged, plus a native
// Prometheus /metrics endpoint.
//
// # Usage
//
//	srv, _ := server.New(server.Options{Host: "127.0.0.1"})
//	_ = srv.Start()
//	mon, err := monitor.New(srv, monitor.Options{Host: "127.0.0.1", Port: 8222})
//	if err != nil { ... }
//	if err := mon.Start(); err != nil { ... }
//	defer mon.Shutdown(ctx)
//
// A Server is also an http.Handler, so it can be mounted in another mux or
// tested with net/http/httptest without listening.
//
// The monitor knows the NATS server only through Source, an interface of
// two methods that *server.Server implements: Snapshot(kind, opts) returns
// a document of the server's monitoring registry, and RegisterVarz adds
// the monitor's "http" section to /varz. Every endpoint renders what the
// registry answers for its kind, so the modules that register providers
// there (routes, leaf nodes, gateways, JetStream, MQTT) appear here
// without this package importing them, and $SYS.REQ.SERVER.<id>.<KIND>
// requests get the same documents. The documents and their options are
// the types of package natsd.dev/server/snapshot.
//
// # Endpoints
//
// Every path is relative to Options.BasePath (http_base_path).
//
//	/                an HTML page linking the endpoints
//	/varz            server identity, limits and counters
//	/jsz             JetStream (the JSZ provider): acc=<account>,
//	                 accounts, streams, consumers, config, leader-only,
//	                 offset, limit, raft; without one, upstream's
//	                 "disabled" document
//	/connz           connections: sort, auth, subs=1|detail, offset, limit
//	                 (default 1024), cid, state=open|closed|all, user, acc,
//	                 mqtt_client, filter_subject (with acc)
//	/routez          routes (the ROUTEZ provider; empty without one)
//	/gatewayz        gateways (GATEWAYZ; empty without one)
//	/leafz           leaf nodes (LEAFZ; empty without one)
//	/subsz           subscription list statistics; subs=1, offset, limit,
//	                 test=<subject>, acc (also /subscriptionsz)
//	/accountz        account names, or acc=<name> for one account's details
//	/accstatz        per account connections and traffic; unused=1
//	/healthz         {"status":"ok"}; js-enabled-only (js-enabled),
//	                 js-server-only, js-meta-only, account, stream,
//	                 consumer, details (asked of the providers that
//	                 implement server.HealthChecker); 503, 404 for an
//	                 account, stream or consumer that does not exist, 400
//	                 for a stream without its account (the code only in
//	                 the HTTP status, as upstream)
//	/stacksz         a dump of every goroutine's stack
//	/debug/vars      expvar's variables (cmdline, memstats), as upstream
//	/metrics         Prometheus text format 0.0.4, or OpenMetrics 1.0 when
//	                 the Accept header asks for application/openmetrics-text
//
// JSON is indented by two spaces as upstream renders it. A bad query option
// is answered 400 with upstream's error text.
//
// # Profiling
//
// StartProfiler serves net/http/pprof's endpoints (ProfilePath,
// /debug/pprof/) on a port of their own, as upstream's prof_port: the
// profiles stay off the monitoring port, which may be reachable by more
// people.
//
// # JSONP
//
// Upstream 2.x ignores ?callback= and always answers application/json, and
// so does this package by default: wrapping JSON in a script lets any web
// page that a visitor opens read the monitoring data of every server the
// visitor's browser can reach. Options.AllowJSONP turns the old behaviour
// back on (callback(...), application/javascript) for legacy dashboards;
// the callback must be a plain JavaScript identifier.
//
// # Metrics
//
// /metrics is generated from the same snapshots as the JSON endpoints:
// natsd_varz_* (connections, messages, bytes, memory, CPU, limits,
// natsd_varz_http_requests_total{path}), natsd_subsz_* (subscription list
// statistics), natsd_account_*{account} (subscriptions, connections and
// traffic per account), natsd_healthz_ok and, from the JSZ document when
// JetStream runs, natsd_jsz_* (usage, limits, API requests) and
// natsd_stream_*{account,stream} (messages, bytes, consumers, first and
// last sequence of every stream). Counters carry the _total suffix on
// their samples.
//
// # Concurrency
//
// All methods are safe for concurrent use. Snapshots copy the server's
// state under short per-connection locks: a /connz page over ten thousand
// connections takes a few milliseconds and does not stall message
// delivery. The endpoints that walk every connection or subscription
// (/connz, /subsz, /accstatz, /metrics, /jsz) run one at a time and are
// spaced so that they use at most a twentieth of a core, however hard they
// are polled; /connz writes its JSON with a hand-written encoder that
// produces exactly encoding/json's bytes. Start launches one goroutine per
// listener; Shutdown stops them and waits. The package logs nothing.
package monitor
