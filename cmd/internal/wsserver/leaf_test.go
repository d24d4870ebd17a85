package wsserver_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"natsd.dev/cmd/internal/wsserver"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
	"natsd.dev/websocket"
)

// TestWebsocketLeaf checks that connections upgraded on /leafnode go to
// Options.Leaf with the no masking and compression they asked for, while
// NATS clients keep the other paths and are never let off masking.
func TestWebsocketLeaf(t *testing.T) {
	served := make(chan net.Conn, 4)
	leaf := func(c net.Conn) {
		served <- c
		go func() {
			defer c.Close()
			io.Copy(c, c)
		}()
	}
	s, _ := startWebsocketServer(t, wsserver.Options{NoTLS: true, Compression: true, Leaf: leaf})
	url := listenerOf(s).URL()

	for _, tc := range []struct {
		path             string
		noMask, compress bool
		wantMasked       bool
	}{
		{path: "/leafnode", noMask: true, compress: true},
		{path: "/leafnode", wantMasked: true},
		{path: "/leafnode/sub", noMask: true}, // upstream matches the prefix
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		c, err := websocket.Dial(ctx, url+tc.path, websocket.DialConfig{NoMasking: tc.noMask, Compression: tc.compress})
		cancel()
		require.NoError(t, err)
		var sc net.Conn
		select {
		case sc = <-served:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: Leaf got no connection", tc.path)
		}
		tc2, ok := sc.(server.TransportConn)
		require.True(t, ok)
		require.Equal(t, server.TransportWebsocket, tc2.Transport())
		require.Equal(t, tc.wantMasked, c.Masked(), tc.path)
		require.Equal(t, tc.compress, c.Compressed(), tc.path)
		// A batch larger than max_payload (1 MiB) in one message: leaf
		// connections are not held to it.
		msg := bytes.Repeat([]byte("LMSG foo 5\r\nhello\r\n"), (2<<20)/19)
		c.SetDeadline(time.Now().Add(5 * time.Second))
		_, err = c.Write(msg)
		require.NoError(t, err)
		got := make([]byte, len(msg))
		_, err = io.ReadFull(c, got)
		require.NoError(t, err)
		require.Equal(t, msg, got)
		c.Close()
	}
	require.Equal(t, 0, s.NumClients(), "no leaf connection became a client")

	// A NATS client asking for no masking does not get it.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	c, err := websocket.Dial(ctx, url+"/", websocket.DialConfig{NoMasking: true})
	require.NoError(t, err)
	require.True(t, c.Masked())
	require.Empty(t, c.Response().Header.Get(websocket.NoMaskingHeader))
	servertest.WaitUntil(t, "the NATS client", func() bool { return s.NumClients() == 1 })
	c.Close()
}

// TestWebsocketLeafRefused: without Options.Leaf a leaf node's upgrade
// succeeds and the connection is closed with upstream's log line.
func TestWebsocketLeafRefused(t *testing.T) {
	s, logs := startWebsocketServer(t, wsserver.Options{NoTLS: true})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	c, err := websocket.Dial(ctx, listenerOf(s).URL()+"/leafnode", websocket.DialConfig{})
	require.NoError(t, err)
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = c.Read(make([]byte, 16))
	require.True(t, errors.Is(err, io.EOF), "read: %v", err)
	logs.WaitFor(t, "Not configured to accept leaf node connections")
	require.Equal(t, 0, s.NumClients())
}

func TestWebsocketEndpointOnLeafPath(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	_, err := wsserver.Start(s, wsserver.Options{Host: "127.0.0.1", Port: server.RandomPort, NoTLS: true,
		Endpoints: map[string]wsserver.Endpoint{"/leafnode": {Serve: func(net.Conn) {}}}})
	require.ErrorIs(t, err, server.ErrBadOptions)
}
