package handshake

import (
	"io"
	"net"
	"testing"
	"time"
)

func TestRateLimiterAdmitsLimitPerWindow(t *testing.T) {
	r := NewRateLimiter(2, func(int64) {})
	if !r.Allow() || !r.Allow() {
		t.Fatal("the first two handshakes were refused")
	}
	if r.Allow() {
		t.Fatal("a third handshake in the same second was admitted")
	}
	if r.Limit() != 2 {
		t.Fatalf("Limit = %d", r.Limit())
	}
}

func TestPrefixConnReplaysReadAhead(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go b.Write([]byte("hello"))
	p := &PrefixConn{Conn: a}
	if !p.Await(time.Second) {
		t.Fatal("Await saw nothing")
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(p, buf); err != nil || string(buf) != "hello" {
		t.Fatalf("read %q, %v", buf, err)
	}
}
