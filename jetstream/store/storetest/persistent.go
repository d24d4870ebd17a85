package storetest

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
	"testing/synctest"
	"time"

	"natsd.dev/jetstream/store"
)

// ReopenFunc opens the store kept in dir with cfg, creating an empty one if
// dir holds none. Each call returns a new store value over the same data.
type ReopenFunc func(t *testing.T, dir string, cfg store.Config) store.StreamStore

// RunPersistent runs the checks that only a store keeping its data across
// Close and reopen can pass: everything a store reported before a clean
// Close must be there after reopening the same directory. Crash recovery
// (kill -9, torn writes) is the implementation's own test; this is the
// contract for clean restarts.
func RunPersistent(t *testing.T, reopen ReopenFunc) {
	for _, tc := range persistentTests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, reopen) })
	}
}

var persistentTests = []struct {
	name string
	fn   func(t *testing.T, reopen ReopenFunc)
}{
	{"ReopenKeepsEverything", testReopenKeeps},
	{"ReopenAfterAdmin", testReopenAfterAdmin},
	{"ReopenEmpty", testReopenEmpty},
	{"ReopenKeepsTTL", testReopenTTL},
	{"ReopenAfterSkip", testReopenAfterSkip},
}

// picture is what a store reports, to compare across a reopen.
type picture struct {
	state    store.StreamState
	msgs     []string
	totals   map[string]uint64
	consumer map[string]store.ConsumerState
}

func takePicture(t *testing.T, s store.StreamStore, consumers ...string) picture {
	t.Helper()
	p := picture{state: s.State(), consumer: map[string]store.ConsumerState{}}
	var m store.StoredMsg
	for start := uint64(0); s.LoadNextMsg("", start, &m) == nil; start = m.Seq + 1 {
		p.msgs = append(p.msgs, fmt.Sprintf("%d %s %d %q %q", m.Seq, m.Subject, m.Time, m.Hdr, m.Data))
	}
	var err error
	p.totals, err = s.SubjectsTotals("")
	noErr(t, "SubjectsTotals", err)
	for _, name := range consumers {
		c, err := s.Consumer(name)
		noErr(t, "Consumer", err)
		var cs store.ConsumerState
		noErr(t, "State", c.State(&cs))
		p.consumer[name] = cs
	}
	return p
}

func samePicture(t *testing.T, before, after picture) {
	t.Helper()
	if !reflect.DeepEqual(before.state, after.state) {
		t.Fatalf("State after reopen:\n%+v\nwant\n%+v", after.state, before.state)
	}
	if !reflect.DeepEqual(before.msgs, after.msgs) {
		t.Fatalf("messages after reopen:\n%v\nwant\n%v", after.msgs, before.msgs)
	}
	if !reflect.DeepEqual(before.totals, after.totals) {
		t.Fatalf("SubjectsTotals after reopen %v, want %v", after.totals, before.totals)
	}
	if !reflect.DeepEqual(before.consumer, after.consumer) {
		t.Fatalf("consumers after reopen %+v, want %+v", after.consumer, before.consumer)
	}
}

func closeOK(t *testing.T, s store.StreamStore) {
	t.Helper()
	noErr(t, "Close", s.Close())
}

func testReopenKeeps(t *testing.T, reopen ReopenFunc) {
	dir := t.TempDir()
	s := reopen(t, dir, store.Config{})
	for i := range 500 {
		hdr := []byte(nil)
		if i%4 == 0 {
			hdr = []byte(fmt.Sprintf("NATS/1.0\r\nN: %d\r\n\r\n", i))
		}
		_, err := s.StoreMsg(fmt.Sprintf("p.%d", i%13), hdr, bytes.Repeat([]byte{byte(i)}, i%300), 0, 0)
		noErr(t, "StoreMsg", err)
	}
	for _, seq := range []uint64{1, 7, 8, 9, 250, 500} {
		noErr(t, "RemoveMsg", s.RemoveMsg(seq))
	}
	noErr(t, "EraseMsg", s.EraseMsg(100))
	c, err := s.Consumer("durable")
	noErr(t, "Consumer", err)
	noErr(t, "SetState", c.SetState(&store.ConsumerState{
		Delivered:   store.SequencePair{Consumer: 40, Stream: 44},
		AckFloor:    store.SequencePair{Consumer: 30, Stream: 33},
		Pending:     []store.Pending{{Stream: 35, Consumer: 32, Timestamp: 9}},
		Redelivered: []store.Redelivered{{Stream: 35, Count: 1}},
	}))
	before := takePicture(t, s, "durable")
	closeOK(t, s)

	s = reopen(t, dir, store.Config{})
	samePicture(t, before, takePicture(t, s, "durable"))
	putSeq(t, s, 501, "p.1") // sequences continue, even after removing the last
	closeOK(t, s)
}

