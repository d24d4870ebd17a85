package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"natsd.dev/jetstream/store"
)

func init() {
	register(
		test{"Empty", testEmpty},
		test{"StoreLoad", testStoreLoad},
		test{"BufferReuse", testBufferReuse},
		test{"InvalidSubject", testInvalidSubject},
		test{"InvalidFilter", testInvalidFilter},
		test{"LoadNext", testLoadNext},
		test{"LoadLast", testLoadLast},
		test{"RemoveErase", testRemoveErase},
		test{"Purge", testPurge},
		test{"Compact", testCompact},
		test{"Truncate", testTruncate},
		test{"SubjectsTotals", testSubjectsTotals},
		test{"FilteredState", testFilteredState},
		test{"Closed", testClosed},
		test{"Durability", testDurability},
		test{"Concurrent", testConcurrent},
	)
}

func testEmpty(t *testing.T, open OpenFunc) {
	s := newStore(t, open, store.Config{})
	st := s.State()
	if st.Msgs != 0 || st.Bytes != 0 || st.FirstSeq != 0 || st.LastSeq != 0 || !st.FirstTime.IsZero() ||
		!st.LastTime.IsZero() || st.NumDeleted != 0 || st.NumSubjects != 0 || st.Consumers != 0 {
		t.Fatalf("empty State = %+v", st)
	}
	var m store.StoredMsg
	for _, seq := range []uint64{0, 1, 2} {
		wantErr(t, fmt.Sprint("LoadMsg ", seq), s.LoadMsg(seq, &m), store.ErrMsgNotFound)
		wantErr(t, fmt.Sprint("RemoveMsg ", seq), s.RemoveMsg(seq), store.ErrMsgNotFound)
		wantErr(t, fmt.Sprint("EraseMsg ", seq), s.EraseMsg(seq), store.ErrMsgNotFound)
	}
	for _, f := range []string{"", ">", "foo", "foo.*"} {
		wantErr(t, "LoadNextMsg "+f, s.LoadNextMsg(f, 0, &m), store.ErrMsgNotFound)
		wantErr(t, "LoadLastMsg "+f, s.LoadLastMsg(f, &m), store.ErrMsgNotFound)
		fs, err := s.FilteredState(f, 0)
		noErr(t, "FilteredState", err)
		if fs != (store.FilteredState{}) {
			t.Fatalf("FilteredState(%q) = %+v", f, fs)
		}
		tot, err := s.SubjectsTotals(f)
		noErr(t, "SubjectsTotals", err)
		if tot == nil || len(tot) != 0 {
			t.Fatalf("SubjectsTotals(%q) = %v, want empty non-nil map", f, tot)
		}
	}
	n, err := s.Purge(store.PurgeRequest{})
	noErr(t, "Purge", err)
	if n != 0 {
		t.Fatalf("Purge of empty store = %d", n)
	}
	n, err = s.Compact(1)
	noErr(t, "Compact", err)
	if n != 0 {
		t.Fatalf("Compact(1) of empty store = %d", n)
	}
	noErr(t, "Truncate", s.Truncate(0))
	putSeq(t, s, 1, "foo")
}

