package servertest_test

import (
	"strings"
	"testing"

	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

func TestRawConnFlushObservesDelivery(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	rc := servertest.DialClient(t, s)
	if !strings.Contains(rc.Info, `"server_id"`) {
		t.Fatalf("info %q", rc.Info)
	}
	rc.Send("CONNECT {\"verbose\":false}\r\nSUB foo 1\r\nPUB foo 2\r\nhi\r\nPUB bar 2\r\nno\r\n")
	got := rc.Flush()
	if len(got) != 2 || got[0] != "MSG foo 1 2" || got[1] != "hi" {
		t.Fatalf("before PONG: %q", got)
	}
	if got := rc.Flush(); len(got) != 0 {
		t.Fatalf("after a second PING: %q", got)
	}
	rc.Send("BOGUS\r\n")
	if got := rc.ReadUntil("-ERR"); !strings.Contains(got, "Unknown Protocol Operation") {
		t.Fatalf("got %q", got)
	}
	rc.ExpectClosed()
}