func testReopenAfterAdmin(t *testing.T, reopen ReopenFunc) {
	steps := []struct {
		name string
		do   func(t *testing.T, s store.StreamStore)
	}{
		{"Purge", func(t *testing.T, s store.StreamStore) {
			_, err := s.Purge(store.PurgeRequest{})
			noErr(t, "Purge", err)
		}},
		{"PurgeSubject", func(t *testing.T, s store.StreamStore) {
			_, err := s.Purge(store.PurgeRequest{Filter: "a.*", Keep: 2})
			noErr(t, "Purge", err)
		}},
		{"Compact", func(t *testing.T, s store.StreamStore) {
			_, err := s.Compact(30)
			noErr(t, "Compact", err)
		}},
		{"CompactPastEnd", func(t *testing.T, s store.StreamStore) {
			_, err := s.Compact(1000)
			noErr(t, "Compact", err)
		}},
		{"Truncate", func(t *testing.T, s store.StreamStore) {
			noErr(t, "Truncate", s.Truncate(20))
		}},
		{"TruncateZero", func(t *testing.T, s store.StreamStore) {
			noErr(t, "Truncate", s.Truncate(0))
		}},
		{"TruncateZeroPurge", func(t *testing.T, s store.StreamStore) {
			noErr(t, "Truncate", s.Truncate(0))
			_, err := s.Purge(store.PurgeRequest{})
			noErr(t, "Purge", err)
		}},
		{"PurgeTruncateZero", func(t *testing.T, s store.StreamStore) {
			_, err := s.Purge(store.PurgeRequest{})
			noErr(t, "Purge", err)
			noErr(t, "Truncate", s.Truncate(0))
		}},
		{"TruncateZeroCompact", func(t *testing.T, s store.StreamStore) {
			noErr(t, "Truncate", s.Truncate(0))
			_, err := s.Compact(1)
			noErr(t, "Compact", err)
		}},
		{"Limits", func(t *testing.T, s store.StreamStore) {
			noErr(t, "UpdateConfig", s.UpdateConfig(store.Config{MaxMsgsPerSubject: 3}))
		}},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			dir := t.TempDir()
			s := reopen(t, dir, store.Config{})
			for i := range 60 {
				put(t, s, fmt.Sprintf("%c.%d", 'a'+i%3, i%5), fmt.Sprint(i))
			}
			step.do(t, s)
			before := takePicture(t, s)
			closeOK(t, s)
			s = reopen(t, dir, store.Config{})
			samePicture(t, before, takePicture(t, s))
			seq := put(t, s, "a.0", "after")
			if seq != before.state.LastSeq+1 {
				t.Fatalf("next sequence after reopen %d, want %d", seq, before.state.LastSeq+1)
			}
			closeOK(t, s)
		})
	}
}

// testReopenEmpty reopens stores that hold no message: one that never held
// any reports FirstSeq and LastSeq 0, one emptied by Truncate(0) FirstSeq 1
// and LastSeq 0, and the administrative operations that change nothing on
// an empty store keep it that way across the reopen.
func testReopenEmpty(t *testing.T, reopen ReopenFunc) {
	steps := []struct {
		name        string
		do          func(t *testing.T, s store.StreamStore)
		first, last uint64
	}{
		{"Fresh", func(t *testing.T, s store.StreamStore) {}, 0, 0},
		{"Purge", func(t *testing.T, s store.StreamStore) {
			_, err := s.Purge(store.PurgeRequest{})
			noErr(t, "Purge", err)
		}, 0, 0},
		{"CompactOne", func(t *testing.T, s store.StreamStore) {
			_, err := s.Compact(1)
			noErr(t, "Compact", err)
		}, 0, 0},
		{"TruncateZero", func(t *testing.T, s store.StreamStore) {
			noErr(t, "Truncate", s.Truncate(0))
		}, 0, 0},
		{"CompactPastEnd", func(t *testing.T, s store.StreamStore) {
			_, err := s.Compact(50)
			noErr(t, "Compact", err)
		}, 50, 49},
		{"StoredThenTruncateZero", func(t *testing.T, s store.StreamStore) {
			put(t, s, "a", "1")
			noErr(t, "Truncate", s.Truncate(0))
		}, 1, 0},
		{"TruncateZeroThenCompactPastEnd", func(t *testing.T, s store.StreamStore) {
			put(t, s, "a", "1")
			noErr(t, "Truncate", s.Truncate(0))
			_, err := s.Compact(7)
			noErr(t, "Compact", err)
		}, 7, 6},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			dir := t.TempDir()
			s := reopen(t, dir, store.Config{})
			step.do(t, s)
			wantCounts(t, s, counts{First: step.first, Last: step.last})
			before := takePicture(t, s)
			closeOK(t, s)
			s = reopen(t, dir, store.Config{})
			samePicture(t, before, takePicture(t, s))
			putSeq(t, s, step.last+1, "after")
			closeOK(t, s)
		})
	}
}