func testStoreLoad(t *testing.T, open OpenFunc) {
	s := newStore(t, open, store.Config{})
	type in struct{ subj, hdr, data string }
	msgs := []in{
		{"foo", "", "hello"},
		{"foo.bar", "NATS/1.0\r\nA: b\r\n\r\n", "payload"},
		{"baz", "NATS/1.0\r\n\r\n", ""},
		{"foo", "", ""},
		{"a.b.c.d.e", "", string(make([]byte, 70000))},
	}
	var total uint64
	before := time.Now().UnixNano()
	for i, m := range msgs {
		hdr, data := []byte(m.hdr), []byte(m.data)
		seq, err := s.StoreMsg(m.subj, hdr, data, 0, 0)
		noErr(t, "StoreMsg", err)
		if seq != uint64(i+1) {
			t.Fatalf("seq %d, want %d", seq, i+1)
		}
		// The store must have copied: scribble over the caller's buffers.
		for j := range hdr {
			hdr[j] = 'X'
		}
		for j := range data {
			data[j] = 'Y'
		}
		total += store.MsgSize(m.subj, []byte(m.hdr), []byte(m.data))
	}
	after := time.Now().UnixNano()
	var m store.StoredMsg
	for i, w := range msgs {
		noErr(t, "LoadMsg", s.LoadMsg(uint64(i+1), &m))
		wantMsg(t, &m, uint64(i+1), w.subj, w.hdr, w.data)
		if m.Time < before || m.Time > after {
			t.Fatalf("Time %d not within [%d, %d]", m.Time, before, after)
		}
		// Modifying the loaded copy must not change the store.
		for j := range m.Data {
			m.Data[j] = 'Z'
		}
	}
	noErr(t, "LoadMsg", s.LoadMsg(1, &m))
	wantMsg(t, &m, 1, "foo", "", "hello")

	ts := epoch + 12345
	seq, err := s.StoreMsg("timed", nil, []byte("x"), ts, 0)
	noErr(t, "StoreMsg with ts", err)
	noErr(t, "LoadMsg", s.LoadMsg(seq, &m))
	if m.Time != ts {
		t.Fatalf("Time %d, want %d", m.Time, ts)
	}
	total += store.MsgSize("timed", nil, []byte("x"))

	st := s.State()
	if st.Msgs != 6 || st.Bytes != total || st.FirstSeq != 1 || st.LastSeq != 6 || st.NumSubjects != 5 || st.NumDeleted != 0 {
		t.Fatalf("State = %+v, want 6 msgs %d bytes 5 subjects", st, total)
	}
	noErr(t, "LoadMsg", s.LoadMsg(1, &m))
	if !st.FirstTime.Equal(time.Unix(0, m.Time)) || !st.LastTime.Equal(time.Unix(0, ts)) {
		t.Fatalf("FirstTime %v LastTime %v", st.FirstTime, st.LastTime)
	}
	wantErr(t, "LoadMsg 7", s.LoadMsg(7, &m), store.ErrMsgNotFound)
}

func testBufferReuse(t *testing.T, open OpenFunc) {
	s := newStore(t, open, store.Config{})
	big := make([]byte, 4096)
	put(t, s, "big", string(big))
	_, err := s.StoreMsg("small", []byte("h"), []byte("d"), 0, 0)
	noErr(t, "StoreMsg", err)
	var m store.StoredMsg
	noErr(t, "LoadMsg", s.LoadMsg(1, &m))
	c := cap(m.Buf)
	if c < 4096 {
		t.Fatalf("Buf cap %d after loading 4096 bytes", c)
	}
	noErr(t, "LoadMsg", s.LoadMsg(2, &m))
	wantMsg(t, &m, 2, "small", "h", "d")
	if cap(m.Buf) != c {
		t.Fatalf("Buf was reallocated for a smaller message")
	}
	// Hdr must not run into Data.
	m.Hdr = append(m.Hdr, 'Q')
	if string(m.Data) != "d" {
		t.Fatalf("appending to Hdr overwrote Data: %q", m.Data)
	}
}

func testInvalidSubject(t *testing.T, open OpenFunc) {
	s := newStore(t, open, store.Config{})
	for _, subj := range []string{"", "foo.*", "foo.>", ">", "*", "a..b", ".a", "a.", "a b", "a\tb"} {
		_, err := s.StoreMsg(subj, nil, []byte("x"), 0, 0)
		wantErr(t, fmt.Sprintf("StoreMsg(%q)", subj), err, store.ErrInvalidSubject)
	}
	putSeq(t, s, 1, "ok")
}

