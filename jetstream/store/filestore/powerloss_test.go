package filestore_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path"
	"strings"
	"testing"
	"time"

	"natsd.dev/jetstream/store"
	"natsd.dev/jetstream/store/filestore"
	"natsd.dev/jetstream/store/filestore/fstest"
)

var powerCuts = flag.Int("powerloss.cuts", 0, "cut points per TestPowerLoss case (0: 600, or 120 under -short)")

// plDir is the store's directory in the in-memory file system; its parent
// exists (and is durable) before the store is created.
const plDir = "/data/stream"

// plModel is what the test knows about the store it drives.
type plModel struct {
	msgs map[uint64]string // seq -> subject+" "+payload of every message stored and not known gone
	// removed maps a removed sequence to the LastSeq at its removal: the
	// removal is promised durable once DurableSeq passes that (a later
	// store was committed), at once (0) for Purge, Compact, Truncate and
	// EraseMsg.
	removed  map[uint64]uint64
	consumer uint64 // Delivered.Stream of the last SetState that returned
	gen      int
	// zeroed: a Truncate(0) returned, so an image with LastSeq 0 is an
	// emptied store (FirstSeq 1), never a fresh one (FirstSeq 0).
	zeroed bool
}

func newPLModel() *plModel {
	return &plModel{msgs: map[uint64]string{}, removed: map[uint64]uint64{}}
}

// plFailure is a broken promise found at a cut point.
type plFailure struct {
	kind string // "durable" (a covered message is missing or wrong), "resurrected", "emptied", "consumer", "open", "report"
	msg  string
}

// checkImage opens the store left in img and checks the promises the
// running store had made when the image was taken: every message up to
// durable is there with its contents, no removal promised durable is
// undone, every message there is one that was stored, and the consumer
// state is the last one set.
func checkImage(img *fstest.FS, cfg filestore.Config, m *plModel, durable uint64, strictReport bool) (fails []plFailure, recovered *filestore.Store) {
	cfg.FS, cfg.Dir = img, plDir
	s, err := filestore.Open(cfg, store.Config{})
	if err != nil {
		return []plFailure{{"open", err.Error()}}, nil
	}
	var sm store.StoredMsg
	for seq, want := range m.msgs {
		if seq > durable {
			continue
		}
		if rs, ok := m.removed[seq]; ok && (rs == 0 || durable > rs) {
			continue
		}
		if _, ok := m.removed[seq]; ok {
			continue // a removal in flight: either way is right
		}
		if err := s.LoadMsg(seq, &sm); err != nil {
			fails = append(fails, plFailure{"durable", fmt.Sprintf("seq %d (durable %d): %v", seq, durable, err)})
		} else if got := sm.Subject + " " + string(sm.Data); got != want {
			fails = append(fails, plFailure{"durable", fmt.Sprintf("seq %d = %q, want %q", seq, got, want)})
		}
	}
	for seq, rs := range m.removed {
		if rs == 0 || durable > rs {
			if err := s.LoadMsg(seq, &sm); !errors.Is(err, store.ErrMsgNotFound) {
				fails = append(fails, plFailure{"resurrected", fmt.Sprintf("seq %d removed (at last %d, durable %d) loads: %v", seq, rs, durable, err)})
			}
		}
	}
	for seq := uint64(0); s.LoadNextMsg("", seq, &sm) == nil; seq = sm.Seq + 1 {
		want, ok := m.msgs[sm.Seq]
		if got := sm.Subject + " " + string(sm.Data); !ok || got != want {
			fails = append(fails, plFailure{"resurrected", fmt.Sprintf("seq %d = %q, stored %q", sm.Seq, got, want)})
		}
	}
	if st := s.State(); st.LastSeq < durable {
		var files []string
		ents, _ := img.ReadDir(plDir + "/msgs")
		for _, e := range ents {
			fi, _ := e.Info()
			files = append(files, fmt.Sprintf("%s:%d", e.Name(), fi.Size()))
		}
		fails = append(fails, plFailure{"durable", fmt.Sprintf("LastSeq %d below durable %d; files %v; report %+v", st.LastSeq, durable, files, s.RecoveryReport())})
	}
	if st := s.State(); m.zeroed && st.LastSeq == 0 && (st.FirstSeq != 1 || st.Msgs != 0) {
		fails = append(fails, plFailure{"emptied", fmt.Sprintf("after Truncate(0): State %+v, want FirstSeq 1, LastSeq 0", st)})
	}
	if m.consumer != 0 {
		var cs store.ConsumerState
		c, err := s.Consumer("c")
		if err == nil {
			err = c.State(&cs)
		}
		if err != nil || cs.Delivered.Stream != m.consumer {
			fails = append(fails, plFailure{"consumer", fmt.Sprintf("consumer state %d (%v), want %d", cs.Delivered.Stream, err, m.consumer)})
		}
	}
	if rep := s.RecoveryReport(); strictReport && rep.Err() != nil {
		fails = append(fails, plFailure{"report", rep.Err().Error()})
	}
	return fails, s
}

