package hdr

import "testing"

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

func FuzzGet(f *testing.F) {
	f.Add([]byte("NATS/1.0\r\nNats-Msg-Id: abc\r\n\r\n"), "Nats-Msg-Id")
	f.Fuzz(func(t *testing.T, h []byte, k string) {
		_ = Get(h, k)
		_ = NewBuilder(nil, 0, "").AddFrom(h).Bytes()
	})
}
