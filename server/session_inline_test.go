package server_test

import (
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// inlineSessions attaches handler sessions whose handlers socket clients'
// read loops may run (SessionOptions.Inline).
func inlineSessions(s *server.Server, o server.SessionOptions) (servertest.TestSession, error) {
	o.Inline = true
	return servertest.HandlerSessions(s, o)
}

func TestSessionConformanceHandlerInline(t *testing.T) {
	servertest.RunSessions(t, inlineSessions, servertest.SessionCaps{FlowControl: true, Kind: server.SessionJetStream})
}

// TestSessionInlineBeforePong: an Inline session's handler has handled a
// socket client's message, and its answer is on the way, before the
// server answers the client's next PING: the read loop ran it in that
// batch, without a hand-off to the session's goroutine.
func TestSessionInlineBeforePong(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	sess, err := s.Attach(server.SessionOptions{Kind: server.SessionJetStream, Inline: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	var handled atomic.Int64
	if _, err := sess.Subscribe("svc", "", func(m *server.Msg) {
		handled.Add(1)
		_ = sess.Publish(string(m.Reply), "", nil, m.Data)
	}); err != nil {
		t.Fatal(err)
	}
	nc := servertest.Connect(t, s)
	for i := range 200 {
		if err := nc.Publish("svc", nil); err != nil {
			t.Fatal(err)
		}
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		if got := handled.Load(); got != int64(i+1) {
			t.Fatalf("after PONG %d: %d messages handled", i+1, got)
		}
		m, err := nc.Request("svc", []byte(strconv.Itoa(i)), 5*time.Second)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if string(m.Data) != strconv.Itoa(i) {
			t.Fatalf("request %d answered %q", i, m.Data)
		}
		handled.Add(-1)
	}
}

// TestSessionInlineOneAtATime: with several socket clients and an
// in-process publisher (whose messages are queued) at once, an Inline
// session's handler still runs one call at a time and sees each
// publisher's messages in order; none is lost.
func TestSessionInlineOneAtATime(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	sess, err := s.Attach(server.SessionOptions{Kind: server.SessionJetStream, Inline: true, QueueLen: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	const pubs, each = 4, 2000
	var (
		running, overlaps atomic.Int64
		mu                sync.Mutex
		next              = map[string]int{}
		disorder          []string
		total             atomic.Int64
	)
	done := make(chan struct{})
	if _, err := sess.Subscribe("in.*", "", func(m *server.Msg) {
		if running.Add(1) > 1 {
			overlaps.Add(1)
		}
		n, _ := strconv.Atoi(string(m.Data))
		mu.Lock()
		if next[string(m.Subject)] != n {
			disorder = append(disorder, string(m.Subject)+" "+string(m.Data))
		}
		next[string(m.Subject)] = n + 1
		mu.Unlock()
		if n%97 == 0 {
			time.Sleep(200 * time.Microsecond) // let others queue behind it
		}
		running.Add(-1)
		if total.Add(1) == (pubs+1)*each {
			close(done)
		}
	}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for p := range pubs {
		nc := servertest.Connect(t, s)
		wg.Add(1)
		go func() {
			defer wg.Done()
			subj := "in." + strconv.Itoa(p)
			for i := range each {
				if err := nc.Publish(subj, []byte(strconv.Itoa(i))); err != nil {
					t.Error(err)
					return
				}
			}
			if err := nc.Flush(); err != nil {
				t.Error(err)
			}
		}()
	}
	inproc, err := s.Attach(server.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer inproc.Close()
	wg.Add(1)
	go func() {
		defer wg.Done()
		deadline := time.Now().Add(15 * time.Second)
		for i := range each {
			// A full queue refuses the in-process publisher after its
			// stall (the message reached no one): publish it again.
			for {
				err := inproc.Publish("in.proc", "", nil, []byte(strconv.Itoa(i)))
				if err == nil {
					break
				}
				if !errors.Is(err, server.ErrQueueFull) || time.Now().After(deadline) {
					t.Error(err)
					return
				}
			}
		}
	}()
	wg.Wait()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("%d of %d messages handled", total.Load(), (pubs+1)*each)
	}
	if overlaps.Load() != 0 {
		t.Fatalf("the handler ran %d times while another call ran", overlaps.Load())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(disorder) > 0 {
		t.Fatalf("out of order: %v", disorder[:min(len(disorder), 10)])
	}
}