type plCase struct {
	name string
	cfg  filestore.Config
}

func plCases() []plCase {
	key := []byte("0123456789abcdef")
	return []plCase{
		{"GroupCommit", filestore.Config{BlockSize: 2048}},
		{"GroupCommit/Encrypted", filestore.Config{BlockSize: 4096, EncryptionKey: key}},
		{"GroupCommit/Rewrites", filestore.Config{BlockSize: 160 << 10, CacheSize: 100 << 10}},
		{"GroupCommit/Compressed", filestore.Config{BlockSize: 2048, Compress: true}},
		{"GroupCommit/CompressedEncrypted", filestore.Config{BlockSize: 4096, Compress: true, EncryptionKey: key}},
		{"SyncInterval", filestore.Config{BlockSize: 2048, SyncInterval: 2 * time.Millisecond}},
		{"SyncInterval/Encrypted", filestore.Config{BlockSize: 4096, SyncInterval: time.Millisecond, EncryptionKey: key}},
		{"SyncInterval/Rewrites", filestore.Config{BlockSize: 160 << 10, CacheSize: 100 << 10, SyncInterval: 3 * time.Millisecond}},
		{"SyncInterval/Compressed", filestore.Config{BlockSize: 2048, SyncInterval: 2 * time.Millisecond, Compress: true}},
	}
}

