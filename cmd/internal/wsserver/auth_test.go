package wsserver_test

import (
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/auth"
	"natsd.dev/cmd/internal/wsserver"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
	"natsd.dev/server/snapshot"
)

func TestAuthWebsocket(t *testing.T) {
	logs := &servertest.Logs{}
	s := servertest.Start(t, server.Options{
		Logger: logs.Logger(slog.LevelDebug),
		Authorization: &auth.Config{Users: []auth.User{
			{Name: "alice", Password: "pw"},
			{Name: "browser", Password: "b", AllowedConnectionTypes: []auth.ConnKind{auth.KindWebsocket}},
		}},
	})
	startWS(t, s, wsserver.Options{Host: "127.0.0.1", Port: server.RandomPort, NoTLS: true, UsernameCookie: "u", PasswordCookie: "p"})
	url := wsURL(s, false)
	nc := servertest.ConnectURL(t, url, nats.UserInfo("alice", "pw"))
	require.NoError(t, nc.Flush())
	// Refused (nats.go may see the close before the -ERR over WebSocket,
	// as it writes CONNECT and PING separately).
	_, err := nats.Connect(url, nats.NoReconnect(), nats.UserInfo("alice", "bad"))
	require.Error(t, err)
	_, err = nats.Connect(url, nats.NoReconnect())
	require.Error(t, err)

	// allowed_connection_types: this user may only come over WebSocket.
	nc = servertest.ConnectURL(t, url, nats.UserInfo("browser", "b"))
	require.NoError(t, nc.Flush())
	_, err = nats.Connect(s.ClientURL(), nats.NoReconnect(), nats.Timeout(3*time.Second), nats.UserInfo("browser", "b"))
	require.ErrorIs(t, err, nats.ErrAuthorization)

	// Browsers may carry the credentials in cookies instead.
	nc = servertest.ConnectURL(t, url, nats.WebSocketConnectionHeaders(http.Header{"Cookie": {"u=alice; p=pw"}}))
	require.NoError(t, nc.Flush())
	_, err = nats.Connect(url, nats.NoReconnect(), nats.WebSocketConnectionHeaders(http.Header{"Cookie": {"u=alice; p=nope"}}))
	require.Error(t, err)
	require.Equal(t, 4, servertest.ClosedCount(t, s, "Authentication Failure"), "four refused")
	// WebSocket clients carry upstream's "wid:" tag in the log.
	require.Contains(t, logs.String(), " - wid:")
}

func TestWebsocketPinnedCerts(t *testing.T) {
	// The websocket block pins through the same handshake check.
	p := servertest.NewPKI(t)
	alice, bob := p.Client("alice"), p.Client("bob")
	s, _ := startWebsocketServer(t, wsserver.Options{
		TLSConfig: server.WithPinnedCerts(p.ServerConfig(true), server.NewPinnedCerts(server.CertKeyID(alice.Leaf))),
	})
	nc := servertest.ConnectURL(t, wsURL(s, true), nats.Secure(p.ClientConfig(alice)))
	require.NoError(t, nc.Flush())
	_, err := nats.Connect(wsURL(s, true), nats.NoReconnect(), nats.Timeout(3*time.Second), nats.Secure(p.ClientConfig(bob)))
	require.Error(t, err)
	require.Equal(t, 1, s.NumClients())

	// /connz finds the TLS state under the WebSocket connection.
	cz, err := s.Connz(&snapshot.ConnzOptions{})
	require.NoError(t, err)
	require.Len(t, cz.Conns, 1)
	require.NotEmpty(t, cz.Conns[0].TLSVersion)
}

// TestWebsocketVarz checks the websocket section of /varz and INFO's
// ws_connect_urls: the bound port, not -1, and the settings in force; a
// second listener is refused.
func TestWebsocketVarz(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	v, err := s.Varz(nil)
	require.NoError(t, err)
	require.Zero(t, v.Websocket.Port)
	l := startWS(t, s, wsserver.Options{Host: "127.0.0.1", Port: server.RandomPort, NoTLS: true, Compression: true,
		SameOrigin: true, AllowedOrigins: []string{"https://a.example.com"}, Advertise: "ws.example.com:443"})
	_, err = wsserver.Start(s, wsserver.Options{Host: "127.0.0.1", Port: server.RandomPort, NoTLS: true})
	require.ErrorIs(t, err, server.ErrBadOptions, "a second listener started")
	v, err = s.Varz(nil)
	require.NoError(t, err)
	want := snapshot.WebsocketOptsVarz{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, Advertise: "ws.example.com:443",
		NoTLS: true, SameOrigin: true, AllowedOrigins: []string{"https://a.example.com"}, Compression: true}
	if !reflect.DeepEqual(v.Websocket, want) {
		t.Fatalf("varz %+v, want %+v", v.Websocket, want)
	}
	require.Equal(t, []string{"ws.example.com:443"}, v.WSConnectURLs)
}
