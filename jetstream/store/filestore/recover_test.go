package filestore_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"

	"natsd.dev/jetstream/store"
	"natsd.dev/jetstream/store/filestore"
)

type msg struct {
	Seq  uint64
	Subj string
	Hdr  string
	Data string
	Time int64
}

// dump returns the state and every message of s.
func dump(t *testing.T, s store.StreamStore) (store.StreamState, []msg) {
	t.Helper()
	var out []msg
	var m store.StoredMsg
	for seq := uint64(0); ; seq = m.Seq + 1 {
		err := s.LoadNextMsg("", seq, &m)
		if errors.Is(err, store.ErrMsgNotFound) {
			break
		}
		if err != nil {
			t.Fatalf("LoadNextMsg(%d): %v", seq, err)
		}
		out = append(out, msg{m.Seq, m.Subject, string(m.Hdr), string(m.Data), m.Time})
	}
	st := s.State()
	st.Lost = nil
	return st, out
}

func open(t *testing.T, dir string, cfg filestore.Config, scfg store.Config) *filestore.Store {
	t.Helper()
	cfg.Dir = dir
	s, err := filestore.Open(cfg, scfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// TestReopenModel runs random operations and checks after each round that
// a closed and reopened store equals the store before Close.
func TestReopenModel(t *testing.T) {
	for _, bs := range []int64{300, 4096, 0, 1000} {
		t.Run(fmt.Sprint(bs), func(t *testing.T) {
			dir := t.TempDir()
			cfg := filestore.Config{BlockSize: bs, CacheSize: 2048}
			if bs == 1000 {
				cfg.EncryptionKey = []byte("0123456789abcdef")
			}
			r := rand.New(rand.NewPCG(uint64(bs), 3))
			s := open(t, dir, cfg, store.Config{})
			rounds := 40
			if testing.Short() {
				rounds = 10
			}
			for round := range rounds {
				for range 1 + r.IntN(60) {
					st := s.State()
					switch op := r.IntN(100); {
					case op < 60:
						subj := fmt.Sprintf("s.%d", r.IntN(7))
						var hdr []byte
						if r.IntN(3) == 0 {
							hdr = []byte("H:1")
						}
						if _, err := s.StoreMsg(subj, hdr, bytes.Repeat([]byte{byte(op)}, r.IntN(80)), 0, 0); err != nil {
							t.Fatal(err)
						}
					case op < 72:
						s.RemoveMsg(st.FirstSeq + uint64(r.IntN(int(st.Msgs)+2)))
					case op < 76:
						s.EraseMsg(st.FirstSeq + uint64(r.IntN(int(st.Msgs)+2)))
					case op < 80:
						if _, err := s.Purge(store.PurgeRequest{Filter: fmt.Sprintf("s.%d", r.IntN(7))}); err != nil {
							t.Fatal(err)
						}
					case op < 83:
						if _, err := s.Compact(st.FirstSeq + uint64(r.IntN(int(st.Msgs)+3))); err != nil {
							t.Fatal(err)
						}
					case op < 85:
						if st.LastSeq > 3 {
							if err := s.Truncate(st.LastSeq - uint64(r.IntN(4))); err != nil {
								t.Fatal(err)
							}
						}
					case op < 86:
						if err := s.Truncate(uint64(r.IntN(int(st.LastSeq) + 1))); err != nil {
							t.Fatal(err)
						}
					case op < 87:
						if _, err := s.Purge(store.PurgeRequest{}); err != nil {
							t.Fatal(err)
						}
					case op < 88:
						if _, err := s.Purge(store.PurgeRequest{Keep: uint64(r.IntN(5))}); err != nil {
							t.Fatal(err)
						}
					default:
						subj := fmt.Sprintf("s.%d", r.IntN(7))
						if _, err := s.StoreMsg(subj, nil, []byte("x"), 0, 0); err != nil {
							t.Fatal(err)
						}
					}
				}
				st1, m1 := dump(t, s)
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				s = open(t, dir, cfg, store.Config{})
				st2, m2 := dump(t, s)
				if !reflect.DeepEqual(st1, st2) {
					t.Fatalf("round %d: state after reopen\n%+v\nwant\n%+v", round, st2, st1)
				}
				if !reflect.DeepEqual(m1, m2) {
					t.Fatalf("round %d: messages differ after reopen: %d vs %d", round, len(m2), len(m1))
				}
				if rep := s.RecoveryReport(); rep.Err() != nil || rep.TornBytes != 0 {
					t.Fatalf("round %d: recovery report %+v", round, rep)
				}
			}
			s.Close()
		})
	}
}

func TestReopenConsumers(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, filestore.Config{}, store.Config{})
	c, err := s.Consumer("dur")
	if err != nil {
		t.Fatal(err)
	}
	want := store.ConsumerState{
		Delivered:   store.SequencePair{Consumer: 5, Stream: 9},
		AckFloor:    store.SequencePair{Consumer: 2, Stream: 3},
		Pending:     []store.Pending{{Stream: 7, Consumer: 4, Timestamp: 99}},
		Redelivered: []store.Redelivered{{Stream: 7, Count: 2}},
	}
	if err := c.SetState(&want); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, dir, filestore.Config{}, store.Config{})
	defer s.Close()
	if n := s.State().Consumers; n != 1 {
		t.Fatalf("Consumers = %d", n)
	}
	c, _ = s.Consumer("dur")
	var got store.ConsumerState
	if err := c.State(&got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("consumer state %+v, want %+v", got, want)
	}
}

