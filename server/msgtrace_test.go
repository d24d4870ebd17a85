package server_test

import (
	"encoding/json"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// TestMsgTraceConcurrent traces messages from several publishers at once
// while -V traces the protocol (run with -race): every traced message
// gets its event, with its own ingress and one egress per subscriber.
func TestMsgTraceConcurrent(t *testing.T) {
	log := slog.New(slog.NewTextHandler(discard{}, &slog.HandlerOptions{Level: server.LevelTrace}))
	s := servertest.Start(t, server.Options{Logger: log, MaxTracedMsgLen: 4, TraceVerbose: true})
	tr := servertest.Connect(t, s)
	events, err := tr.SubscribeSync("trace.>")
	require.NoError(t, err)
	require.NoError(t, tr.Flush())
	const subs, pubs, each = 3, 4, 25
	for range subs {
		nc := servertest.Connect(t, s)
		_, err := nc.Subscribe("work.*", func(*nats.Msg) {})
		require.NoError(t, err)
		require.NoError(t, nc.Flush())
	}
	var wg sync.WaitGroup
	for p := range pubs {
		nc := servertest.Connect(t, s, nats.Name("pub"+strconv.Itoa(p)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				m := nats.NewMsg("work." + strconv.Itoa(i))
				m.Header.Set("Nats-Trace-Dest", "trace."+strconv.Itoa(p))
				m.Data = []byte("payload")
				if err := nc.PublishMsg(m); err != nil {
					t.Error(err)
					return
				}
			}
			nc.Flush()
		}()
	}
	wg.Wait()
	for range pubs * each {
		m, err := events.NextMsg(5 * time.Second)
		require.NoError(t, err)
		var ev struct {
			Events []struct {
				Type string `json:"type"`
				Name string `json:"name"`
			} `json:"events"`
		}
		require.NoError(t, json.Unmarshal(m.Data, &ev))
		require.Len(t, ev.Events, 1+subs)
		require.Equal(t, "in", ev.Events[0].Type)
		require.Equal(t, "pub"+m.Subject[len("trace."):], ev.Events[0].Name)
		for _, e := range ev.Events[1:] {
			require.Equal(t, "eg", e.Type)
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
