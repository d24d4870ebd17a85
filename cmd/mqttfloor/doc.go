// Command mqttfloor is a measuring instrument, not a broker: the least an
// MQTT 3.1.1 broker can do for a load generator. One thread blocked in
// epoll_wait accepts connections, answers a CONNECT with a fixed CONNACK
// (accepted), a QoS 1 PUBLISH with its PUBACK and a PINGREQ with a
// PINGRESP, ignores every other packet and closes the connection at
// DISCONNECT (or at a packet over 64 KiB). It checks, stores, routes and
// allocates nothing per connection.
//
// No broker can serve a connect cycle or a QoS 1 round trip faster on the
// same machine, so running a load generator against mqttfloor next to the
// brokers shows the ceiling the machine and the generator set: a row
// where the brokers come close to mqttfloor measures the generator, not
// the brokers (docs/benchmarks.md, MQTT).
//
// Usage:
//
//	mqttfloor [-a 127.0.0.1] [-p 1883]
//
// It prints "listening on <addr>" once it accepts and runs until killed.
// Linux only.
package main
