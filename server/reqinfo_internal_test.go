package server

import "testing"

func TestStripRequestInfo(t *testing.T) {
	for _, tc := range []struct{ hdr, body, want string }{
		{"NATS/1.0\r\nX: y\r\n\r\n", "data", "NATS/1.0\r\nX: y\r\n\r\n"},
		{"NATS/1.0\r\nNats-Request-Info: {\"acc\":\"SYS\"}\r\nX: y\r\n\r\n", "data", "NATS/1.0\r\nX: y\r\n\r\n"},
		{"NATS/1.0\r\nX: y\r\nnats-request-info : forged\r\nNATS-REQUEST-INFO:x\r\n\r\n", "", "NATS/1.0\r\nX: y\r\n\r\n"},
		{"NATS/1.0 503\r\n\r\n", "", "NATS/1.0 503\r\n\r\n"},
		{"NATS/1.0\r\nNats-Request-Info-X: keep\r\n\r\n", "b", "NATS/1.0\r\nNats-Request-Info-X: keep\r\n\r\n"},
	} {
		n, out := stripRequestInfo(len(tc.hdr), []byte(tc.hdr+tc.body))
		if string(out[:n]) != tc.want || string(out[n:]) != tc.body {
			t.Errorf("%q: got header %q body %q", tc.hdr, out[:n], out[n:])
		}
	}
	if n, out := stripRequestInfo(-1, []byte("plain")); n != -1 || string(out) != "plain" {
		t.Errorf("no header: %d %q", n, out)
	}
	msg := []byte("NATS/1.0\r\nX: y\r\n\r\nbody")
	if a := testing.AllocsPerRun(100, func() { stripRequestInfo(18, msg) }); a != 0 {
		t.Errorf("%v allocations for a header without the field", a)
	}
}