func testInvalidFilter(t *testing.T, open OpenFunc) {
	s := newStore(t, open, store.Config{})
	put(t, s, "foo", "x")
	var m store.StoredMsg
	for _, f := range []string{"a..b", "foo.>.bar", "a b", ".foo"} {
		wantErr(t, "LoadNextMsg "+f, s.LoadNextMsg(f, 1, &m), store.ErrInvalidFilter)
		wantErr(t, "LoadLastMsg "+f, s.LoadLastMsg(f, &m), store.ErrInvalidFilter)
		_, err := s.FilteredState(f, 0)
		wantErr(t, "FilteredState "+f, err, store.ErrInvalidFilter)
		_, err = s.SubjectsTotals(f)
		wantErr(t, "SubjectsTotals "+f, err, store.ErrInvalidFilter)
		_, err = s.Purge(store.PurgeRequest{Filter: f})
		wantErr(t, "Purge "+f, err, store.ErrInvalidFilter)
	}
	wantCounts(t, s, counts{1, 1, 1, 0, 1})
}

// fill stores subjects in order, one message each, starting at seq 1.
func fill(t *testing.T, s store.StreamStore, subjects ...string) {
	t.Helper()
	for i, subj := range subjects {
		putSeq(t, s, uint64(i+1), subj)
	}
}

func testLoadNext(t *testing.T, open OpenFunc) {
	s := newStore(t, open, store.Config{})
	fill(t, s, "a.1", "b.1", "a.2", "a.1", "c.x.y", "b.2", "a.1", "a.2.3")
	wantSeqs(t, s, "", 1, 2, 3, 4, 5, 6, 7, 8)
	wantSeqs(t, s, ">", 1, 2, 3, 4, 5, 6, 7, 8)
	wantSeqs(t, s, "a.1", 1, 4, 7)
	wantSeqs(t, s, "a.*", 1, 3, 4, 7)
	wantSeqs(t, s, "a.>", 1, 3, 4, 7, 8)
	wantSeqs(t, s, "*.1", 1, 2, 4, 7)
	wantSeqs(t, s, "*.*.*", 5, 8)
	wantSeqs(t, s, "c.>", 5)
	wantSeqs(t, s, "nope")
	wantSeqs(t, s, "nope.*")

	var m store.StoredMsg
	noErr(t, "LoadNextMsg", s.LoadNextMsg("a.1", 5, &m))
	wantMsg(t, &m, 7, "a.1", "", "msg-7")
	noErr(t, "LoadNextMsg start 0", s.LoadNextMsg("b.*", 0, &m))
	if m.Seq != 2 {
		t.Fatalf("LoadNextMsg from 0 = %d", m.Seq)
	}
	wantErr(t, "past the end", s.LoadNextMsg("", 9, &m), store.ErrMsgNotFound)
	wantErr(t, "past the end", s.LoadNextMsg("a.1", 8, &m), store.ErrMsgNotFound)

	// Gaps.
	noErr(t, "RemoveMsg", s.RemoveMsg(4))
	noErr(t, "RemoveMsg", s.RemoveMsg(1))
	noErr(t, "RemoveMsg", s.RemoveMsg(2))
	wantSeqs(t, s, "", 3, 5, 6, 7, 8)
	wantSeqs(t, s, "a.1", 7)
	wantSeqs(t, s, "a.*", 3, 7)
	noErr(t, "LoadNextMsg into gap", s.LoadNextMsg("a.1", 1, &m))
	if m.Seq != 7 {
		t.Fatalf("LoadNextMsg(a.1, 1) = %d, want 7", m.Seq)
	}
	// New messages after gaps are found.
	putSeq(t, s, 9, "a.1")
	wantSeqs(t, s, "a.1", 7, 9)
}

