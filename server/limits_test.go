package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server/servertest"
)

func TestAccountLimits(t *testing.T) {
	s := servertest.StartConfig(t, `
accounts {
  A: {
    users: [ {user: a, password: a} ]
    limits: { max_connections: 2, max_subs: 2, max_payload: 1KB }
  }
  B: { users: [ {user: b, password: b} ], max_connections: -1 }
}`)
	a1 := servertest.Connect(t, s, nats.UserInfo("a", "a"))
	servertest.Connect(t, s, nats.UserInfo("a", "a"))
	_, err := dialNats(s, nats.UserInfo("a", "a"), nats.NoReconnect())
	require.Error(t, err)
	require.Contains(t, strings.ToLower(err.Error()), "maximum account active connections exceeded")
	require.Equal(t, "Maximum Account Connections Exceeded", servertest.ClosedReason(t, s))
	// Other accounts are not counted.
	for range 3 {
		servertest.Connect(t, s, nats.UserInfo("b", "b"))
	}
	// A slot frees when a client leaves; the client that takes it is
	// used below (closing it again would race with the next connect).
	a1.Close()
	errs := make(chan error, 4)
	var a3 *nats.Conn
	require.Eventually(t, func() bool {
		nc, err := dialNats(s, nats.UserInfo("a", "a"), nats.NoReconnect(),
			nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
		a3 = nc
		return err == nil
	}, 2*time.Second, 20*time.Millisecond)
	t.Cleanup(a3.Close)

	// Per connection: two subscriptions, then the limit.
	for _, subj := range []string{"x", "y", "z"} {
		_, err := a3.SubscribeSync(subj)
		require.NoError(t, err)
	}
	require.NoError(t, a3.Flush())
	select {
	case err := <-errs:
		require.Contains(t, strings.ToLower(err.Error()), "maximum subscriptions exceeded")
	case <-time.After(2 * time.Second):
		t.Fatal("third subscription not refused")
	}

	// The account's max_payload is below the server's: the INFO that
	// follows the first PONG tells the client, as upstream's, so nats.go
	// refuses a larger message itself; sent anyway (a raw client), it
	// closes the connection as upstream's limit does.
	servertest.WaitUntil(t, "max_payload 1024 in nats.go", func() bool { return a3.MaxPayload() == 1024 })
	require.NoError(t, a3.Publish("x", make([]byte, 1024)))
	require.NoError(t, a3.Flush())
	require.ErrorIs(t, a3.Publish("x", make([]byte, 1025)), nats.ErrMaxPayload)
	a3.Close()
	var rc *servertest.RawConn
	servertest.WaitUntil(t, "a raw client of A", func() bool {
		rc = servertest.DialClient(t, s)
		rc.Send("CONNECT {\"verbose\":false,\"user\":\"a\",\"pass\":\"a\"}\r\nPING\r\n")
		line, err := rc.TryReadLine(2 * time.Second)
		return err == nil && line == "PONG"
	})
	rc.Send("PUB x 1024\r\n" + strings.Repeat("x", 1024) + "\r\nPUB x 1025\r\n")
	require.Equal(t, "-ERR 'Maximum Payload Violation'", rc.ReadLine())
	rc.ExpectClosed()
	require.Equal(t, "Maximum Message Payload Exceeded", servertest.ClosedReason(t, s))
}

func TestAccountLimitsConfigErrors(t *testing.T) {
	_, _, err := applyText(t, "accounts {\n A: { limits: { max_connections: -2, colour: red } }\n}\n")
	require.Error(t, err)
	require.Contains(t, err.Error(), "test.conf:2:34: account A: max_connections must be -1 (no limit) or more")
	require.Contains(t, err.Error(), `test.conf:2:38: unknown field "colour" in account A limits`)
}
