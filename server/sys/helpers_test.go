package sys_test

import (
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/confparse"
	"natsd.dev/server"
	"natsd.dev/server/config"
	"natsd.dev/server/servertest"
	"natsd.dev/server/snapshot"
)

func startServer(t testing.TB, opts server.Options) *server.Server {
	t.Helper()
	return servertest.Start(t, opts)
}

func connect(t testing.TB, s *server.Server, opts ...nats.Option) *nats.Conn {
	t.Helper()
	return servertest.Connect(t, s, append([]nats.Option{nats.NoReconnect()}, opts...)...)
}

func startConfigServer(t testing.TB, text string) *server.Server {
	t.Helper()
	m, err := confparse.ParseWithOptions("test.conf", []byte(text), confparse.Options{
		Env: func(string) (string, bool) { return "", false },
	})
	require.NoError(t, err)
	c := config.Default()
	_, err = c.Apply(m)
	require.NoError(t, err)
	return startServer(t, c.Options)
}

// closedReason waits for a closed connection and returns the close reason
// of the last one.
func closedReason(t testing.TB, s *server.Server) string {
	t.Helper()
	var reason string
	servertest.WaitUntil(t, "a closed connection", func() bool {
		cz, err := s.Connz(&snapshot.ConnzOptions{State: snapshot.ConnClosed})
		require.NoError(t, err)
		if len(cz.Conns) == 0 {
			return false
		}
		reason = cz.Conns[len(cz.Conns)-1].Reason
		return true
	})
	return reason
}
