package server_test

import (
	"net"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/auth"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
	"natsd.dev/server/snapshot"
)

// transportListener hands out its TCP connections as connections of a
// WebSocket-like transport that carries credentials, as a transport
// module's listener would.
type transportListener struct {
	net.Listener
	user, pass string
}

func (l *transportListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &transportConn{Conn: nc, l: l}, nil
}

type transportConn struct {
	net.Conn
	l *transportListener
}

func (c *transportConn) Transport() string { return server.TransportWebsocket }

func (c *transportConn) Credentials() (user, password, token string) { return c.l.user, c.l.pass, "" }

var (
	_ server.TransportConn   = (*transportConn)(nil)
	_ server.CredentialsConn = (*transportConn)(nil)
)

// TestTransportSeam runs a transport through ServeWebsocket without the
// websocket module: the core takes its kind and credentials from the
// optional interfaces and reports the listener in INFO and /varz.
func TestTransportSeam(t *testing.T) {
	s := servertest.Start(t, server.Options{Authorization: &auth.Config{Users: []auth.User{
		{Name: "alice", Password: "pw"},
		{Name: "browser", Password: "b", AllowedConnectionTypes: []auth.ConnKind{auth.KindWebsocket}},
	}}})
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ln := &transportListener{Listener: inner, user: "alice", pass: "pw"}
	info := server.WebsocketInfo{ConnectURLs: []string{"ws.example.com:443"}}
	require.NoError(t, s.ServeWebsocket(ln, info))
	require.ErrorIs(t, s.ServeWebsocket(ln, info), server.ErrBadOptions, "one WebSocket listener per server")
	url := "nats://" + inner.Addr().String()

	// No credentials in CONNECT: the transport's stand in.
	nc := servertest.ConnectURL(t, url, nats.Name("over-transport"))
	require.NoError(t, nc.Flush())
	// A user allowed only over WebSocket passes here and not over TCP.
	bc := servertest.ConnectURL(t, url, nats.UserInfo("browser", "b"))
	require.NoError(t, bc.Flush())
	_, err = nats.Connect(s.ClientURL(), nats.NoReconnect(), nats.UserInfo("browser", "b"))
	require.ErrorIs(t, err, nats.ErrAuthorization)

	cz, err := s.Connz(&snapshot.ConnzOptions{})
	require.NoError(t, err)
	types := map[string]string{}
	for _, ci := range cz.Conns {
		types[ci.Name] = ci.Type
	}
	require.Equal(t, "websocket", types["over-transport"])
	v, err := s.Varz(nil)
	require.NoError(t, err)
	require.Equal(t, snapshot.WebsocketOptsVarz{}, v.Websocket, "the transport module contributes the section")
	require.Equal(t, info.ConnectURLs, v.WSConnectURLs)
}

// TestOnStartError: OnStart runs before the client listener binds; an error stops Start and
// closes the listeners added so far.
func TestOnStartError(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var ran bool
	s, err := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort, OnStart: []func(*server.Server) error{
		func(s *server.Server) error { ran = s.Addr() == nil; return s.Serve(inner) },
		func(*server.Server) error { return server.ErrBadOptions },
	}})
	require.NoError(t, err)
	require.ErrorIs(t, s.Start(), server.ErrBadOptions)
	require.True(t, ran, "OnStart ran before the client listener was bound")
	_, err = inner.Accept()
	require.ErrorIs(t, err, net.ErrClosed)
	require.NoError(t, s.Shutdown(t.Context()))
}
