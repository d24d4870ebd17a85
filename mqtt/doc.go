// Package mqtt is natsd's MQTT front end: MQTT 3.1.1 and 5.0 clients,
// over TCP, TLS and WebSocket, on the NATS subject space of the server
// they connect to.
//
// Each MQTT client is an in-process session of the server (listed in
// /connz with its MQTT client id): its topics map to NATS subjects, so
// MQTT and NATS clients exchange messages both ways. Sessions,
// retained messages and QoS 1/2 state persist in JetStream streams of
// the client's account.
//
// On Linux an event loop accepts the listener's plain TCP clients and
// handles their CONNECT, pings, DISCONNECT, keepalive and takeover
// without a goroutine per client; a connection moves to a goroutine of
// its own for good at its first PUBLISH or SUBSCRIBE, or at any step that
// may wait (credentials to check, a will, a persistent session, a client
// id in use, a full socket). TLS and WebSocket clients, and every client
// on other systems, get a goroutine from the start.
package mqtt
