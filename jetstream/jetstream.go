package jetstream

import (
	"context"
	"errors"

	"natsd.dev/server"
)

// JetStream is JetStream running on one server.
type JetStream struct {
	srv  *server.Server
	opts Options
}

// Start enables JetStream on srv, which must have been started: it opens
// the store directory, recovers every stream, serves the $JS.API of every
// JetStream account and registers the jsz, healthz and varz providers.
func Start(srv *server.Server, o Options) (*JetStream, error) {
	return nil, errors.New("jetstream: not implemented yet")
}

// Shutdown stops serving the API, stops the streams and closes their
// stores, making everything acknowledged durable.
func (js *JetStream) Shutdown(ctx context.Context) error { return nil }
