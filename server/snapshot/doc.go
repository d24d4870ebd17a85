// Package snapshot holds the JSON documents of natsd's monitoring: the
// answers of /varz, /connz, /subsz, /routez, /gatewayz, /leafz,
// /accountz, /accstatz, /healthz and /jsz, their options, and the
// envelope of $SYS.REQ.SERVER.<id>.<KIND> responses, and the client
// connect and disconnect advisories of the system account.
//
// The package has no logic: it is the shared vocabulary between the
// modules that fill documents (the server core, cluster, jetstream, mqtt)
// and those that render them (monitor, the system account). Field names
// and JSON tags are upstream nats-server's, in upstream's order, so
// existing tools (the nats CLI, nats-top, prometheus-nats-exporter,
// dashboards) read them unchanged; encoding/json renders every type
// byte for byte as upstream does.
//
// # Usage
//
// A module that owns a kind of document registers a provider for it with
// the server (server.Server.RegisterProvider) and fills the matching type
// of this package; a module that adds a section to /varz registers a
// contributor (server.Server.RegisterVarz) that sets its field of Varz
// (Cluster, Gateway, LeafNode, JetStream, MQTT, Websocket). See the
// registry's documentation in package server for the contract.
//
// # Memory
//
// A document is a copy: whoever receives one owns it and its slices and
// maps, and may keep or change it.
package snapshot