func testLoadLast(t *testing.T, open OpenFunc) {
	s := newStore(t, open, store.Config{})
	fill(t, s, "kv.a", "kv.b", "kv.a", "other", "kv.c.d")
	var m store.StoredMsg
	for _, c := range []struct {
		filter string
		seq    uint64
	}{{"kv.a", 3}, {"kv.b", 2}, {"kv.*", 3}, {"kv.>", 5}, {"", 5}, {">", 5}, {"other", 4}, {"*.c.*", 5}} {
		noErr(t, "LoadLastMsg "+c.filter, s.LoadLastMsg(c.filter, &m))
		if m.Seq != c.seq {
			t.Fatalf("LoadLastMsg(%q) = %d, want %d", c.filter, m.Seq, c.seq)
		}
	}
	wantErr(t, "LoadLastMsg missing", s.LoadLastMsg("kv.z", &m), store.ErrMsgNotFound)
	noErr(t, "RemoveMsg", s.RemoveMsg(3))
	noErr(t, "RemoveMsg", s.RemoveMsg(5))
	noErr(t, "LoadLastMsg", s.LoadLastMsg("kv.a", &m))
	wantMsg(t, &m, 1, "kv.a", "", "msg-1")
	noErr(t, "LoadLastMsg", s.LoadLastMsg("", &m))
	if m.Seq != 4 {
		t.Fatalf("LoadLastMsg(all) after removes = %d", m.Seq)
	}
	noErr(t, "RemoveMsg", s.RemoveMsg(1))
	wantErr(t, "LoadLastMsg removed subject", s.LoadLastMsg("kv.a", &m), store.ErrMsgNotFound)
}

func testRemoveErase(t *testing.T, open OpenFunc) {
	s := newStore(t, open, store.Config{})
	fill(t, s, "a", "b", "a", "c", "a")
	bytesBefore := s.State().Bytes
	noErr(t, "RemoveMsg 3", s.RemoveMsg(3))
	wantErr(t, "RemoveMsg 3 again", s.RemoveMsg(3), store.ErrMsgNotFound)
	wantCounts(t, s, counts{4, 1, 5, 1, 3})
	if got := s.State().Bytes; got != bytesBefore-store.MsgSize("a", nil, []byte("msg-3")) {
		t.Fatalf("Bytes after remove %d", got)
	}
	noErr(t, "EraseMsg 1", s.EraseMsg(1))
	wantErr(t, "EraseMsg 1 again", s.EraseMsg(1), store.ErrMsgNotFound)
	wantCounts(t, s, counts{3, 2, 5, 1, 3})
	var m store.StoredMsg
	wantErr(t, "LoadMsg erased", s.LoadMsg(1, &m), store.ErrMsgNotFound)
	wantErr(t, "LoadMsg removed", s.LoadMsg(3, &m), store.ErrMsgNotFound)
	// Removing the last message keeps LastSeq.
	noErr(t, "RemoveMsg 5", s.RemoveMsg(5))
	wantCounts(t, s, counts{2, 2, 5, 2, 2})
	noErr(t, "RemoveMsg 2", s.RemoveMsg(2))
	wantCounts(t, s, counts{1, 4, 5, 1, 1})
	noErr(t, "RemoveMsg 4", s.RemoveMsg(4))
	wantCounts(t, s, counts{0, 6, 5, 0, 0})
	if st := s.State(); st.Bytes != 0 || !st.FirstTime.IsZero() || st.LastTime.IsZero() {
		t.Fatalf("State after removing all = %+v", st)
	}
	putSeq(t, s, 6, "a")
	wantCounts(t, s, counts{1, 6, 6, 0, 1})
	wantErr(t, "RemoveMsg 0", s.RemoveMsg(0), store.ErrMsgNotFound)
	wantErr(t, "RemoveMsg 99", s.RemoveMsg(99), store.ErrMsgNotFound)
}