// powerLoss drives a store on an in-memory file system with random
// operations and, at cuts random cut points, checks what a power loss at
// that moment leaves (see checkImage). Some cut points become real
// crashes: the run continues on the image, after a power loss or a
// process kill, so recovery's own promises are checked too. It returns the
// failures found by kind.
func powerLoss(t *testing.T, c plCase, seed uint64, cuts int, stopAtFirst bool) map[string]int {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 99))
	fsys := fstest.New()
	if err := fsys.MkdirAll(path.Dir(plDir), 0o755); err != nil {
		t.Fatal(err)
	}
	syncDirOf(t, fsys, "/")
	fsys.SetSyncLatency(100 * time.Microsecond)
	cfg := c.cfg
	cfg.FS, cfg.Dir = fsys, plDir
	s, err := filestore.Open(cfg, store.Config{})
	if err != nil {
		t.Fatal(err)
	}
	m := newPLModel()
	failed := map[string]int{}
	report := func(where string, fs []plFailure) {
		for _, f := range fs {
			k := where + ": " + f.kind
			if failed[k] == 0 {
				t.Logf("%s: first %s failure: %s", c.name, k, f.msg)
			}
			failed[k]++
		}
	}
	strict := c.cfg.SyncInterval == 0
	subjects := []string{"a", "b", "c.x", "c.y", "d"}
	for cut := 0; cut < cuts; {
		if stopAtFirst && len(failed) > 0 {
			break
		}
		st := s.State()
		switch op := r.IntN(100); {
		case op < 60:
			m.gen++
			subj := subjects[r.IntN(len(subjects))]
			data := fmt.Sprintf("g%d-%s", m.gen, strings.Repeat("x", r.IntN(300)))
			seq, err := s.StoreMsg(subj, nil, []byte(data), 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			m.msgs[seq] = subj + " " + data
			delete(m.removed, seq)
		case op < 72:
			if st.Msgs == 0 {
				continue
			}
			seq := st.FirstSeq + r.Uint64N(st.LastSeq-st.FirstSeq+1)
			if err := s.RemoveMsg(seq); err == nil {
				m.removed[seq] = st.LastSeq
			} else if !errors.Is(err, store.ErrMsgNotFound) {
				t.Fatal(err)
			}
		case op < 77:
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := s.WaitDurable(ctx, st.LastSeq); err != nil {
				t.Fatal(err)
			}
			cancel()
		case op < 79:
			if st.Msgs == 0 {
				continue
			}
			seq := st.FirstSeq + r.Uint64N(st.LastSeq-st.FirstSeq+1)
			if err := s.EraseMsg(seq); err == nil {
				m.removed[seq] = 0
			} else if !errors.Is(err, store.ErrMsgNotFound) {
				t.Fatal(err)
			}
		case op < 81 || st.Msgs > 400:
			req := store.PurgeRequest{}
			switch r.IntN(3) {
			case 0:
				req.Filter = subjects[r.IntN(len(subjects))]
			case 1:
				req.Keep = r.Uint64N(50)
			}
			if _, err := s.Purge(req); err != nil {
				t.Fatal(err)
			}
			m.settle(s)
		case op < 83:
			if _, err := s.Compact(st.FirstSeq + r.Uint64N(st.LastSeq-st.FirstSeq+2)); err != nil {
				t.Fatal(err)
			}
			m.settle(s)
		case op < 84:
			if st.LastSeq == 0 {
				continue
			}
			seq := st.LastSeq - r.Uint64N(min(st.LastSeq, 20))
			if r.IntN(8) == 0 {
				seq = 0 // restart the sequences
			}
			if err := s.Truncate(seq); err != nil {
				t.Fatal(err)
			}
			m.zeroed = m.zeroed || seq == 0
			for q := range m.msgs {
				if q > seq {
					delete(m.msgs, q)
					delete(m.removed, q)
				}
			}
			m.settle(s)
		case op < 87:
			cs, err := s.Consumer("c")
			if err != nil {
				t.Fatal(err)
			}
			m.gen++
			if err := cs.SetState(&store.ConsumerState{Delivered: store.SequencePair{Consumer: uint64(m.gen), Stream: uint64(m.gen)}}); err != nil {
				t.Fatal(err)
			}
			m.consumer = uint64(m.gen)
		case op < 89:
			// SkipMsgs is durable when it returns: the durable mark, which
			// every cut checks LastSeq against, covers the range.
			n := 1 + r.Uint64N(4)
			switch r.IntN(10) {
			case 0, 1, 2:
				n = 64 + r.Uint64N(400)
			case 3:
				n = 1 << 30
			}
			if err := s.SkipMsgs(st.LastSeq+1, n); err != nil {
				t.Fatal(err)
			}
			if d := s.DurableSeq(); d < st.LastSeq+n {
				t.Fatalf("DurableSeq %d after SkipMsgs to %d", d, st.LastSeq+n)
			}
		default:
			cut++
			durable := s.DurableSeq()
			var rr *rand.Rand
			if r.IntN(4) != 0 {
				rr = r
			}
			// One cut in four keeps the directory entries, to tell lost
			// data from lost entries.
			img, where := fsys.PowerLoss(rr), "cut"
			if r.IntN(4) == 0 {
				img, where = fsys.PowerLossKeepEntries(rr), "cut(entries kept)"
			}
			// Recovery reports damage only where a file system that keeps
			// entries but not the data in them, or SyncInterval, left it.
			fails, rs := checkImage(img, c.cfg, m, durable, strict && where == "cut")
			report(where, fails)
			if rs == nil {
				continue
			}
			if r.IntN(10) != 0 || len(fails) > 0 || where != "cut" {
				rs.Close()
				continue
			}
			// Crash for real and go on with the image: after a power loss
			// (rs as is), or after a kill, reopening the killed image.
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if r.IntN(2) == 0 {
				rs.Close()
				kill := fsys.Kill()
				// The store was closed cleanly on fsys; kill a fresh run on
				// the killed copy instead: open, store, kill.
				cfg2 := c.cfg
				cfg2.FS, cfg2.Dir = kill, plDir
				k, err := filestore.Open(cfg2, store.Config{})
				if err != nil {
					t.Fatal(err)
				}
				for range r.IntN(20) {
					m.gen++
					data := fmt.Sprintf("g%d-k", m.gen)
					seq, err := k.StoreMsg("k", nil, []byte(data), 0, 0)
					if err != nil {
						t.Fatal(err)
					}
					m.msgs[seq] = "k " + data
					delete(m.removed, seq)
				}
				time.Sleep(time.Duration(r.IntN(3)) * time.Millisecond)
				fsys = kill.Kill() // k's process dies here; it keeps running on kill
				fsys.SetSyncLatency(100 * time.Microsecond)
				k.Close()
				// Everything the reopened store holds is reported durable:
				// a power loss right after must keep it.
				cfg2.FS = fsys
				rs, err = filestore.Open(cfg2, store.Config{})
				if err != nil {
					t.Fatal(err)
				}
				m.adopt(rs)
				fails, again := checkImage(fsys.PowerLossKeepEntries(r), c.cfg, m, rs.DurableSeq(), false)
				report("kill, reopen, power loss(entries kept)", fails)
				if again != nil {
					again.Close()
				}
				fails, again = checkImage(fsys.PowerLoss(r), c.cfg, m, rs.DurableSeq(), strict)
				report("kill, reopen, power loss", fails)
				if again != nil {
					again.Close()
				}
			} else {
				fsys = img
				fsys.SetSyncLatency(100 * time.Microsecond)
			}
			s = rs
			m.adopt(s)
		}
	}
	// Close makes everything durable, removals included.
	closedLast := s.State().LastSeq
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for q := range m.removed {
		m.removed[q] = 0
	}
	fails, rs := checkImage(fsys.PowerLossKeepEntries(nil), c.cfg, m, closedLast, false)
	report("close, power loss(entries kept)", fails)
	if rs != nil {
		rs.Close()
	}
	fails, rs = checkImage(fsys.PowerLoss(nil), c.cfg, m, closedLast, strict)
	report("close, power loss", fails)
	if rs != nil {
		rs.Close()
	}
	return failed
}