func testReopenTTL(t *testing.T, reopen ReopenFunc) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		s := reopen(t, dir, store.Config{})
		_, err := s.StoreMsg("ttl", nil, nil, 0, time.Minute)
		noErr(t, "StoreMsg", err)
		_, err = s.StoreMsg("keep", nil, nil, 0, store.NoExpiry)
		noErr(t, "StoreMsg", err)
		closeOK(t, s)

		r := newRecorder()
		s = reopen(t, dir, store.Config{MaxAge: 30 * time.Second, OnRemove: r.cb})
		wantSeqs(t, s, "", 1, 2)
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		wantRemoved(t, r, rm(1, "ttl", store.RemovedTTL))
		wantSeqs(t, s, "", 2)
		closeOK(t, s)
	})
}

// testReopenAfterSkip reopens stores after SkipMsgs: the skipped ranges,
// and LastTime, are all there after the reopen.
func testReopenAfterSkip(t *testing.T, reopen ReopenFunc) {
	steps := []struct {
		name string
		do   func(t *testing.T, s store.StreamStore)
	}{
		{"Fresh", func(t *testing.T, s store.StreamStore) { skip(t, s, 1, 10) }},
		{"FreshThenStore", func(t *testing.T, s store.StreamStore) {
			skip(t, s, 1, 10)
			putSeq(t, s, 11, "a")
		}},
		{"AtEnd", func(t *testing.T, s store.StreamStore) {
			putSeq(t, s, 1, "a")
			putSeq(t, s, 2, "b")
			skip(t, s, 3, 5)
		}},
		{"HugeAtEnd", func(t *testing.T, s store.StreamStore) {
			putSeq(t, s, 1, "a")
			skip(t, s, 2, huge)
		}},
		{"Between", func(t *testing.T, s store.StreamStore) {
			putSeq(t, s, 1, "a")
			skip(t, s, 2, 3)
			putSeq(t, s, 5, "b")
			skip(t, s, 6, huge)
			putSeq(t, s, 6+huge, "c")
			skip(t, s, 7+huge, 1)
			skip(t, s, 8+huge, 500)
			putSeq(t, s, 508+huge, "d")
		}},
		{"Emptied", func(t *testing.T, s store.StreamStore) {
			putSeq(t, s, 1, "a")
			skip(t, s, 2, 100)
			noErr(t, "RemoveMsg", s.RemoveMsg(1))
		}},
		{"PurgedThenSkip", func(t *testing.T, s store.StreamStore) {
			putSeq(t, s, 1, "a")
			_, err := s.Purge(store.PurgeRequest{})
			noErr(t, "Purge", err)
			skip(t, s, 2, 100)
		}},
		{"Truncated", func(t *testing.T, s store.StreamStore) {
			putSeq(t, s, 1, "a")
			skip(t, s, 2, 100)
			putSeq(t, s, 102, "b")
			noErr(t, "Truncate", s.Truncate(50))
		}},
		{"Compacted", func(t *testing.T, s store.StreamStore) {
			putSeq(t, s, 1, "a")
			skip(t, s, 2, huge)
			putSeq(t, s, 2+huge, "b")
			_, err := s.Compact(huge)
			noErr(t, "Compact", err)
		}},
		{"ManyMessages", func(t *testing.T, s store.StreamStore) {
			for i := range 300 {
				put(t, s, fmt.Sprintf("m.%d", i%7), fmt.Sprint(i))
				if i%3 == 0 {
					skip(t, s, s.State().LastSeq+1, uint64(1+i%200))
				}
			}
		}},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			dir := t.TempDir()
			s := reopen(t, dir, store.Config{})
			step.do(t, s)
			before := takePicture(t, s)
			closeOK(t, s)
			s = reopen(t, dir, store.Config{})
			samePicture(t, before, takePicture(t, s))
			last := before.state.LastSeq
			putSeq(t, s, last+1, "after")
			skip(t, s, last+2, 3)
			closeOK(t, s)
			// And once more, after a store and a skip on the reopened store.
			s = reopen(t, dir, store.Config{})
			if st := s.State(); st.LastSeq != last+4 || st.Msgs != before.state.Msgs+1 {
				t.Fatalf("second reopen: State %+v, want LastSeq %d and %d messages", st, last+4, before.state.Msgs+1)
			}
			closeOK(t, s)
		})
	}
}