func testPurge(t *testing.T, open OpenFunc) {
	subjects := []string{"a.1", "b.1", "a.2", "a.1", "b.1", "a.1", "c", "a.2"}
	cases := []struct {
		name   string
		req    store.PurgeRequest
		purged uint64
		left   []uint64
		state  counts
	}{
		{"All", store.PurgeRequest{}, 8, nil, counts{0, 9, 8, 0, 0}},
		{"AllFilterGT", store.PurgeRequest{Filter: ">"}, 8, nil, counts{0, 9, 8, 0, 0}},
		{"Literal", store.PurgeRequest{Filter: "a.1"}, 3, []uint64{2, 3, 5, 7, 8}, counts{5, 2, 8, 2, 3}},
		{"Wildcard", store.PurgeRequest{Filter: "a.*"}, 5, []uint64{2, 5, 7}, counts{3, 2, 8, 4, 2}},
		{"FullWildcard", store.PurgeRequest{Filter: "b.>"}, 2, []uint64{1, 3, 4, 6, 7, 8}, counts{6, 1, 8, 2, 3}},
		{"NoMatch", store.PurgeRequest{Filter: "zzz"}, 0, []uint64{1, 2, 3, 4, 5, 6, 7, 8}, counts{8, 1, 8, 0, 4}},
		{"Keep", store.PurgeRequest{Keep: 3}, 5, []uint64{6, 7, 8}, counts{3, 6, 8, 0, 3}},
		{"KeepMore", store.PurgeRequest{Keep: 100}, 0, []uint64{1, 2, 3, 4, 5, 6, 7, 8}, counts{8, 1, 8, 0, 4}},
		{"KeepLiteral", store.PurgeRequest{Filter: "a.1", Keep: 1}, 2, []uint64{2, 3, 5, 6, 7, 8}, counts{6, 2, 8, 1, 4}},
		{"KeepWildcard", store.PurgeRequest{Filter: "a.*", Keep: 2}, 3, []uint64{2, 5, 6, 7, 8}, counts{5, 2, 8, 2, 4}},
		{"Seq", store.PurgeRequest{Seq: 4}, 3, []uint64{4, 5, 6, 7, 8}, counts{5, 4, 8, 0, 4}},
		{"SeqBeyond", store.PurgeRequest{Seq: 20}, 8, nil, counts{0, 20, 19, 0, 0}},
		{"SeqLiteral", store.PurgeRequest{Filter: "a.1", Seq: 6}, 2, []uint64{2, 3, 5, 6, 7, 8}, counts{6, 2, 8, 1, 4}},
		{"SeqWildcard", store.PurgeRequest{Filter: "a.*", Seq: 7}, 4, []uint64{2, 5, 7, 8}, counts{4, 2, 8, 3, 3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newStore(t, open, store.Config{})
			fill(t, s, subjects...)
			n, err := s.Purge(c.req)
			noErr(t, "Purge", err)
			if n != c.purged {
				t.Fatalf("Purge(%+v) = %d, want %d", c.req, n, c.purged)
			}
			wantSeqs(t, s, "", c.left...)
			wantCounts(t, s, c.state)
			// Sequences continue after a purge.
			putSeq(t, s, c.state.Last+1, "new")
		})
	}
	t.Run("SeqAndKeep", func(t *testing.T) {
		s := newStore(t, open, store.Config{})
		fill(t, s, subjects...)
		_, err := s.Purge(store.PurgeRequest{Seq: 2, Keep: 2})
		wantErr(t, "Purge", err, store.ErrInvalidPurge)
		wantCounts(t, s, counts{8, 1, 8, 0, 4})
	})
}

