package memstore_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"natsd.dev/jetstream/store"
	"natsd.dev/jetstream/store/memstore"
	"natsd.dev/jetstream/store/storetest"
)

func newBench(tb testing.TB, cfg store.Config) *memstore.Store {
	s, err := memstore.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func BenchmarkStoreMsg(b *testing.B) {
	for _, size := range []int{16, 1024} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			s := newBench(b, store.Config{})
			data := make([]byte, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.StoreMsg("orders.eu.created", nil, data, 0, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// big is 1M 16-byte messages on 10,000 subjects "s.<0-99>.<0-99>", each
// message on a random one; shared by the read benchmarks.
const (
	bigMsgs     = 1_000_000
	bigSubjects = 10_000
)

func bigSubject(k int) string { return fmt.Sprintf("s.%d.%d", k/100, k%100) }

func fillBig(tb testing.TB) *memstore.Store {
	s := newBench(tb, store.Config{})
	r := rand.New(rand.NewPCG(1, 1))
	subjects := make([]string, bigSubjects)
	for k := range subjects {
		subjects[k] = bigSubject(k)
	}
	data := make([]byte, 16)
	for range bigMsgs {
		if _, err := s.StoreMsg(subjects[r.IntN(bigSubjects)], nil, data, 0, 0); err != nil {
			tb.Fatal(err)
		}
	}
	return s
}

var bigStore *memstore.Store

func big(b *testing.B) *memstore.Store {
	if bigStore == nil {
		// Built once per process and never closed; the read benchmarks do
		// not modify it.
		s, err := memstore.New(store.Config{})
		if err != nil {
			b.Fatal(err)
		}
		r := rand.New(rand.NewPCG(1, 1))
		data := make([]byte, 16)
		for range bigMsgs {
			s.StoreMsg(bigSubject(r.IntN(bigSubjects)), nil, data, 0, 0)
		}
		bigStore = s
	}
	return bigStore
}

func randomStarts() []uint64 {
	r := rand.New(rand.NewPCG(2, 2))
	starts := make([]uint64, 1<<16)
	for i := range starts {
		starts[i] = 1 + r.Uint64N(bigMsgs)
	}
	return starts
}

func BenchmarkLoadMsg(b *testing.B) {
	s := big(b)
	starts := randomStarts()
	var m store.StoredMsg
	b.SetBytes(16)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := s.LoadMsg(starts[i&(len(starts)-1)], &m); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func benchLoadNext(b *testing.B, filter string) {
	s := big(b)
	starts := randomStarts()
	var m store.StoredMsg
	b.SetBytes(16)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		// Starts past the subject's last message miss; that is part of
		// the workload.
		_ = s.LoadNextMsg(filter, starts[i&(len(starts)-1)], &m)
		i++
	}
}

// BenchmarkLoadNextLiteral: one subject of 10,000 (about 100 messages).
func BenchmarkLoadNextLiteral(b *testing.B) { benchLoadNext(b, "s.42.17") }

// BenchmarkLoadNextWildcard: 100 subjects of 10,000 (1% of messages).
func BenchmarkLoadNextWildcard(b *testing.B) { benchLoadNext(b, "s.42.*") }

// BenchmarkLoadNextWildcardDense: leading wildcards, "*.*.7": also 100
// subjects (1%), spread over the whole trie instead of one branch.
func BenchmarkLoadNextWildcardDense(b *testing.B) { benchLoadNext(b, "*.*.7") }

// BenchmarkLoadNextWalk walks a consumer through every message of a
// wildcard filter, the common case for a consumer catching up.
func BenchmarkLoadNextWalk(b *testing.B) {
	s := big(b)
	var m store.StoredMsg
	b.SetBytes(16)
	b.ReportAllocs()
	next := uint64(1)
	for b.Loop() {
		if err := s.LoadNextMsg("s.42.*", next, &m); err != nil {
			next = 1
			continue
		}
		next = m.Seq + 1
	}
}

func BenchmarkLoadLastMsg(b *testing.B) {
	s := big(b)
	subjects := make([]string, bigSubjects)
	for k := range subjects {
		subjects[k] = bigSubject(k)
	}
	var m store.StoredMsg
	b.SetBytes(16)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := s.LoadLastMsg(subjects[i%bigSubjects], &m); err != nil {
			b.Fatal(err)
		}
		i += 7919
	}
}

// BenchmarkPurgeSubject purges one subject (about 100 messages) of the
// 1M-message store per op, rebuilding the store when all are gone.
func BenchmarkPurgeSubject(b *testing.B) {
	subjects := make([]string, bigSubjects)
	for k := range subjects {
		subjects[k] = bigSubject(k)
	}
	b.ReportAllocs()
	var s *memstore.Store
	k := bigSubjects
	for b.Loop() {
		if k == bigSubjects {
			b.StopTimer()
			if s != nil {
				s.Close()
			}
			s = fillBig(b)
			k = 0
			b.StartTimer()
		}
		if _, err := s.Purge(store.PurgeRequest{Filter: subjects[k]}); err != nil {
			b.Fatal(err)
		}
		k++
	}
}

// BenchmarkLoadNextLiteralScaling shows that a literal load-next does not
// depend on how many other subjects the store holds: 200k messages spread
// round-robin over 10, 10k and 100k subjects.
func BenchmarkLoadNextLiteralScaling(b *testing.B) {
	const msgs = 200_000
	for _, subjects := range []int{10, 10_000, 100_000} {
		b.Run(fmt.Sprintf("subjects=%d", subjects), func(b *testing.B) {
			s := newBench(b, store.Config{})
			names := make([]string, subjects)
			for i := range names {
				names[i] = fmt.Sprintf("x.%d", i)
			}
			for i := range msgs {
				s.StoreMsg(names[i%subjects], nil, make([]byte, 16), 0, 0)
			}
			r := rand.New(rand.NewPCG(3, 3))
			starts := make([]uint64, 1<<12)
			for i := range starts {
				// Starts before the subject's last message, so every
				// call finds one.
				starts[i] = 1 + r.Uint64N(msgs-uint64(subjects))
			}
			var m store.StoredMsg
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := s.LoadNextMsg("x.0", starts[i&(len(starts)-1)], &m); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkStoreMsgKV is a KV bucket: 10,000 keys, history 1, so every
// store also removes the key's previous value.
func BenchmarkStoreMsgKV(b *testing.B) {
	s := newBench(b, store.Config{MaxMsgsPerSubject: 1})
	keys := make([]string, 10_000)
	for i := range keys {
		keys[i] = fmt.Sprintf("$KV.bucket.key%d", i)
	}
	data := make([]byte, 16)
	b.SetBytes(16)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := s.StoreMsg(keys[i%len(keys)], nil, data, 0, 0); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkConsumerState: SetState/State with a million pending acks.
func BenchmarkConsumerState(b *testing.B) {
	s, err := memstore.New(store.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchmarkConsumerState(b, s, 1_000_000)
}
