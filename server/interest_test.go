package server_test

import (
	"net"
	"sync"
	"testing"

	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// counter counts interest per subject and origin from events.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) InterestChanged(ev server.InterestEvent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = make(map[string]int)
	}
	k := ev.Origin.String() + " " + ev.Subject
	if ev.Added {
		c.n[k]++
	} else {
		c.n[k]--
	}
}

func (c *counter) get(k string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[k]
}

func TestInterestListenersFanOut(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	nc := servertest.Connect(t, s)
	if _, err := nc.SubscribeSync("before"); err != nil {
		t.Fatal(err)
	}
	nc.Flush()
	var a, b counter
	removeA := s.AddInterestListener(&a)
	removeB := s.AddInterestListener(&b)
	defer removeB()
	// Replayed at registration, with the origin.
	if a.get("client before") != 1 || b.get("client before") != 1 {
		t.Fatalf("replay: a %v b %v", a.n, b.n)
	}
	sub, _ := nc.SubscribeSync("after")
	nc.Flush()
	if a.get("client after") != 1 || b.get("client after") != 1 {
		t.Fatalf("both listeners hear of a new subscription: a %v b %v", a.n, b.n)
	}
	removeA()
	removeA() // twice is harmless
	sub.Unsubscribe()
	nc.Flush()
	if a.get("client after") != 1 || b.get("client after") != 0 {
		t.Fatalf("after removing a: a %v b %v", a.n, b.n)
	}

	// A link's interest is reported with its kind and the link.
	near, far := net.Pipe()
	defer far.Close()
	var got []server.InterestEvent
	var mu sync.Mutex
	defer s.AddInterestListener(server.InterestFunc(func(ev server.InterestEvent) {
		if ev.Link != nil {
			mu.Lock()
			got = append(got, ev)
			mu.Unlock()
		}
	}))()
	l, err := s.NewLink(near, server.LinkConfig{Kind: server.ConnGateway})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.AddRemoteSub([]byte(server.GlobalAccountName), []byte("gw.>"), []byte("q"), 3); err != nil {
		t.Fatal(err)
	}
	// A weight update is not an event.
	if err := l.AddRemoteSub([]byte(server.GlobalAccountName), []byte("gw.>"), []byte("q"), 5); err != nil {
		t.Fatal(err)
	}
	if b.get("gateway gw.>") != 1 {
		t.Fatalf("link interest: %v", b.n)
	}
	l.Close(server.LinkClientClosed)
	<-l.Done()
	if b.get("gateway gw.>") != 0 {
		t.Fatalf("link interest after close: %v", b.n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0].Link != l || got[0].Queue != "q" || !got[0].Added || got[1].Added {
		t.Fatalf("link events %+v", got)
	}
}

// Registering while interest changes on other goroutines never misses or
// double-counts: the listener's count ends where the sublist is.
func TestInterestListenerReplayAtomic(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	ic, err := s.NewInternalClient("")
	if err != nil {
		t.Fatal(err)
	}
	defer ic.Close()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				sub, err := ic.Subscribe("churn", "", func(*server.Msg) {})
				if err != nil {
					t.Error(err)
					return
				}
				sub.Unsubscribe()
			}
		})
	}
	keep, _ := ic.Subscribe("churn", "", func(*server.Msg) {})
	var listeners []*counter
	for range 20 {
		c := &counter{}
		defer s.AddInterestListener(c)()
		listeners = append(listeners, c)
	}
	close(stop)
	wg.Wait()
	for i, c := range listeners {
		if n := c.get("in-process churn"); n != 1 {
			t.Fatalf("listener %d counts %d subscriptions, want 1", i, n)
		}
	}
	keep.Unsubscribe()
}
