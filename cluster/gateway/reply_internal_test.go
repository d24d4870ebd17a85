package gateway

import (
	"strings"
	"testing"
)

func TestGRHashShape(t *testing.T) {
	for _, name := range []string{"A", "B", "NAKF2QGQCD4AONCWE52IEVNJ3R4ZZMIYTT7HFIFSX35LYYAFP73UXVXP", ""} {
		h := grHash(name)
		if len(h) != grHashLen || strings.Trim(h, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != "" {
			t.Fatalf("grHash(%q) = %q", name, h)
		}
		if grHash(name) != h {
			t.Fatalf("grHash(%q) not stable", name)
		}
	}
	if grHash("A") == grHash("B") {
		t.Fatal("A and B hash alike")
	}
}

func TestGREncoder(t *testing.T) {
	e := grEncoder{prefix: grReplyPrefix("A", "SRV")}
	p := string(e.prefix)
	got := string(e.AppendMsgHeader(nil, []byte("$G"), []byte("svc"), []byte("inbox.1"), nil, -1, 5))
	if want := "RMSG $G svc " + p + "inbox.1 5\r\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	// Already mapped (here or by another cluster): as is.
	got = string(e.AppendMsgHeader(nil, []byte("$G"), []byte("svc"), []byte("_GR_.xxxxxx.yyyyyy.r"), nil, -1, 5))
	if want := "RMSG $G svc _GR_.xxxxxx.yyyyyy.r 5\r\n"; got != want {
		t.Fatalf("got %q", got)
	}
	// A JetStream delivery's ack reply (with the presented subject after
	// '@'): as is, so that the receiving server presents it.
	got = string(e.AppendMsgHeader(nil, []byte("$G"), []byte("_INBOX.x"), []byte("$JS.ACK.S.C.1.2.2.1.0@far.1"), nil, -1, 5))
	if want := "RMSG $G _INBOX.x $JS.ACK.S.C.1.2.2.1.0@far.1 5\r\n"; got != want {
		t.Fatalf("got %q", got)
	}
	// No reply, headers, and a reply too long for the stack buffer.
	got = string(e.AppendMsgHeader(nil, []byte("$G"), []byte("svc"), nil, nil, 3, 5))
	if want := "HMSG $G svc 3 5\r\n"; got != want {
		t.Fatalf("got %q", got)
	}
	long := strings.Repeat("r", 300)
	got = string(e.AppendMsgHeader(nil, []byte("$G"), []byte("svc"), []byte(long), nil, -1, 5))
	if want := "RMSG $G svc " + p + long + " 5\r\n"; got != want {
		t.Fatalf("got %q", got)
	}
}

// BenchmarkGREncoder encodes the control line of a request leaving over
// a gateway (the reply mapped), on the delivery path.
func BenchmarkGREncoder(b *testing.B) {
	e := grEncoder{prefix: grReplyPrefix("A", "SRV")}
	dst := make([]byte, 0, 256)
	acc, subj, reply := []byte("$G"), []byte("svc.echo"), []byte("_INBOX.abcdefghijklmnopqrstuv.1")
	b.ReportAllocs()
	for b.Loop() {
		dst = e.AppendMsgHeader(dst[:0], acc, subj, reply, nil, -1, 128)
	}
}
