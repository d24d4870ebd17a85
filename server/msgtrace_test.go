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

// TestMsgTraceTracedSession: a session attached with Traced gets traced
// messages with their trace (trace only ones too, which other sessions
// and clients do not get) and its report reaches the event, which is
// published once the handler has run; with several publishers at once
// (run with -race).
func TestMsgTraceTracedSession(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	tr := servertest.Connect(t, s)
	events, err := tr.SubscribeSync("trace")
	require.NoError(t, err)
	require.NoError(t, tr.Flush())
	sess, err := s.Attach(server.SessionOptions{Kind: server.SessionJetStream, Account: server.GlobalAccountName, Traced: true})
	require.NoError(t, err)
	t.Cleanup(func() { sess.Close() })
	var mu sync.Mutex
	stored := 0
	_, err = sess.Subscribe("work.>", "", func(m *server.Msg) {
		if !m.Traced() {
			return // the marker
		}
		m.TraceJetStream("S", string(m.Subject), false, "")
		if !m.TraceOnly() {
			mu.Lock()
			stored++
			mu.Unlock()
		}
	})
	require.NoError(t, err)
	sub := servertest.Connect(t, s)
	got, err := sub.SubscribeSync("work.>")
	require.NoError(t, err)
	require.NoError(t, sub.Flush())

	const pubs, each = 4, 26
	var wg sync.WaitGroup
	for p := range pubs {
		nc := servertest.Connect(t, s)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				m := nats.NewMsg("work." + strconv.Itoa(p))
				m.Header.Set("Nats-Trace-Dest", "trace")
				if i%2 == 1 {
					m.Header.Set("Nats-Trace-Only", "true")
				}
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
				Type, Stream, Subject string
			} `json:"events"`
		}
		require.NoError(t, json.Unmarshal(m.Data, &ev))
		types := map[string]int{}
		for _, e := range ev.Events {
			types[e.Type]++
		}
		require.Equal(t, map[string]int{"in": 1, "eg": 1, "js": 1}, types, "%s", m.Data)
	}
	// Only the delivered half reached the client (and the handler's
	// "store"): the marker published after them comes next.
	for range pubs * each / 2 {
		_, err := got.NextMsg(5 * time.Second)
		require.NoError(t, err)
	}
	require.NoError(t, tr.Publish("work.marker", nil))
	m, err := got.NextMsg(5 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "work.marker", m.Subject)
	mu.Lock()
	require.Equal(t, pubs*each/2, stored)
	mu.Unlock()
}