func testCompact(t *testing.T, open OpenFunc) {
	cases := []struct {
		seq    uint64
		purged uint64
		state  counts
	}{
		{0, 0, counts{5, 1, 5, 0, 2}},
		{1, 0, counts{5, 1, 5, 0, 2}},
		{3, 2, counts{3, 3, 5, 0, 2}},
		{5, 4, counts{1, 5, 5, 0, 1}},
		{6, 5, counts{0, 6, 5, 0, 0}},
		{100, 5, counts{0, 100, 99, 0, 0}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.seq), func(t *testing.T) {
			s := newStore(t, open, store.Config{})
			fill(t, s, "a", "b", "a", "b", "a")
			n, err := s.Compact(c.seq)
			noErr(t, "Compact", err)
			if n != c.purged {
				t.Fatalf("Compact(%d) = %d, want %d", c.seq, n, c.purged)
			}
			wantCounts(t, s, c.state)
			putSeq(t, s, c.state.Last+1, "next")
		})
	}
	t.Run("Gaps", func(t *testing.T) {
		s := newStore(t, open, store.Config{})
		fill(t, s, "a", "b", "a", "b", "a", "c")
		noErr(t, "RemoveMsg", s.RemoveMsg(4))
		noErr(t, "RemoveMsg", s.RemoveMsg(5))
		n, err := s.Compact(4)
		noErr(t, "Compact", err)
		if n != 3 {
			t.Fatalf("Compact over gaps = %d", n)
		}
		wantCounts(t, s, counts{1, 6, 6, 0, 1})
		n, _ = s.Compact(2)
		if n != 0 {
			t.Fatalf("Compact below first = %d", n)
		}
	})
	t.Run("EmptyFresh", func(t *testing.T) {
		s := newStore(t, open, store.Config{})
		_, err := s.Compact(10)
		noErr(t, "Compact", err)
		wantCounts(t, s, counts{0, 10, 9, 0, 0})
		putSeq(t, s, 10, "x")
	})
}

func testTruncate(t *testing.T, open OpenFunc) {
	cases := []struct {
		seq   uint64
		state counts
		last  []uint64
	}{
		{10, counts{5, 1, 5, 0, 2}, []uint64{1, 2, 3, 4, 5}},
		{5, counts{5, 1, 5, 0, 2}, []uint64{1, 2, 3, 4, 5}},
		{3, counts{3, 1, 3, 0, 2}, []uint64{1, 2, 3}},
		{1, counts{1, 1, 1, 0, 1}, []uint64{1}},
		{0, counts{0, 1, 0, 0, 0}, nil},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.seq), func(t *testing.T) {
			s := newStore(t, open, store.Config{})
			for i, subj := range []string{"a", "b", "a", "b", "a"} {
				_, err := s.StoreMsg(subj, nil, []byte("x"), epoch+int64(i), 0)
				noErr(t, "StoreMsg", err)
			}
			noErr(t, "Truncate", s.Truncate(c.seq))
			wantCounts(t, s, c.state)
			wantSeqs(t, s, "", c.last...)
			st := s.State()
			if c.seq > 0 && st.LastTime.UnixNano() != epoch+int64(min(c.seq, 5)-1) {
				t.Fatalf("LastTime %v", st.LastTime)
			}
			putSeq(t, s, min(c.seq, 5)+1, "a")
			wantSeqs(t, s, "a", append(filterSeqs(c.last, 1, 3, 5), min(c.seq, 5)+1)...)
		})
	}
	t.Run("RemovedLast", func(t *testing.T) {
		s := newStore(t, open, store.Config{})
		for i, subj := range []string{"a", "b", "a", "b", "a"} {
			_, err := s.StoreMsg(subj, nil, []byte("x"), epoch+int64(i), 0)
			noErr(t, "StoreMsg", err)
		}
		noErr(t, "RemoveMsg", s.RemoveMsg(3))
		noErr(t, "Truncate", s.Truncate(3))
		wantCounts(t, s, counts{2, 1, 3, 1, 2})
		if got := s.State().LastTime.UnixNano(); got != epoch+1 {
			t.Fatalf("LastTime %d, want time of seq 2", got-epoch)
		}
		putSeq(t, s, 4, "b")
		wantSeqs(t, s, "b", 2, 4)
	})
}

// filterSeqs returns the elements of have that are in keep.
func filterSeqs(have []uint64, keep ...uint64) []uint64 {
	var out []uint64
	for _, h := range have {
		for _, k := range keep {
			if h == k {
				out = append(out, h)
			}
		}
	}
	return out
}

