package wsserver_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"natsd.dev/cmd/internal/wsserver"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// upgrade sends a WebSocket upgrade request for path with the given
// subprotocol offer ("" for none) and returns the connection and the
// response, whose body stays unread.
func upgrade(t testing.TB, addr, path, protocol string) (net.Conn, *bufio.Reader, *http.Response) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	require.NoError(t, nc.SetDeadline(time.Now().Add(5*time.Second)))
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
	if protocol != "" {
		req += "Sec-WebSocket-Protocol: " + protocol + "\r\n"
	}
	_, err = io.WriteString(nc, req+"\r\n")
	require.NoError(t, err)
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	return nc, br, resp
}

// writeFrame writes payload (< 126 bytes) as one masked binary frame.
func writeFrame(t testing.TB, nc net.Conn, payload []byte) {
	t.Helper()
	mask := [4]byte{1, 2, 3, 4}
	b := []byte{0x82, 0x80 | byte(len(payload)), mask[0], mask[1], mask[2], mask[3]}
	for i, c := range payload {
		b = append(b, c^mask[i%4])
	}
	_, err := nc.Write(b)
	require.NoError(t, err)
}

// readFrame reads one unmasked binary frame of fewer than 126 bytes.
func readFrame(t testing.TB, br *bufio.Reader) []byte {
	t.Helper()
	var h [2]byte
	_, err := io.ReadFull(br, h[:])
	require.NoError(t, err)
	require.Equal(t, byte(0x82), h[0], "a final binary frame")
	p := make([]byte, h[1])
	_, err = io.ReadFull(br, p)
	require.NoError(t, err)
	return p
}

// TestWebsocketEndpoint checks that a connection upgraded on an
// endpoint's path goes to the endpoint, with its subprotocol answered,
// while NATS clients keep the other paths.
func TestWebsocketEndpoint(t *testing.T) {
	served := make(chan net.Conn, 4)
	echo := func(c net.Conn) {
		served <- c
		go func() {
			defer c.Close()
			io.Copy(c, c)
		}()
	}
	s, _ := startWebsocketServer(t, wsserver.Options{NoTLS: true, Endpoints: map[string]wsserver.Endpoint{
		"/mqtt": {Subprotocol: "mqtt", Serve: echo},
	}})
	addr := listenerOf(s).Addr().String()

	nc, br, resp := upgrade(t, addr, "/mqtt", "mqttv3.1, mqtt")
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	require.Equal(t, "mqtt", resp.Header.Get("Sec-WebSocket-Protocol"))
	var c net.Conn
	select {
	case c = <-served:
	case <-time.After(5 * time.Second):
		t.Fatal("the endpoint got no connection")
	}
	tc, ok := c.(server.TransportConn)
	require.True(t, ok, "the endpoint gets a server.TransportConn")
	require.Equal(t, server.TransportWebsocket, tc.Transport())
	writeFrame(t, nc, []byte("\x10\x0cMQTT"))
	require.Equal(t, []byte("\x10\x0cMQTT"), readFrame(t, br))

	// Another path is NATS, without a subprotocol when none is offered.
	raw, _, resp := upgrade(t, addr, "/", "")
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	require.Empty(t, resp.Header.Get("Sec-WebSocket-Protocol"))
	raw.Close()
	nats := servertest.ConnectURL(t, listenerOf(s).URL())
	require.NoError(t, nats.Flush())
	servertest.WaitUntil(t, "the NATS client alone on the server", func() bool { return s.NumClients() == 1 })
}

// TestWebsocketEndpointRefused checks an endpoint without Serve: its
// path is refused with 404 and upstream's log line, as nats-server
// refuses /mqtt when MQTT is off.
func TestWebsocketEndpointRefused(t *testing.T) {
	s, logs := startWebsocketServer(t, wsserver.Options{NoTLS: true, Endpoints: map[string]wsserver.Endpoint{
		"/mqtt": {Subprotocol: "mqtt", Refusal: "mqtt websocket endpoint not enabled"},
	}})
	addr := listenerOf(s).Addr().String()
	nc, _, resp := upgrade(t, addr, "/mqtt", "mqtt")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	servertest.WaitUntil(t, "the refusal in the log", func() bool {
		return strings.Contains(logs.String(), nc.LocalAddr().String()+" - websocket handshake error: mqtt websocket endpoint not enabled")
	})
	_, _, resp = upgrade(t, addr, "/", "")
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
}

func TestWebsocketEndpointNotAPath(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	_, err := wsserver.Start(s, wsserver.Options{Host: "127.0.0.1", Port: server.RandomPort, NoTLS: true,
		Endpoints: map[string]wsserver.Endpoint{"mqtt": {}}})
	require.ErrorIs(t, err, server.ErrBadOptions)
}
