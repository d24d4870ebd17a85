// Package protocol implements the NATS wire protocol: a resumable parser for
// every client and inter-server operation and append-style encoders.
package protocol