// settle records, after an operation durable on return, that every
// message it removed is removed for good. Earlier removals keep their own
// promise: an operation that removed nothing writes nothing.
func (m *plModel) settle(s *filestore.Store) {
	var sm store.StoredMsg
	for seq := range m.msgs {
		if _, ok := m.removed[seq]; ok {
			continue // removed before: its own promise holds
		}
		if s.LoadMsg(seq, &sm) != nil {
			m.removed[seq] = 0
		}
	}
}

// adopt makes the model what the recovered store s holds: a message it
// does not have stays gone.
func (m *plModel) adopt(s *filestore.Store) {
	var sm store.StoredMsg
	last := s.State().LastSeq
	for seq := range m.msgs {
		if seq > last {
			delete(m.msgs, seq)
			delete(m.removed, seq)
			continue
		}
		if s.LoadMsg(seq, &sm) != nil {
			m.removed[seq] = 0
		} else {
			delete(m.removed, seq)
		}
	}
	var cs store.ConsumerState
	if c, err := s.Consumer("c"); err == nil && c.State(&cs) == nil {
		m.consumer = cs.Delivered.Stream
	}
}

func syncDirOf(t *testing.T, fsys filestore.FS, dir string) {
	t.Helper()
	d, err := fsys.OpenFile(dir, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	d.Close()
}

// TestPowerLoss cuts the power at random moments of a random workload
// (stores, removals, erasures, purges, compactions, truncations, skips,
// consumer state, small blocks and block rewrites, with and without encryption) in
// both durability modes, and checks that the durable mark never covered a
// byte the power loss took, that no removal reported durable came undone
// and that a store emptied by Truncate(0) does not come back as one that
// never held a message. Cut points per case: -powerloss.cuts.
func TestPowerLoss(t *testing.T) {
	cuts := *powerCuts
	if cuts == 0 {
		cuts = 600
		if testing.Short() {
			cuts = 120
		}
	}
	seed := uint64(time.Now().UnixNano())
	for _, c := range plCases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if failed := powerLoss(t, c, seed, cuts, false); len(failed) > 0 {
				t.Fatalf("seed %d: %d cut points: broken promises %v", seed, cuts, failed)
			}
		})
	}
}

