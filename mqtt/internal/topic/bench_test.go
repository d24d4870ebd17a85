package topic

import "testing"

func BenchmarkAppendSubject(b *testing.B) {
	topic := []byte("sensors/warehouse/cold-1.a/temp")
	dst := make([]byte, 0, 64)
	b.SetBytes(int64(len(topic)))
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = AppendSubject(dst[:0], topic)
	}
}

func BenchmarkAppendTopic(b *testing.B) {
	subj := []byte("sensors.warehouse.cold-1//a.temp")
	dst := make([]byte, 0, 64)
	b.SetBytes(int64(len(subj)))
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendTopic(dst[:0], subj)
	}
}