// lastBlock returns the path of the newest block file in dir.
func lastBlock(t *testing.T, dir string) string {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(dir, "msgs", "*.blk"))
	if len(names) == 0 {
		t.Fatal("no block files")
	}
	sort.Strings(names)
	return names[len(names)-1]
}

// TestTornTail truncates the last block at every offset inside its last
// record: recovery must keep every earlier record and report the tail.
func TestTornTail(t *testing.T) {
	src := t.TempDir()
	s := open(t, src, filestore.Config{}, store.Config{})
	for i := range 5 {
		if _, err := s.StoreMsg(fmt.Sprintf("t.%d", i), []byte("hdr"), []byte("payload-"+fmt.Sprint(i)), int64(1000+i), 0); err != nil {
			t.Fatal(err)
		}
	}
	_, want := dump(t, s)
	s.Close()
	path := lastBlock(t, src)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recLen := 40 + len("t.4") + len("hdr") + len("payload-4")
	for cut := len(data) - recLen; cut < len(data); cut++ {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "msgs"), 0o755)
		if err := os.WriteFile(filepath.Join(dir, "msgs", filepath.Base(path)), data[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		s := open(t, dir, filestore.Config{}, store.Config{})
		st, got := dump(t, s)
		if !reflect.DeepEqual(got, want[:4]) || st.LastSeq != 4 {
			t.Fatalf("cut %d: got %d msgs, last %d", cut, len(got), st.LastSeq)
		}
		rep := s.RecoveryReport()
		if rep.Err() != nil || rep.TornBytes != int64(cut-(len(data)-recLen)) {
			t.Fatalf("cut %d: report %+v", cut, rep)
		}
		// The store keeps working after the repair and stays repaired.
		if seq, err := s.StoreMsg("after", nil, []byte("x"), 0, 0); err != nil || seq != 5 {
			t.Fatalf("StoreMsg after repair = %d, %v", seq, err)
		}
		s.Close()
		s = open(t, dir, filestore.Config{}, store.Config{})
		if st := s.State(); st.Msgs != 5 || s.RecoveryReport().TornBytes != 0 {
			t.Fatalf("cut %d: second reopen %+v %+v", cut, st, s.RecoveryReport())
		}
		s.Close()
	}
}

// TestCorruptMiddle flips a byte inside a record in the middle: Open
// reports ErrCorrupt and keeps every other record.
func TestCorruptMiddle(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, filestore.Config{}, store.Config{})
	for i := range 10 {
		if _, err := s.StoreMsg("c", nil, []byte(fmt.Sprintf("message-%02d", i)), 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	path := lastBlock(t, dir)
	data, _ := os.ReadFile(path)
	recLen := 40 + 1 + 10
	off := 32 + 4*recLen + 45 // inside the payload of sequence 5
	data[off] ^= 0x40
	os.WriteFile(path, data, 0o644)
	s = open(t, dir, filestore.Config{}, store.Config{})
	defer s.Close()
	rep := s.RecoveryReport()
	if !errors.Is(rep.Err(), store.ErrCorrupt) {
		t.Fatalf("report error %v, want ErrCorrupt", rep.Err())
	}
	if !reflect.DeepEqual(rep.LostMsgs, []uint64{5}) {
		t.Fatalf("LostMsgs %v", rep.LostMsgs)
	}
	st, got := dump(t, s)
	if st.Msgs != 9 || st.LastSeq != 10 || len(got) != 9 || st.NumDeleted != 1 {
		t.Fatalf("state %+v", st)
	}
	if s.State().Lost == nil || !reflect.DeepEqual(s.State().Lost.Msgs, []uint64{5}) {
		t.Fatalf("State().Lost = %+v", s.State().Lost)
	}
	var m store.StoredMsg
	if err := s.LoadMsg(5, &m); !errors.Is(err, store.ErrMsgNotFound) {
		t.Fatalf("LoadMsg(5) = %v", err)
	}
}

// TestCorruptAfterOpen damages a record on disk behind an open store: the
// load reports ErrCorrupt.
func TestCorruptAfterOpen(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, filestore.Config{BlockSize: 128, CacheSize: -1}, store.Config{})
	defer s.Close()
	for i := range 4 {
		if _, err := s.StoreMsg("c", nil, []byte(fmt.Sprintf("message-%02d", i)), 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.WaitDurable(t.Context(), 4); err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "msgs", "*.blk"))
	sort.Strings(names)
	data, _ := os.ReadFile(names[0])
	data[len(data)-3] ^= 1
	os.WriteFile(names[0], data, 0o644)
	var m store.StoredMsg
	if err := s.LoadMsg(1, &m); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("LoadMsg of a damaged record = %v, want ErrCorrupt", err)
	}
}

