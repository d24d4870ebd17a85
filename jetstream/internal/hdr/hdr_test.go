package hdr

import (
	"testing"
	"time"
)

func TestGet(t *testing.T) {
	h := []byte("NATS/1.0\r\nNats-Msg-Id: abc \r\nnats-ttl:5s\r\n\r\n")
	if g := string(Get(h, MsgID)); g != "abc" {
		t.Fatalf("msg id %q", g)
	}
	if g := string(Get(h, TTL)); g != "5s" {
		t.Fatalf("ttl %q", g)
	}
	if Get(h, Rollup) != nil || Get(nil, MsgID) != nil {
		t.Fatal("absent header found")
	}
}

func TestBuilder(t *testing.T) {
	src := []byte("NATS/1.0\r\nA: 1\r\nNats-Msg-Id: x\r\nB: 2\r\n\r\n")
	got := string(NewBuilder(nil, 0, "").AddFrom(src, MsgID).Add(Stream, "S").Bytes())
	want := "NATS/1.0\r\nA: 1\r\nB: 2\r\nNats-Stream: S\r\n\r\n"
	if got != want {
		t.Fatalf("got %q want %q", got, want)
	}
	if got := string(NewBuilder(nil, 404, "No Messages").Bytes()); got != "NATS/1.0 404 No Messages\r\n\r\n" {
		t.Fatalf("status %q", got)
	}
}

// TestBuilderReset: a Builder kept by its caller builds the same block
// as NewBuilder's, numbers and times appended in place, without
// allocating once its space is large enough.
func TestBuilderReset(t *testing.T) {
	var b Builder
	buf := make([]byte, 0, 256)
	ts := time.Date(2026, 12, 7, 3, 4, 5, 6000, time.UTC).UnixNano()
	build := func() []byte {
		return b.Reset(buf, 0, "").AddFrom([]byte("NATS/1.0\r\nA: 1\r\n\r\n")).
			AddUint(Sequence, 42).AddTime(TimeStamp, ts).Bytes()
	}
	want := "NATS/1.0\r\nA: 1\r\nNats-Sequence: 42\r\nNats-Time-Stamp: 2026-12-07T03:04:05.000006Z\r\n\r\n"
	if got := string(build()); got != want {
		t.Fatalf("got %q want %q", got, want)
	}
	if n := testing.AllocsPerRun(100, func() { _ = build() }); n != 0 {
		t.Fatalf("%v allocations per block", n)
	}
	if got := string(b.Reset(buf, 204, "EOB").AddUint(NumPending, 0).Bytes()); got != "NATS/1.0 204 EOB\r\nNats-Num-Pending: 0\r\n\r\n" {
		t.Fatalf("status %q", got)
	}
}

func BenchmarkBuilderDirect(b *testing.B) {
	var hb Builder
	buf := make([]byte, 0, 256)
	src := []byte("NATS/1.0\r\nA: 1\r\n\r\n")
	b.ReportAllocs()
	for i := range b.N {
		buf = hb.Reset(buf, 0, "").AddFrom(src).Add(Stream, "KV_B").Add(Subject, "$KV.B.k").
			AddUint(Sequence, uint64(i)).AddTime(TimeStamp, int64(i)).Bytes()
	}
}

func FuzzGet(f *testing.F) {
	f.Add([]byte("NATS/1.0\r\nNats-Msg-Id: abc\r\n\r\n"), "Nats-Msg-Id")
	f.Fuzz(func(t *testing.T, h []byte, k string) {
		_ = Get(h, k)
		_ = NewBuilder(nil, 0, "").AddFrom(h).Bytes()
	})
}