func testSubjectsTotals(t *testing.T, open OpenFunc) {
	s := newStore(t, open, store.Config{})
	fill(t, s, "a.1", "a.2", "a.1", "b.1", "b.2.x", "a.1")
	noErr(t, "RemoveMsg", s.RemoveMsg(2))
	for _, c := range []struct {
		filter string
		want   string
	}{
		{"", "map[a.1:3 b.1:1 b.2.x:1]"},
		{">", "map[a.1:3 b.1:1 b.2.x:1]"},
		{"a.*", "map[a.1:3]"},
		{"a.2", "map[]"},
		{"b.>", "map[b.1:1 b.2.x:1]"},
		{"*.1", "map[a.1:3 b.1:1]"},
		{"b.1", "map[b.1:1]"},
	} {
		got, err := s.SubjectsTotals(c.filter)
		noErr(t, "SubjectsTotals", err)
		if fmt.Sprint(got) != c.want {
			t.Fatalf("SubjectsTotals(%q) = %v, want %v", c.filter, got, c.want)
		}
		got["scribble"] = 1
	}
	if st := s.State(); st.NumSubjects != 3 {
		t.Fatalf("NumSubjects %d", st.NumSubjects)
	}
}

func testFilteredState(t *testing.T, open OpenFunc) {
	s := newStore(t, open, store.Config{})
	fill(t, s, "a.1", "a.2", "a.1", "b.1", "b.2.x", "a.1")
	noErr(t, "RemoveMsg", s.RemoveMsg(3))
	for _, c := range []struct {
		filter string
		start  uint64
		want   store.FilteredState
	}{
		{"", 0, store.FilteredState{Msgs: 5, First: 1, Last: 6}},
		{">", 4, store.FilteredState{Msgs: 3, First: 4, Last: 6}},
		{"a.1", 0, store.FilteredState{Msgs: 2, First: 1, Last: 6}},
		{"a.1", 2, store.FilteredState{Msgs: 1, First: 6, Last: 6}},
		{"a.*", 2, store.FilteredState{Msgs: 2, First: 2, Last: 6}},
		{"*.1", 0, store.FilteredState{Msgs: 3, First: 1, Last: 6}},
		{"b.>", 5, store.FilteredState{Msgs: 1, First: 5, Last: 5}},
		{"b.>", 7, store.FilteredState{}},
		{"zz", 0, store.FilteredState{}},
	} {
		got, err := s.FilteredState(c.filter, c.start)
		noErr(t, "FilteredState", err)
		if got != c.want {
			t.Fatalf("FilteredState(%q, %d) = %+v, want %+v", c.filter, c.start, got, c.want)
		}
	}
}

func testClosed(t *testing.T, open OpenFunc) {
	s := newStore(t, open, store.Config{})
	fill(t, s, "a", "b")
	c, err := s.Consumer("dur")
	noErr(t, "Consumer", err)
	want := s.State()
	noErr(t, "Close", s.Close())
	wantErr(t, "Close again", s.Close(), store.ErrStoreClosed)
	var m store.StoredMsg
	_, err = s.StoreMsg("a", nil, nil, 0, 0)
	wantErr(t, "StoreMsg", err, store.ErrStoreClosed)
	wantErr(t, "LoadMsg", s.LoadMsg(1, &m), store.ErrStoreClosed)
	wantErr(t, "LoadNextMsg", s.LoadNextMsg("", 1, &m), store.ErrStoreClosed)
	wantErr(t, "LoadLastMsg", s.LoadLastMsg("a", &m), store.ErrStoreClosed)
	wantErr(t, "RemoveMsg", s.RemoveMsg(1), store.ErrStoreClosed)
	wantErr(t, "EraseMsg", s.EraseMsg(1), store.ErrStoreClosed)
	_, err = s.Purge(store.PurgeRequest{})
	wantErr(t, "Purge", err, store.ErrStoreClosed)
	_, err = s.Compact(2)
	wantErr(t, "Compact", err, store.ErrStoreClosed)
	wantErr(t, "Truncate", s.Truncate(1), store.ErrStoreClosed)
	_, err = s.FilteredState("", 0)
	wantErr(t, "FilteredState", err, store.ErrStoreClosed)
	_, err = s.SubjectsTotals("")
	wantErr(t, "SubjectsTotals", err, store.ErrStoreClosed)
	wantErr(t, "UpdateConfig", s.UpdateConfig(store.Config{}), store.ErrStoreClosed)
	wantErr(t, "Snapshot", s.Snapshot(t.Context(), new(nopWriter)), store.ErrStoreClosed)
	_, err = s.Consumer("x")
	wantErr(t, "Consumer", err, store.ErrStoreClosed)
	wantErr(t, "ConsumerStore.SetState", c.SetState(&store.ConsumerState{}), store.ErrStoreClosed)
	wantErr(t, "ConsumerStore.State", c.State(&store.ConsumerState{}), store.ErrStoreClosed)
	if got := s.State(); got.Msgs != want.Msgs || got.LastSeq != want.LastSeq {
		t.Fatalf("State after Close = %+v, want %+v", got, want)
	}
}

