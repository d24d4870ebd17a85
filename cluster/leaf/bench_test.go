package leaf

import (
	"testing"
)

// The encoder runs under the link's lock for every message sent to a leaf
// node: it must not allocate.
func BenchmarkEncoder(b *testing.B) {
	dst := make([]byte, 0, 256)
	subject, reply := []byte("orders.eu.created"), []byte("_INBOX.abcdefghijklmnop")
	queues := [][]byte{[]byte("workers")}
	b.ReportAllocs()
	for b.Loop() {
		dst = Encoder{}.AppendMsgHeader(dst[:0], nil, subject, reply, queues, 22, 128)
	}
}

// A remote's deny_exports are checked for every message to the hub.
func BenchmarkDenyAllow(b *testing.B) {
	d, err := compileDeny("deny_exports", []string{"secret.>", "internal.*.audit", "private"})
	if err != nil {
		b.Fatal(err)
	}
	subject := []byte("orders.eu.created")
	b.ReportAllocs()
	for b.Loop() {
		if !d.Allow(subject) {
			b.Fatal("denied")
		}
	}
}
