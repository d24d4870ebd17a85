package filestore_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"natsd.dev/jetstream/store"
	"natsd.dev/jetstream/store/filestore"
	"natsd.dev/jetstream/store/storetest"
)

var benchMsgs = flag.Int("filestore.benchmsgs", 0, "messages in the large benchmark stores (0: 1M, or 100k under -short)")

func largeN() int {
	if *benchMsgs > 0 {
		return *benchMsgs
	}
	if testing.Short() {
		return 100_000
	}
	return 1_000_000
}

func benchOpen(b *testing.B, dir string, cfg filestore.Config) *filestore.Store {
	b.Helper()
	cfg.Dir = dir
	s, err := filestore.Open(cfg, store.Config{})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkStore appends messages of several sizes:
//   - Sync: one writer that waits for each message to be durable (one
//     fsync per message: the latency of a durable publish);
//   - SyncParallel: 32 writers that each wait, sharing fsyncs (group commit);
//   - GroupCommit: appends with group commit running behind, not waiting;
//   - Async: SyncInterval of one minute (upstream's default mode), not waiting;
//   - GroupCommitParallel, AsyncParallel: the same with 32 writers.
func BenchmarkStore(b *testing.B) {
	for _, size := range []int{16, 128, 1024} {
		data := make([]byte, size)
		b.Run(fmt.Sprintf("%dB/Sync", size), func(b *testing.B) {
			s := benchOpen(b, b.TempDir(), filestore.Config{})
			defer s.Close()
			ctx := context.Background()
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				seq, err := s.StoreMsg("bench.subject", nil, data, 0, 0)
				if err != nil {
					b.Fatal(err)
				}
				if err := s.WaitDurable(ctx, seq); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("%dB/SyncParallel", size), func(b *testing.B) {
			s := benchOpen(b, b.TempDir(), filestore.Config{})
			defer s.Close()
			ctx := context.Background()
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.SetParallelism(16) // 32 writers on 2 cores
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					seq, err := s.StoreMsg("bench.subject", nil, data, 0, 0)
					if err != nil {
						b.Fatal(err)
					}
					if err := s.WaitDurable(ctx, seq); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
		for _, mode := range []struct {
			name string
			cfg  filestore.Config
		}{
			{"GroupCommit", filestore.Config{}},
			{"Async", filestore.Config{SyncInterval: time.Minute}},
		} {
			b.Run(fmt.Sprintf("%dB/%s", size, mode.name), func(b *testing.B) {
				s := benchOpen(b, b.TempDir(), mode.cfg)
				defer s.Close()
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := s.StoreMsg("bench.subject", nil, data, 0, 0); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(fmt.Sprintf("%dB/%sParallel", size, mode.name), func(b *testing.B) {
				s := benchOpen(b, b.TempDir(), mode.cfg)
				defer s.Close()
				b.SetBytes(int64(size))
				b.ReportAllocs()
				b.SetParallelism(16) // 32 writers on 2 cores
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := s.StoreMsg("bench.subject", nil, data, 0, 0); err != nil {
							b.Fatal(err)
						}
					}
				})
			})
		}
	}
}

// The large store: n messages of 16 bytes on 10k subjects foo.<a>.<b>
// (a, b < 100), built once per directory and reused by the benchmarks.
var (
	largeMu   sync.Mutex
	largeDirs = map[int]string{}
)

func subjectOf(i int) string {
	k := i % 10000
	return fmt.Sprintf("foo.%d.%d", k/100, k%100)
}

func largeStore(b *testing.B) (string, int) {
	n := largeN()
	largeMu.Lock()
	defer largeMu.Unlock()
	if d, ok := largeDirs[n]; ok {
		return d, n
	}
	dir, err := os.MkdirTemp("", "filestore-bench-")
	if err != nil {
		b.Fatal(err)
	}
	s := benchOpen(b, dir, filestore.Config{})
	subjects := make([]string, 10000)
	for i := range subjects {
		subjects[i] = subjectOf(i)
	}
	data := make([]byte, 16)
	for i := range n {
		if _, err := s.StoreMsg(subjects[i%10000], nil, data, 0, 0); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	largeDirs[n] = dir
	return dir, n
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range largeDirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

func BenchmarkLoadMsg(b *testing.B) {
	dir, n := largeStore(b)
	for _, c := range []struct {
		name string
		cfg  filestore.Config
	}{
		{"Cached", filestore.Config{CacheSize: 1 << 30}},
		{"Cold", filestore.Config{CacheSize: -1}},
	} {
		b.Run(c.name, func(b *testing.B) {
			s := benchOpen(b, dir, c.cfg)
			defer s.Close()
			var m store.StoredMsg
			r := rand.New(rand.NewPCG(1, 2))
			if c.name == "Cached" {
				for seq := uint64(1); seq <= uint64(n); seq += 1000 {
					s.LoadNextMsg("", seq, &m) // warm every block's cache
				}
			}
			b.SetBytes(16)
			b.ReportAllocs()
			for b.Loop() {
				if err := s.LoadMsg(1+uint64(r.IntN(n)), &m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLoadNext reads the next message matching a literal subject
// (10k subjects: one message in 10k matches) and a wildcard that matches
// one in 100, from random start sequences.
func BenchmarkLoadNext(b *testing.B) {
	dir, n := largeStore(b)
	s := benchOpen(b, dir, filestore.Config{CacheSize: 1 << 30})
	defer s.Close()
	var m store.StoredMsg
	for _, c := range []struct{ name, filter string }{
		{"Literal", "foo.42.17"},
		{"Wildcard", "foo.*.17"},
	} {
		b.Run(c.name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			b.ReportAllocs()
			for b.Loop() {
				if err := s.LoadNextMsg(c.filter, 1+uint64(r.IntN(n-20000)), &m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkLoadLast(b *testing.B) {
	dir, _ := largeStore(b)
	s := benchOpen(b, dir, filestore.Config{CacheSize: 1 << 30})
	defer s.Close()
	subjects := make([]string, 10000)
	for i := range subjects {
		subjects[i] = subjectOf(i)
	}
	var m store.StoredMsg
	r := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	for b.Loop() {
		if err := s.LoadLastMsg(subjects[r.IntN(len(subjects))], &m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPurgeSubject stores one message on a subject of a store with
// 10k subjects and purges that subject, durably.
func BenchmarkPurgeSubject(b *testing.B) {
	s := benchOpen(b, b.TempDir(), filestore.Config{})
	defer s.Close()
	subjects := make([]string, 10000)
	for i := range subjects {
		subjects[i] = subjectOf(i)
		for range 10 {
			s.StoreMsg(subjects[i], nil, make([]byte, 16), 0, 0)
		}
	}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		subj := subjects[i%len(subjects)]
		i++
		s.StoreMsg(subj, nil, make([]byte, 16), 0, 0)
		if _, err := s.Purge(store.PurgeRequest{Filter: subj}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecover opens the large store: after a clean Close, and after a
// simulated crash (a torn record at the end of the last block).
func BenchmarkRecover(b *testing.B) {
	dir, n := largeStore(b)
	for _, torn := range []bool{false, true} {
		name := "Clean"
		if torn {
			name = "Crash"
		}
		b.Run(name, func(b *testing.B) {
			names, _ := filepath.Glob(filepath.Join(dir, "msgs", "*.blk"))
			sort.Strings(names)
			last := names[len(names)-1]
			for b.Loop() {
				if torn {
					b.StopTimer()
					f, err := os.OpenFile(last, os.O_WRONLY|os.O_APPEND, 0)
					if err != nil {
						b.Fatal(err)
					}
					f.Write([]byte{60, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
					f.Close()
					b.StartTimer()
				}
				s := benchOpen(b, dir, filestore.Config{})
				if st := s.State(); st.Msgs != uint64(n) {
					b.Fatalf("recovered %d of %d", st.Msgs, n)
				}
				b.StopTimer()
				s.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(n), "msgs")
		})
	}
}

// BenchmarkCompression appends and loads compressible text (a header and
// a payload of varied lines), plain and S2-compressed:
//   - Append: StoreMsg with SyncInterval of a minute, so that fsyncs stay
//     out of the numbers (SetBytes counts uncompressed bytes);
//   - LoadMsg: random sequences of 10k messages, blocks cached (Cached)
//     or read record by record from the files (Cold);
//   - LoadNext: the messages in order, as a consumer reads them.
func BenchmarkCompression(b *testing.B) {
	hdr := []byte("NATS/1.0\r\nNats-Msg-Id: 0123456789\r\n\r\n")
	for _, size := range []int{256, 4096} {
		bodies := make([][]byte, 64)
		for i := range bodies {
			bodies[i] = textMsg(i, size)
		}
		msgSize := int64(len(hdr) + size)
		for _, mode := range []struct {
			name     string
			compress bool
		}{{"Plain", false}, {"S2", true}} {
			name := fmt.Sprintf("%dB/%s", size, mode.name)
			b.Run(name+"/Append", func(b *testing.B) {
				s := benchOpen(b, b.TempDir(), filestore.Config{SyncInterval: time.Minute, Compress: mode.compress})
				defer s.Close()
				b.SetBytes(msgSize)
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if _, err := s.StoreMsg("bench.subject", hdr, bodies[i%len(bodies)], 0, 0); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
			const n = 10_000
			dir := b.TempDir()
			s := benchOpen(b, dir, filestore.Config{SyncInterval: time.Minute, Compress: mode.compress})
			for i := range n {
				if _, err := s.StoreMsg("bench.subject", hdr, bodies[i%len(bodies)], 0, 0); err != nil {
					b.Fatal(err)
				}
			}
			s.Close()
			for _, c := range []struct {
				name string
				cfg  filestore.Config
			}{
				{"Cached", filestore.Config{CacheSize: 1 << 30}},
				{"Cold", filestore.Config{CacheSize: -1}},
			} {
				b.Run(name+"/LoadMsg/"+c.name, func(b *testing.B) {
					s := benchOpen(b, dir, c.cfg)
					defer s.Close()
					var m store.StoredMsg
					if c.name == "Cached" {
						for seq := uint64(1); seq <= n; seq += 100 {
							s.LoadNextMsg("", seq, &m) // warm every block's cache
						}
					}
					r := rand.New(rand.NewPCG(1, 2))
					b.SetBytes(msgSize)
					b.ReportAllocs()
					for b.Loop() {
						if err := s.LoadMsg(1+uint64(r.IntN(n)), &m); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
			b.Run(name+"/LoadNext", func(b *testing.B) {
				s := benchOpen(b, dir, filestore.Config{CacheSize: 1 << 30})
				defer s.Close()
				var m store.StoredMsg
				seq := uint64(1)
				b.SetBytes(msgSize)
				b.ReportAllocs()
				for b.Loop() {
					if err := s.LoadNextMsg("", seq, &m); err != nil {
						b.Fatal(err)
					}
					seq = m.Seq%n + 1
				}
			})
		}
	}
}

// BenchmarkConsumerState: SetState (encode, write, fsync, rename) and
// State (decode) with a million pending acks; the state file's size is
// reported per pending ack.
func BenchmarkConsumerState(b *testing.B) {
	dir := b.TempDir()
	s := benchOpen(b, dir, filestore.Config{})
	defer s.Close()
	storetest.BenchmarkConsumerState(b, s, 1_000_000)
	if fi, err := os.Stat(filepath.Join(dir, "consumers", "bench.cs")); err == nil {
		b.Logf("state file: %d bytes, %.2f bytes per pending ack", fi.Size(), float64(fi.Size())/1e6)
	}
}
