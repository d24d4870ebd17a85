package sublist_test

import (
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"

	"natsd.dev/sublist"
)

// cpuClock measures the CPU time of the benchmark's own thread, paused
// together with the benchmark timer, and reports it as cpu-ns/op.
type cpuClock struct {
	b     *testing.B
	start time.Duration
	total time.Duration
}

func startCPU(b *testing.B) *cpuClock {
	runtime.LockOSThread()
	return &cpuClock{b: b, start: threadCPU()}
}

func (c *cpuClock) stop() {
	c.b.StopTimer()
	c.total += threadCPU() - c.start
}

func (c *cpuClock) resume() {
	c.start = threadCPU()
	c.b.StartTimer()
}

// report must be called right after the b.Loop loop.
func (c *cpuClock) report() {
	c.total += threadCPU() - c.start
	runtime.UnlockOSThread()
	if c.b.N > 0 && c.total > 0 {
		c.b.ReportMetric(float64(c.total.Nanoseconds())/float64(c.b.N), "cpu-ns/op")
	}
}

type benchSub struct{ id int }

// populate inserts n subscriptions shaped like a busy server's: many
// literal inbox-like subjects, some service subjects with wildcards.
func populate(b *testing.B, s *sublist.Sublist[*benchSub], n int) {
	b.Helper()
	for i := range n {
		var subj string
		switch i % 10 {
		case 0:
			subj = fmt.Sprintf("svc.%d.*", i%100)
		case 1:
			subj = fmt.Sprintf("svc.%d.>", i%50)
		case 2:
			subj = fmt.Sprintf("events.*.%d", i%200)
		default:
			subj = fmt.Sprintf("_INBOX.%08x.%d", i*2654435761, i)
		}
		if err := s.Insert(subj, "", &benchSub{i}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInsert adds new inbox-like subscriptions to a Sublist that holds
// between 1,000 and 17,000 of them.
func BenchmarkInsert(b *testing.B) {
	const batch = 1 << 14
	subjects := make([]string, batch)
	for i := range subjects {
		subjects[i] = fmt.Sprintf("_INBOX.bench%08x.%d", i*2654435761, i)
	}
	v := &benchSub{}
	var s *sublist.Sublist[*benchSub]
	b.ReportAllocs()
	clk := startCPU(b)
	i := 0
	for b.Loop() {
		if i%batch == 0 {
			clk.stop()
			s = sublist.New[*benchSub]()
			populate(b, s, 1000)
			clk.resume()
		}
		s.Insert(subjects[i%batch], "", v)
		i++
	}
	clk.report()
}

func BenchmarkInsertRemove(b *testing.B) {
	s := sublist.New[*benchSub]()
	populate(b, s, 1000)
	s.Match("svc.1.x")
	v := &benchSub{}
	b.ReportAllocs()
	clk := startCPU(b)
	for b.Loop() {
		s.Insert("_INBOX.abcdefgh.12345", "", v)
		s.Remove("_INBOX.abcdefgh.12345", "", v)
	}
	clk.report()
}

func BenchmarkRemove(b *testing.B) {
	s := sublist.New[*benchSub]()
	populate(b, s, 1000)
	const batch = 1 << 14
	subjects := make([]string, batch)
	for i := range subjects {
		subjects[i] = fmt.Sprintf("_INBOX.bench%08x.%d", i*2654435761, i)
	}
	v := &benchSub{}
	b.ReportAllocs()
	clk := startCPU(b)
	i := 0
	for b.Loop() {
		if i%batch == 0 {
			clk.stop()
			for _, subj := range subjects {
				s.Insert(subj, "", v)
			}
			clk.resume()
		}
		s.Remove(subjects[i%batch], "", v)
		i++
	}
	clk.report()
}

func benchHit(b *testing.B, subject string) {
	s := sublist.New[*benchSub]()
	populate(b, s, 1000)
	if err := s.Insert(subject, "", &benchSub{}); err != nil {
		b.Fatal(err)
	}
	s.Match(subject)
	b.ReportAllocs()
	b.SetBytes(int64(len(subject)))
	clk := startCPU(b)
	for b.Loop() {
		s.Match(subject)
	}
	clk.report()
}

func BenchmarkMatchCacheHit1(b *testing.B) { benchHit(b, "foo") }
func BenchmarkMatchCacheHit2(b *testing.B) { benchHit(b, "foo.bar") }
func BenchmarkMatchCacheHit4(b *testing.B) { benchHit(b, "foo.bar.baz.qux") }

func BenchmarkMatchBytesCacheHit(b *testing.B) {
	s := sublist.New[*benchSub]()
	populate(b, s, 1000)
	subject := []byte("foo.bar.baz.qux")
	s.Insert(string(subject), "", &benchSub{})
	s.MatchBytes(subject)
	b.ReportAllocs()
	b.SetBytes(int64(len(subject)))
	clk := startCPU(b)
	for b.Loop() {
		s.MatchBytes(subject)
	}
	clk.report()
}

func BenchmarkHasInterestCacheHit(b *testing.B) {
	s := sublist.New[*benchSub]()
	populate(b, s, 1000)
	s.Match("svc.1.x")
	s.Match("svc.1.x") // HasInterest does not fill the cache: the second Match does
	b.ReportAllocs()
	clk := startCPU(b)
	for b.Loop() {
		s.HasInterest("svc.1.x")
	}
	clk.report()
}

// BenchmarkMatchCacheMiss matches subjects never seen before, each costing a
// trie walk, a result and a cache fill (with evictions).
func BenchmarkMatchCacheMiss(b *testing.B) {
	s := sublist.New[*benchSub]()
	populate(b, s, 1000)
	subjects := make([]string, 1<<16)
	for i := range subjects {
		subjects[i] = "svc." + strconv.Itoa(i%100) + ".m" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	i := 0
	clk := startCPU(b)
	for b.Loop() {
		s.Match(subjects[i&(len(subjects)-1)])
		i++
	}
	clk.report()
}

// BenchmarkMatchHotAndOneOff alternates a working set of 256 hot subjects
// with subjects seen once (JetStream ack subjects, fresh reply inboxes), as
// a server acking JetStream messages does. hot-hit-% is the fraction of hot
// matches answered by the cache: one-off subjects must not evict them.
func BenchmarkMatchHotAndOneOff(b *testing.B) {
	s := sublist.New[*benchSub]()
	populate(b, s, 1000)
	if err := s.Insert("$JS.ACK.ORDERS.>", "", &benchSub{}); err != nil {
		b.Fatal(err)
	}
	hot := make([]string, 256)
	for i := range hot {
		hot[i] = fmt.Sprintf("svc.%d.hot%d", i%100, i)
		s.Match(hot[i])
		s.Match(hot[i])
	}
	// Ack subjects are built in place so that none repeats, however long
	// the benchmark runs; the server matches them from its read buffer.
	ack := make([]byte, 0, 128)
	ackPrefix := "$JS.ACK.ORDERS.C1.1."
	hitCount := func() float64 {
		st := s.Stats()
		return st.CacheHitRate * float64(st.NumMatches)
	}
	before := hitCount()
	b.ReportAllocs()
	i := 0
	clk := startCPU(b)
	for b.Loop() {
		s.Match(hot[i&(len(hot)-1)])
		ack = strconv.AppendInt(append(ack[:0], ackPrefix...), int64(i+1), 10)
		ack = append(ack, '.')
		ack = strconv.AppendInt(ack, int64(i+1), 10)
		ack = append(ack, ".1765100000000000000.0"...)
		s.MatchBytes(ack)
		i++
	}
	clk.report()
	if i > 0 {
		// One-off subjects never hit: every hit is a hot one.
		b.ReportMetric(100*(hitCount()-before)/float64(i), "hot-hit-%")
	}
}

func BenchmarkMatchWildcardHeavy(b *testing.B) {
	s := sublist.NewWithOptions[*benchSub](sublist.Options{NoCache: true})
	for i := range 100 {
		for _, f := range []string{"a.b.c.d", "a.*.c.d", "a.b.*.d", "a.b.c.*", "a.*.*.*", "*.b.*.d", "a.>", "a.b.>", "*.>", ">"} {
			s.Insert(f, "", &benchSub{i})
		}
	}
	b.ReportAllocs()
	clk := startCPU(b)
	for b.Loop() {
		if r := s.Match("a.b.c.d"); len(r.Plain) != 1000 {
			b.Fatal(len(r.Plain))
		}
	}
	clk.report()
}

// Benchmark10kSubsNoCache walks a trie of 10,000 subscriptions for a
// subject matching a literal and two wildcard subscriptions.
func Benchmark10kSubsNoCache(b *testing.B) {
	s := sublist.NewWithOptions[*benchSub](sublist.Options{NoCache: true})
	populate(b, s, 10000)
	s.Insert("svc.7.orders", "", &benchSub{})
	b.ReportAllocs()
	clk := startCPU(b)
	for b.Loop() {
		if r := s.Match("svc.7.orders"); len(r.Plain) == 0 {
			b.Fatal("no match")
		}
	}
	clk.report()
}

func Benchmark100kSubs(b *testing.B) {
	s := sublist.New[*benchSub]()
	populate(b, s, 100000)
	subjects := make([]string, 512)
	for i := range subjects {
		subjects[i] = fmt.Sprintf("svc.%d.x%d", i%100, i)
	}
	for _, subj := range subjects {
		s.Match(subj)
	}
	b.ReportAllocs()
	i := 0
	clk := startCPU(b)
	for b.Loop() {
		s.Match(subjects[i&(len(subjects)-1)])
		i++
	}
	clk.report()
}

func BenchmarkMatchParallel(b *testing.B) {
	s := sublist.New[*benchSub]()
	populate(b, s, 1000)
	subjects := make([]string, 64)
	for i := range subjects {
		subjects[i] = fmt.Sprintf("svc.%d.x", i)
		s.Match(subjects[i])
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			s.Match(subjects[i&63])
			i++
		}
	})
}
func BenchmarkTransformApply(b *testing.B) {
	tr, err := sublist.NewTransform("orders.*.*", "shard.{{partition(8,1)}}.{{wildcard(2)}}.{{wildcard(1)}}")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	clk := startCPU(b)
	for b.Loop() {
		if _, err := tr.Apply("orders.eu.12345"); err != nil {
			b.Fatal(err)
		}
	}
	clk.report()
}

// BenchmarkMemoryPerSubscription reports the heap held by the trie per
// inbox-like subscription ("_INBOX." + 22 characters, one subscriber each),
// including the Sublist's private copy of the subject.
func BenchmarkMemoryPerSubscription(b *testing.B) {
	const n = 20000
	subjects := make([]string, n)
	vals := make([]*benchSub, n)
	for i := range subjects {
		subjects[i] = fmt.Sprintf("_INBOX.%022d", i*2654435761)
		vals[i] = &benchSub{i}
	}
	var perSub float64
	for b.Loop() {
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		s := sublist.New[*benchSub]()
		for i, subj := range subjects {
			s.Insert(subj, "", vals[i])
		}
		runtime.GC()
		runtime.ReadMemStats(&m1)
		perSub = float64(m1.HeapAlloc-m0.HeapAlloc) / n
		runtime.KeepAlive(s)
	}
	b.ReportMetric(perSub, "B/sub")
}

// BenchmarkInsertRemoveWildcardFullCache pays for invalidation: a wildcard
// insert or remove checks every cached subject against the filter.
func BenchmarkInsertRemoveWildcardFullCache(b *testing.B) {
	s := sublist.New[*benchSub]()
	populate(b, s, 1000)
	for i := range 1024 {
		subj := fmt.Sprintf("svc.%d.x%d", i%100, i)
		s.Match(subj)
		s.Match(subj) // the second sight admits it to the cache
	}
	v := &benchSub{}
	b.ReportAllocs()
	clk := startCPU(b)
	for b.Loop() {
		s.Insert("svc.*.x7", "", v)
		s.Remove("svc.*.x7", "", v)
	}
	clk.report()
}

// upstreamSubjects is the subject tree of upstream's sublist benchmarks:
// 8 tokens, every combination of up to 5 levels (37,448 subjects).
func upstreamSubjects() []string {
	toks := []string{"apcera", "continuum", "component", "router", "api", "imgr", "jmgr", "auth"}
	var out []string
	var grow func(prefix string, depth int)
	grow = func(prefix string, depth int) {
		for _, t := range toks {
			subj := t
			if prefix != "" {
				subj = prefix + "." + t
			}
			out = append(out, subj)
			if depth < 4 {
				grow(subj, depth+1)
			}
		}
	}
	grow("", 0)
	return out
}

// BenchmarkInsertUpstreamShape mirrors upstream's SublistInsert: cycle
// through the subject tree inserting into a fresh Sublist; after the first
// lap the inserts are duplicates (upstream re-inserts the same
// subscriptions too).
func BenchmarkInsertUpstreamShape(b *testing.B) {
	subjects := upstreamSubjects()
	vals := make([]*benchSub, len(subjects))
	for i := range vals {
		vals[i] = &benchSub{i}
	}
	s := sublist.New[*benchSub]()
	b.ReportAllocs()
	clk := startCPU(b)
	i := 0
	for b.Loop() {
		k := i % len(subjects)
		s.Insert(subjects[k], "", vals[k])
		i++
	}
	clk.report()
}

// BenchmarkMatch512SubsNoCache mirrors upstream's
// SublistMatch10kSubsWithNoCache: 512 subscribers on one subject, every
// Match builds the 512-value result.
func BenchmarkMatch512SubsNoCache(b *testing.B) {
	s := sublist.NewWithOptions[*benchSub](sublist.Options{NoCache: true})
	for i := range 512 {
		s.Insert("foo", "", &benchSub{i})
	}
	b.ReportAllocs()
	clk := startCPU(b)
	for b.Loop() {
		if r := s.Match("foo"); len(r.Plain) != 512 {
			b.Fatal(len(r.Plain))
		}
	}
	clk.report()
}

// BenchmarkMatchUpstreamShape4Tokens mirrors upstream's
// SublistMatchFourTokens: a cached match in the 37,448-subject tree with
// upstream's three wildcard subscriptions.
func BenchmarkMatchUpstreamShape4Tokens(b *testing.B) {
	s := sublist.New[*benchSub]()
	for i, subj := range upstreamSubjects() {
		s.Insert(subj, "", &benchSub{i})
	}
	for _, f := range []string{"cloud.>", "cloud.continuum.component.>", "cloud.*.*.router.*"} {
		s.Insert(f, "", &benchSub{})
	}
	s.Match("apcera.continuum.component.router")
	b.ReportAllocs()
	clk := startCPU(b)
	for b.Loop() {
		s.Match("apcera.continuum.component.router")
	}
	clk.report()
}

// BenchmarkRemoveUpstreamShape mirrors upstream's SublistRemove1TokenSingle:
// many subscribers on the one subject "foo", removed one by one.
func BenchmarkRemoveUpstreamShape(b *testing.B) {
	const batch = 1 << 14
	vals := make([]*benchSub, batch)
	for i := range vals {
		vals[i] = &benchSub{i}
	}
	s := sublist.New[*benchSub]()
	b.ReportAllocs()
	clk := startCPU(b)
	i := 0
	for b.Loop() {
		if i%batch == 0 {
			clk.stop()
			for _, v := range vals {
				s.Insert("foo", "", v)
			}
			clk.resume()
		}
		s.Remove("foo", "", vals[i%batch])
		i++
	}
	clk.report()
}

// BenchmarkSubjectMatchesFilter is the filtered-load check of a stream
// store: a stored literal subject against a consumer's filter.
func BenchmarkSubjectMatchesFilter(b *testing.B) {
	b.ReportAllocs()
	clk := startCPU(b)
	for b.Loop() {
		if !sublist.SubjectMatchesFilter("orders.eu.retail.12345", "orders.*.retail.>") {
			b.Fatal("no match")
		}
	}
	clk.report()
}
