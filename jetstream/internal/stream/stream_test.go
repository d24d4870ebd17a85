package stream_test

import (
	"sync"
	"testing"
	"time"

	"natsd.dev/jetstream/api"
	"natsd.dev/jetstream/internal/hdr"
	"natsd.dev/jetstream/internal/stream"
	"natsd.dev/jetstream/store"
	"natsd.dev/jetstream/store/memstore"
)

// sink is a Publisher that keeps what it is given.
type sink struct {
	mu   sync.Mutex
	msgs []string
}

func (s *sink) Publish(subject, reply string, h, data []byte) error {
	s.mu.Lock()
	s.msgs = append(s.msgs, subject+" "+string(data))
	s.mu.Unlock()
	return nil
}

func open(sc store.Config) (store.StreamStore, error) { return memstore.New(sc) }

func newStream(t *testing.T, cfg api.StreamConfig, o stream.Options) *stream.Stream {
	t.Helper()
	if e := stream.Normalize(&cfg, stream.Limits{}); e != nil {
		t.Fatal(e)
	}
	if o.Out == nil {
		o.Out = &sink{}
	}
	s, err := stream.New(cfg, open, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func hdrOf(kv ...string) []byte {
	b := hdr.NewBuilder(nil, 0, "")
	for i := 0; i+1 < len(kv); i += 2 {
		b.Add(kv[i], kv[i+1])
	}
	return b.Bytes()
}

func TestParseTTL(t *testing.T) {
	for _, c := range []struct {
		in  string
		ttl time.Duration
		ok  bool
	}{
		{"never", store.NoExpiry, true},
		{"NEVER", store.NoExpiry, true},
		{"1s", time.Second, true},
		{"1.9s", time.Second, true},
		{"1h", time.Hour, true},
		{"60", time.Minute, true},
		{"0", 0, false}, // a duration of 0, under a second
		{"0s", 0, false},
		{"999ms", 0, false},
		{"-1", 0, false},
		{"+5", 0, false},
		{"abc", 0, false},
		{"", 0, false},
	} {
		ttl, ok := stream.ParseTTL(c.in)
		if ttl != c.ttl || ok != c.ok {
			t.Errorf("ParseTTL(%q) = %v, %v; want %v, %v", c.in, ttl, ok, c.ttl, c.ok)
		}
	}
}

// A counter whose last message does not hold {"val":...} is broken.
func TestCounterBroken(t *testing.T) {
	cfg := api.StreamConfig{Name: "C", Subjects: []string{"c"}, AllowMsgCounter: true, Storage: api.MemoryStorage}
	if e := stream.Normalize(&cfg, stream.Limits{}); e != nil {
		t.Fatal(e)
	}
	var st store.StreamStore
	s, err := stream.New(cfg, func(sc store.Config) (store.StreamStore, error) {
		var err error
		st, err = memstore.New(sc)
		if err == nil {
			_, err = st.StoreMsg("c", nil, []byte("not json"), 0, 0)
		}
		return st, err
	}, stream.Options{Out: &sink{}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res := s.Propose(&stream.Op{Kind: stream.OpMsg, Subject: "c", Hdr: hdrOf("Nats-Incr", "1"), TS: time.Now().UnixNano()})
	if res.Err == nil || res.Err.ErrCode != api.ErrMessageCounterBroken.ErrCode {
		t.Fatalf("got %+v", res)
	}
}

// Tightening MaxAge removes messages inside UpdateConfig, on the goroutine
// that holds the stream's lock: the markers come after, without a
// deadlock.
func TestMarkersFromUpdateUnderLock(t *testing.T) {
	cfg := api.StreamConfig{Name: "M", Subjects: []string{"m.>"}, SubjectDeleteMarkerTTL: time.Minute, Storage: api.MemoryStorage}
	removed := make(chan uint64, 16)
	s := newStream(t, cfg, stream.Options{OnRemove: func(seq uint64, _ string) { removed <- seq }})
	old := time.Now().Add(-time.Hour).UnixNano()
	for _, subj := range []string{"m.a", "m.b"} {
		if res := s.Propose(&stream.Op{Kind: stream.OpMsg, Subject: subj, TS: old}); res.Err != nil {
			t.Fatal(res.Err)
		}
	}
	upd := s.Config()
	upd.MaxAge = time.Minute
	done := make(chan stream.Result, 1)
	go func() { done <- s.Propose(&stream.Op{Kind: stream.OpUpdate, Config: &upd}) }()
	select {
	case res := <-done:
		if res.Err != nil {
			t.Fatal(res.Err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("update deadlocked")
	}
	for range 2 {
		select {
		case <-removed:
		case <-time.After(10 * time.Second):
			t.Fatal("consumers not told of the removals")
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.State().Msgs != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("markers not written: %+v", s.State())
		}
		time.Sleep(10 * time.Millisecond)
	}
	var m store.StoredMsg
	for _, subj := range []string{"m.a", "m.b"} {
		if err := s.Store().LoadLastMsg(subj, &m); err != nil {
			t.Fatal(err)
		}
		if string(hdr.Get(m.Hdr, hdr.MarkerReason)) != "MaxAge" || string(hdr.Get(m.Hdr, hdr.TTL)) != "1m0s" {
			t.Fatalf("marker on %s: %q", subj, m.Hdr)
		}
	}
}

// A batch with one bad message stores nothing; a good one stores all.
func TestBatchAllOrNothing(t *testing.T) {
	cfg := api.StreamConfig{Name: "B", Subjects: []string{"b.>"}, AllowAtomicPublish: true, MaxMsgSize: 8, Storage: api.MemoryStorage}
	s := newStream(t, cfg, stream.Options{})
	res := s.Propose(&stream.Op{Kind: stream.OpBatch, BatchID: "x", TS: time.Now().UnixNano(), Batch: []stream.BatchMsg{
		{Subject: "b.1", Data: []byte("ok")},
		{Subject: "b.2", Data: []byte("far too long")},
	}})
	if res.Err == nil || res.Err.ErrCode != api.ErrStreamMessageExceedsMaximum.ErrCode {
		t.Fatalf("got %+v", res)
	}
	if st := s.State(); st.Msgs != 0 || st.LastSeq != 0 {
		t.Fatalf("partial batch stored: %+v", st)
	}
	res = s.Propose(&stream.Op{Kind: stream.OpBatch, BatchID: "y", TS: time.Now().UnixNano(), Batch: []stream.BatchMsg{
		{Subject: "b.1", Data: []byte("1")}, {Subject: "b.2", Data: []byte("2")},
	}})
	if res.Err != nil || res.Seq != 2 || res.BatchID != "y" || res.BatchSize != 2 {
		t.Fatalf("got %+v", res)
	}
}
