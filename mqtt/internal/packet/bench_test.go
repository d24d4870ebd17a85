package packet

import (
	"bytes"
	"testing"
)

// loopReader serves the same bytes over and over, without allocating.
type loopReader struct {
	data []byte
	off  int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := copy(p, l.data[l.off:])
	l.off = (l.off + n) % len(l.data)
	return n, nil
}

// publishStream is 64 copies of a 3.1.1 PUBLISH with a 128-byte payload.
func publishStream(qos byte) (data []byte, size int) {
	p := &Publish{Topic: []byte("sensors/cold-1/temp"), QoS: qos, Payload: bytes.Repeat([]byte("x"), 128)}
	if qos > 0 {
		p.PacketID = 1
	}
	one := AppendPublish(nil, V311, p)
	return bytes.Repeat(one, 64), len(one)
}

func nextPublish(tb testing.TB, r *Reader, p *Publish) {
	typ, flags, body, err := r.Next()
	if err != nil || typ != PUBLISH {
		tb.Fatalf("Next: %d %v", typ, err)
	}
	if err := DecodePublish(V311, flags, body, p); err != nil || len(p.Payload) != 128 {
		tb.Fatalf("DecodePublish: %v", err)
	}
}

func benchmarkReadPublish(b *testing.B, qos byte) {
	data, size := publishStream(qos)
	r := NewReader(&loopReader{data: data}, 4096)
	var p Publish
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		nextPublish(b, r, &p)
	}
}

func BenchmarkReadPublishQoS0(b *testing.B) { benchmarkReadPublish(b, 0) }
func BenchmarkReadPublishQoS1(b *testing.B) { benchmarkReadPublish(b, 1) }

func BenchmarkAppendPublishHeader(b *testing.B) {
	topic := []byte("sensors/cold-1/temp")
	dst := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendPublishHeader(dst[:0], V311, topic, 1, false, false, 7, nil, 128)
	}
	b.SetBytes(int64(len(dst)))
}

func BenchmarkDecodePublishV5(b *testing.B) {
	_, flags, body := onePacket(b, AppendPublish(nil, V5, &Publish{Topic: []byte("a/b"), QoS: 1, PacketID: 1,
		Props: Properties{Present: 1<<PropMessageExpiry | 1<<PropTopicAlias, MessageExpiry: 10, TopicAlias: 1}, Payload: make([]byte, 128)}))
	var p Publish
	b.ReportAllocs()
	for b.Loop() {
		if err := DecodePublish(V5, flags, body, &p); err != nil {
			b.Fatal(err)
		}
	}
}

// TestHotPathAllocs keeps the 3.1.1 publish path free of allocations.
func TestHotPathAllocs(t *testing.T) {
	for _, qos := range []byte{0, 1} {
		data, _ := publishStream(qos)
		r := NewReader(&loopReader{data: data}, 4096)
		var p Publish
		if n := testing.AllocsPerRun(1000, func() { nextPublish(t, r, &p) }); n != 0 {
			t.Errorf("Next+DecodePublish QoS %d: %v allocs, want 0", qos, n)
		}
	}
	topic := []byte("a/b")
	dst := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(1000, func() { dst = AppendPublishHeader(dst[:0], V311, topic, 1, false, false, 7, nil, 128) }); n != 0 {
		t.Errorf("AppendPublishHeader: %v allocs, want 0", n)
	}
	p := &Publish{Topic: topic, QoS: 1, PacketID: 1, Payload: make([]byte, 128)}
	dst = make([]byte, 0, 256)
	if n := testing.AllocsPerRun(1000, func() { dst = AppendPublish(dst[:0], V5, p) }); n != 0 {
		t.Errorf("AppendPublish v5: %v allocs, want 0", n)
	}
}