// TestKillThenPowerLoss kills a process that stored messages without
// waiting, reopens the directory (which reports everything it recovered
// durable), closes it and cuts the power: every message the reopened store
// reported durable must survive. Directory entries are kept, so this is
// about file data only; TestPowerLoss covers the entries.
func TestKillThenPowerLoss(t *testing.T) {
	for _, c := range plCases() {
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
			badRounds, lost := 0, 0
			rounds := 10
			if testing.Short() {
				rounds = 4
			}
			for range rounds {
				fsys := fstest.New()
				cfg := c.cfg
				cfg.FS, cfg.Dir = fsys, plDir
				s, err := filestore.Open(cfg, store.Config{})
				if err != nil {
					t.Fatal(err)
				}
				fsys.SetSyncLatency(200 * time.Microsecond)
				want := map[uint64]string{}
				var killed *fstest.FS
				stop := time.Now().Add(time.Duration(5+r.IntN(30)) * time.Millisecond)
				for i := 0; killed == nil; i++ {
					data := fmt.Sprintf("m%d-%s", i, strings.Repeat("y", r.IntN(200)))
					seq, err := s.StoreMsg("k", nil, []byte(data), 0, 0)
					if err != nil {
						t.Fatal(err)
					}
					want[seq] = data
					if i%16 == 0 && (i >= 1000 || time.Now().After(stop)) {
						killed = fsys.Kill()
					}
				}
				s.Close()
				cfg.FS = killed
				s2, err := filestore.Open(cfg, store.Config{})
				if err != nil {
					t.Fatal(err)
				}
				durable := s2.DurableSeq()
				if err := s2.Close(); err != nil {
					t.Fatal(err)
				}
				cfg.FS = killed.PowerLossKeepEntries(r)
				s3, err := filestore.Open(cfg, store.Config{})
				if err != nil {
					t.Fatal(err)
				}
				var sm store.StoredMsg
				n := 0
				for seq, data := range want {
					if seq <= durable && (s3.LoadMsg(seq, &sm) != nil || string(sm.Data) != data) {
						n++
					}
				}
				s3.Close()
				if n > 0 {
					badRounds++
					lost += n
				}
			}
			if badRounds > 0 {
				t.Fatalf("%d of %d rounds lost messages reported durable after reopening a killed store: %d in all", badRounds, rounds, lost)
			}
		})
	}
}

