// Package websocket is an RFC 6455 server transport exposed as a net.Listener.
package websocket
