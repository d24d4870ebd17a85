package server

import (
	"strings"
	"testing"
)

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

// FuzzStripRequestInfo: the stripped message keeps the body and every
// header line but the Nats-Request-Info ones, in order, and holds none of
// those.
func FuzzStripRequestInfo(f *testing.F) {
	f.Add("NATS/1.0\r\nNats-Request-Info: x\r\nA: b\r\n\r\n", "body")
	f.Add("NATS/1.0\r\n\r\n", "")
	f.Add("NATS/1.0\r\nnats-request-info:\r\n\r\n", "x")
	f.Fuzz(func(t *testing.T, hdr, body string) {
		n, out := stripRequestInfo(len(hdr), []byte(hdr+body))
		if string(out[n:]) != body {
			t.Fatalf("body %q became %q", body, out[n:])
		}
		if len(hdr) > 0 && hasRequestInfo(out[:n]) {
			t.Fatalf("%q still has the header: %q", hdr, out[:n])
		}
		var kept []string
		for i, line := range strings.SplitAfter(hdr, "\r\n") {
			if i == 0 || !isRequestInfoLine([]byte(line)) {
				kept = append(kept, line)
			}
		}
		if want := strings.Join(kept, ""); len(hdr) > 0 && string(out[:n]) != want {
			t.Fatalf("%q: header %q, want %q", hdr, out[:n], want)
		}
	})
}