func TestReopenTTL(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, filestore.Config{}, store.Config{})
	now := time.Now().UnixNano()
	s.StoreMsg("keep", nil, nil, now, time.Hour)
	// Expires a second from now: the store is closed before that (a
	// message stored already expired could be removed before Close, and
	// then the reopened store would have nothing to expire), and reopened
	// after it, so the message aged while the store was closed.
	const ttl = time.Second
	s.StoreMsg("gone", nil, nil, now, ttl)
	s.Close()
	for time.Now().UnixNano() <= now+int64(ttl) {
		time.Sleep(10 * time.Millisecond)
	}
	removed := make(chan uint64, 4)
	s = open(t, dir, filestore.Config{}, store.Config{OnRemove: func(seq uint64, _ string, why store.RemoveReason) {
		if why == store.RemovedTTL {
			removed <- seq
		}
	}})
	defer s.Close()
	select {
	case seq := <-removed:
		if seq != 2 {
			t.Fatalf("removed %d", seq)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("expired TTL message not removed after reopen")
	}
	if st := s.State(); st.Msgs != 1 {
		t.Fatalf("state %+v", st)
	}
}

// TestSetAsideLost damages a block in the middle of the stream so that
// recovery sets it aside: every message it held is counted lost, in the
// report and in State().Lost, whether its records can still be read or
// the file is empty.
func TestSetAsideLost(t *testing.T) {
	for _, c := range []struct {
		name   string
		damage func([]byte) []byte
	}{
		{"BadHeader", func(b []byte) []byte { b[3] ^= 0xff; return b }},
		{"Empty", func(b []byte) []byte { return nil }},
		{"ShortHeader", func(b []byte) []byte { return b[:20] }},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, dir, filestore.Config{BlockSize: 512}, store.Config{})
			for i := range 40 {
				if _, err := s.StoreMsg("c", nil, []byte(fmt.Sprintf("message-%02d", i)), 0, 0); err != nil {
					t.Fatal(err)
				}
			}
			s.Close()
			blks, _ := filepath.Glob(filepath.Join(dir, "msgs", "*.blk"))
			sort.Strings(blks)
			if len(blks) < 3 {
				t.Fatalf("%d blocks", len(blks))
			}
			mid, _ := os.ReadFile(blks[1])
			next, _ := os.ReadFile(blks[2])
			var want []uint64
			for q := le64(mid[16:]); q < le64(next[16:]); q++ {
				want = append(want, q)
			}
			os.WriteFile(blks[1], c.damage(mid), 0o644)

			s = open(t, dir, filestore.Config{}, store.Config{})
			defer s.Close()
			rep := s.RecoveryReport()
			if !errors.Is(rep.Err(), store.ErrCorrupt) {
				t.Fatalf("report error %v, want ErrCorrupt", rep.Err())
			}
			if !reflect.DeepEqual(rep.LostMsgs, want) {
				t.Fatalf("LostMsgs %v, want %v", rep.LostMsgs, want)
			}
			if l := s.State().Lost; l == nil || !reflect.DeepEqual(l.Msgs, want) {
				t.Fatalf("State().Lost = %+v, want %v", l, want)
			}
			if _, err := os.Stat(blks[1] + ".corrupt"); err != nil {
				t.Fatalf("damaged block not set aside: %v", err)
			}
			st, got := dump(t, s)
			if len(got) != 40-len(want) || st.LastSeq != 40 {
				t.Fatalf("state %+v, %d messages", st, len(got))
			}
		})
	}
}

func le64(b []byte) uint64 {
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}
