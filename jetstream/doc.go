// Package jetstream implements NATS JetStream: streams, consumers and their
// storage.
package jetstream