type nopWriter struct{}

func (*nopWriter) Write(p []byte) (int, error) { return len(p), nil }

func testDurability(t *testing.T, open OpenFunc) {
	var (
		got  = make(chan uint64, 1<<16)
		last uint64
	)
	s := open(t, store.Config{OnDurable: func(seq uint64) { got <- seq }})
	const n = 100
	for range n {
		seq := put(t, s, "d", "x")
		if d, ok := s.(store.Durable); ok {
			noErr(t, "WaitDurable", d.WaitDurable(t.Context(), seq))
			if d.DurableSeq() < seq {
				t.Fatalf("DurableSeq %d < %d after WaitDurable", d.DurableSeq(), seq)
			}
		}
	}
	noErr(t, "Close", s.Close())
	close(got)
	for seq := range got {
		if seq <= last {
			t.Fatalf("OnDurable(%d) after OnDurable(%d)", seq, last)
		}
		last = seq
	}
	if last != n {
		t.Fatalf("OnDurable reached %d by Close, want %d", last, n)
	}
	if d, ok := s.(store.Durable); ok {
		wantErr(t, "WaitDurable after Close", d.WaitDurable(t.Context(), n+1), store.ErrStoreClosed)
	}
}

func testConcurrent(t *testing.T, open OpenFunc) {
	s := newStore(t, open, store.Config{MaxMsgsPerSubject: 50})
	const writers, each = 4, 500
	errs := make(chan error, writers*2)
	seen := make(chan uint64, writers*each)
	for w := range writers {
		go func() {
			subj := fmt.Sprintf("w.%d", w)
			for i := range each {
				seq, err := s.StoreMsg(subj, nil, []byte{byte(i)}, 0, 0)
				if err != nil {
					errs <- err
					return
				}
				seen <- seq
			}
			errs <- nil
		}()
		go func() {
			var m store.StoredMsg
			for range each {
				err := s.LoadLastMsg(fmt.Sprintf("w.%d", w), &m)
				if err != nil && !errors.Is(err, store.ErrMsgNotFound) {
					errs <- err
					return
				}
				_ = s.LoadNextMsg("w.*", 1, &m)
				_ = s.State()
			}
			errs <- nil
		}()
	}
	for range writers * 2 {
		noErr(t, "goroutine", <-errs)
	}
	close(seen)
	have := make(map[uint64]bool)
	for seq := range seen {
		if have[seq] {
			t.Fatalf("sequence %d assigned twice", seq)
		}
		have[seq] = true
	}
	for seq := uint64(1); seq <= writers*each; seq++ {
		if !have[seq] {
			t.Fatalf("sequence %d never assigned", seq)
		}
	}
	wantCounts(t, s, counts{writers * 50, s.State().FirstSeq, writers * each, s.State().NumDeleted, writers})
	tot, _ := s.SubjectsTotals("")
	for subj, n := range tot {
		if n != 50 {
			t.Fatalf("subject %s holds %d, want 50", subj, n)
		}
	}
}
