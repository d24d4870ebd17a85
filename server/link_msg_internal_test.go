package server

import (
	"testing"
)

// BenchmarkLinkWriteMsg: a gateway handing a mapped reply to a route.
func BenchmarkLinkWriteMsg(b *testing.B) {
	s := newPipeServer(b)
	l := linkPipe(b, s)
	acc, subj, payload := []byte(GlobalAccountName), []byte("_GR_.abcdef.ghijkl._INBOX.xxxxxxxxxxxxxxxxxxxxxx.yyyy"), make([]byte, 128)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		if err := l.WriteMsg(acc, subj, nil, -1, payload); err != nil {
			b.Fatal(err)
		}
	}
}

func TestLinkWriteMsgAllocs(t *testing.T) {
	s := newPipeServer(t)
	l := linkPipe(t, s)
	acc, subj, payload := []byte(GlobalAccountName), []byte("_GR_.abcdef.ghijkl._INBOX.x"), make([]byte, 128)
	if n := testing.AllocsPerRun(100, func() { _ = l.WriteMsg(acc, subj, nil, -1, payload) }); n > 0 {
		t.Fatalf("WriteMsg allocates %v times", n)
	}
}