// TestPowerLossRestore restores a snapshot into a new store on the
// in-memory file system and cuts the power as Restore returns: Restore is
// durable when it returns, consumer state included.
func TestPowerLossRestore(t *testing.T) {
	src := open(t, t.TempDir(), filestore.Config{BlockSize: 1024}, store.Config{})
	defer src.Close()
	for i := range 100 {
		if _, err := src.StoreMsg(fmt.Sprintf("r.%d", i%3), nil, []byte(fmt.Sprint("restore-", i)), 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	src.RemoveMsg(10)
	c, _ := src.Consumer("c")
	c.SetState(&store.ConsumerState{Delivered: store.SequencePair{Consumer: 7, Stream: 70}})
	var snap strings.Builder
	if err := src.Snapshot(t.Context(), &snap); err != nil {
		t.Fatal(err)
	}
	_, want := dump(t, src)

	fsys := fstest.New()
	cfg := filestore.Config{FS: fsys, Dir: plDir, BlockSize: 1024}
	dst, err := filestore.Open(cfg, store.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := dst.Restore(t.Context(), strings.NewReader(snap.String())); err != nil {
		t.Fatal(err)
	}
	cfg.FS = fsys.PowerLoss(nil)
	got := open(t, plDir, cfg, store.Config{})
	defer got.Close()
	dst.Close()
	_, have := dump(t, got)
	if fmt.Sprint(have) != fmt.Sprint(want) {
		t.Fatalf("after restore and power loss: %d messages, want %d", len(have), len(want))
	}
	gc, _ := got.Consumer("c")
	var cs store.ConsumerState
	if err := gc.State(&cs); err != nil || cs.Delivered.Stream != 70 {
		t.Fatalf("consumer state after power loss: %+v, %v", cs, err)
	}
}

// TestPowerLossEmptied cuts the power, or kills the process, right after an
// operation that leaves the store empty with LastSeq 0 has returned: the
// reopened store must report what the running one did, FirstSeq 1 and
// LastSeq 0 (not the 0 and 0 of a store that never held a message), and
// give the next message sequence 1. Some cuts wait a little so that the
// flusher and block maintenance run into them.
func TestPowerLossEmptied(t *testing.T) {
	src := open(t, t.TempDir(), filestore.Config{}, store.Config{})
	for range 3 {
		if _, err := src.StoreMsg("s", nil, []byte("x"), 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := src.Truncate(0); err != nil {
		t.Fatal(err)
	}
	var snap strings.Builder
	if err := src.Snapshot(t.Context(), &snap); err != nil {
		t.Fatal(err)
	}
	src.Close()

	ops := []struct {
		name  string
		fresh bool // run on a store that never held a message
		do    func(s *filestore.Store) error
	}{
		{"TruncateZero", false, func(s *filestore.Store) error { return s.Truncate(0) }},
		{"TruncateZeroPurge", false, func(s *filestore.Store) error {
			if err := s.Truncate(0); err != nil {
				return err
			}
			_, err := s.Purge(store.PurgeRequest{})
			return err
		}},
		{"TruncateZeroTwice", false, func(s *filestore.Store) error {
			if err := s.Truncate(0); err != nil {
				return err
			}
			if _, err := s.StoreMsg("again", nil, nil, 0, 0); err != nil {
				return err
			}
			return s.Truncate(0)
		}},
		{"RestoreEmptied", true, func(s *filestore.Store) error {
			return s.Restore(context.Background(), strings.NewReader(snap.String()))
		}},
	}
	seed := uint64(time.Now().UnixNano())
	rounds := 12
	if testing.Short() {
		rounds = 4
	}
	for _, c := range plCases() {
		for _, op := range ops {
			t.Run(c.name+"/"+op.name, func(t *testing.T) {
				r := rand.New(rand.NewPCG(seed, 5))
				for round := range rounds {
					fsys := fstest.New()
					if err := fsys.MkdirAll(path.Dir(plDir), 0o755); err != nil {
						t.Fatal(err)
					}
					syncDirOf(t, fsys, "/")
					cfg := c.cfg
					cfg.FS = fsys
					s := open(t, plDir, cfg, store.Config{})
					if !op.fresh {
						n := 1 + r.IntN(40)
						for i := range n {
							data := strings.Repeat("z", r.IntN(300))
							if _, err := s.StoreMsg(fmt.Sprint("e.", i%3), nil, []byte(data), 0, 0); err != nil {
								t.Fatal(err)
							}
						}
						if r.IntN(2) == 0 {
							if err := s.WaitDurable(t.Context(), uint64(n)); err != nil {
								t.Fatal(err)
							}
						}
					}
					if err := op.do(s); err != nil {
						t.Fatal(err)
					}
					if st := s.State(); st.FirstSeq != 1 || st.LastSeq != 0 || st.Msgs != 0 {
						t.Fatalf("State after %s: %+v", op.name, st)
					}
					time.Sleep(time.Duration(r.IntN(3)) * time.Millisecond)
					images := []struct {
						name string
						fs   *fstest.FS
					}{
						{"power loss", fsys.PowerLoss(r)},
						{"power loss (entries kept)", fsys.PowerLossKeepEntries(r)},
						{"kill", fsys.Kill()},
					}
					for _, img := range images {
						cfg.FS = img.fs
						rs := open(t, plDir, cfg, store.Config{})
						st := rs.State()
						seq, err := rs.StoreMsg("next", nil, nil, 0, 0)
						rs.Close()
						if st.FirstSeq != 1 || st.LastSeq != 0 || st.Msgs != 0 || err != nil || seq != 1 {
							t.Fatalf("seed %d round %d: after %s: State %+v, next sequence %d (%v); want FirstSeq 1, LastSeq 0, next 1",
								seed, round, img.name, st, seq, err)
						}
					}
					if err := s.Close(); err != nil {
						t.Fatal(err)
					}
				}
			})
		}
	}
}

// TestPowerLossSkip cuts the power, or kills the process, right after
// SkipMsgs returned: the reopened store reports the State the running one
// did (SkipMsgs made everything before it durable too) and gives the next
// message the sequence after the skipped range.
func TestPowerLossSkip(t *testing.T) {
	ops := []struct {
		name string
		msgs bool // store messages first
		do   func(s *filestore.Store, r *rand.Rand) error
	}{
		{"Fresh", false, func(s *filestore.Store, r *rand.Rand) error { return s.SkipMsgs(1, 1+r.Uint64N(100)) }},
		{"FreshHuge", false, func(s *filestore.Store, r *rand.Rand) error { return s.SkipMsgs(1, 1<<40) }},
		{"AfterMsgs", true, func(s *filestore.Store, r *rand.Rand) error {
			return s.SkipMsgs(s.State().LastSeq+1, 1+r.Uint64N(1000))
		}},
		{"Between", true, func(s *filestore.Store, r *rand.Rand) error {
			if err := s.SkipMsgs(s.State().LastSeq+1, 1<<40); err != nil {
				return err
			}
			if _, err := s.StoreMsg("after", nil, []byte("skip"), 0, 0); err != nil {
				return err
			}
			return s.SkipMsgs(s.State().LastSeq+1, 1+r.Uint64N(3))
		}},
		{"AfterPurge", true, func(s *filestore.Store, r *rand.Rand) error {
			if _, err := s.Purge(store.PurgeRequest{}); err != nil {
				return err
			}
			return s.SkipMsgs(s.State().LastSeq+1, 1+r.Uint64N(1000))
		}},
		{"ThenRemoveAll", true, func(s *filestore.Store, r *rand.Rand) error {
			if err := s.SkipMsgs(s.State().LastSeq+1, 500); err != nil {
				return err
			}
			st := s.State()
			for q := st.FirstSeq; q <= st.LastSeq-500; q++ {
				s.RemoveMsg(q)
			}
			// The removals above are durable with the next commit; this one
			// is durable at once and covers them.
			return s.SkipMsgs(st.LastSeq+1, 1)
		}},
	}
	seed := uint64(time.Now().UnixNano())
	rounds := 8
	if testing.Short() {
		rounds = 3
	}
	for _, c := range plCases() {
		for _, op := range ops {
			t.Run(c.name+"/"+op.name, func(t *testing.T) {
				r := rand.New(rand.NewPCG(seed, 13))
				for round := range rounds {
					fsys := fstest.New()
					if err := fsys.MkdirAll(path.Dir(plDir), 0o755); err != nil {
						t.Fatal(err)
					}
					syncDirOf(t, fsys, "/")
					cfg := c.cfg
					cfg.FS = fsys
					s := open(t, plDir, cfg, store.Config{})
					if op.msgs {
						for i := range 1 + r.IntN(40) {
							data := strings.Repeat("s", r.IntN(300))
							if _, err := s.StoreMsg(fmt.Sprint("s.", i%3), nil, []byte(data), 0, 0); err != nil {
								t.Fatal(err)
							}
						}
						if r.IntN(3) == 0 {
							s.RemoveMsg(s.State().FirstSeq + 1)
						}
					}
					if err := op.do(s, r); err != nil {
						t.Fatal(err)
					}
					want := s.State()
					if d := s.DurableSeq(); d != want.LastSeq {
						t.Fatalf("DurableSeq %d after %s, want LastSeq %d", d, op.name, want.LastSeq)
					}
					time.Sleep(time.Duration(r.IntN(3)) * time.Millisecond)
					images := []struct {
						name string
						fs   *fstest.FS
					}{
						{"power loss", fsys.PowerLoss(r)},
						{"power loss (entries kept)", fsys.PowerLossKeepEntries(r)},
						{"kill", fsys.Kill()},
					}
					for _, img := range images {
						cfg.FS = img.fs
						rs := open(t, plDir, cfg, store.Config{})
						st := rs.State()
						seq, err := rs.StoreMsg("next", nil, nil, 0, 0)
						rs.Close()
						if st.FirstSeq != want.FirstSeq || st.LastSeq != want.LastSeq || st.Msgs != want.Msgs ||
							st.NumDeleted != want.NumDeleted || !st.LastTime.Equal(want.LastTime) || err != nil || seq != want.LastSeq+1 {
							t.Fatalf("seed %d round %d: after %s and %s: State %+v, next sequence %d (%v); want %+v, next %d",
								seed, round, op.name, img.name, st, seq, err, want, want.LastSeq+1)
						}
					}
					if err := s.Close(); err != nil {
						t.Fatal(err)
					}
				}
			})
		}
	}
}
