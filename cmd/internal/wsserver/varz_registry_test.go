package wsserver_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/cmd/internal/wsserver"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
	"natsd.dev/server/snapshot"
)

// TestWebsocketVarzGoesWithListener: the listener contributes the
// websocket section of /varz (the core has none of its own) and takes it
// away when the server closes the listener at Shutdown.
func TestWebsocketVarzGoesWithListener(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	v, err := s.Varz(nil)
	require.NoError(t, err)
	require.Equal(t, snapshot.WebsocketOptsVarz{}, v.Websocket, "no listener, no section")

	l := startWS(t, s, wsserver.Options{Host: "127.0.0.1", Port: server.RandomPort, NoTLS: true})
	v, err = s.Varz(nil)
	require.NoError(t, err)
	require.Equal(t, l.Addr().(*net.TCPAddr).Port, v.Websocket.Port)

	require.NoError(t, s.Shutdown(t.Context()))
	v, err = s.Varz(nil)
	require.NoError(t, err)
	require.Equal(t, snapshot.WebsocketOptsVarz{}, v.Websocket, "section left after the listener closed")
}

// TestWebsocketVarzInLameDuck: lame duck mode closes the listener to
// refuse new clients, but /varz still describes it until the server
// shuts down.
func TestWebsocketVarzInLameDuck(t *testing.T) {
	s := servertest.Start(t, server.Options{LameDuckGracePeriod: time.Hour, LameDuckDuration: time.Second})
	l := startWS(t, s, wsserver.Options{Host: "127.0.0.1", Port: server.RandomPort, NoTLS: true})
	ldm := make(chan struct{})
	servertest.ConnectURL(t, l.URL(), nats.LameDuckModeHandler(func(*nats.Conn) { close(ldm) }))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.LameDuck(ctx) }()
	select {
	case <-ldm: // the listeners closed before the clients heard
	case <-time.After(5 * time.Second):
		t.Fatal("the client did not hear of lame duck mode")
	}
	_, err := net.DialTimeout("tcp", l.Addr().String(), time.Second)
	require.Error(t, err, "listener still open in lame duck mode")
	v, err := s.Varz(nil)
	require.NoError(t, err)
	require.Equal(t, l.Addr().(*net.TCPAddr).Port, v.Websocket.Port)
	cancel() // cuts the grace period short: LameDuck shuts down
	<-done
	require.NoError(t, s.Shutdown(t.Context()))
}
