package server_test

import (
	"bytes"
	"testing"

	"natsd.dev/server"
	"natsd.dev/sublist"
)

// FuzzTraceDest: whatever the header block, TraceDest never panics, and
// a destination it returns is a valid subject, not "trace disabled",
// written in a Nats-Trace-Dest line of the block.
func FuzzTraceDest(f *testing.F) {
	for _, s := range []string{
		"NATS/1.0\r\nNats-Trace-Dest: trace.dest\r\n\r\n",
		"NATS/1.0\r\nNats-Trace-Dest: trace disabled\r\n\r\n",
		"NATS/1.0\r\nNats-Trace-Dest:a.*\r\n\r\n",
		"NATS/1.0\r\nX: 1\r\nNats-Trace-Dest:  x \r\n\r\n",
		"Nats-Trace-Dest: x",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, hdr []byte) {
		dest, ok := server.TraceDest(hdr)
		if !ok {
			if dest != "" {
				t.Fatalf("not ok with %q", dest)
			}
			return
		}
		if !sublist.ValidLiteralSubject(dest) || dest == "trace disabled" {
			t.Fatalf("returned %q", dest)
		}
		if !bytes.Contains(hdr, []byte("Nats-Trace-Dest")) || !bytes.Contains(hdr, []byte(dest)) {
			t.Fatalf("%q not in %q", dest, hdr)
		}
	})
}
