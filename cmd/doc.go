// Package cmd holds the natsd commands (nats-server, mkpasswd) and the
// end-to-end tests of the composed server.
package cmd
