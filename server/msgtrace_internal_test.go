package server

import (
	"testing"
)

func TestQuoteTraced(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"hello", 0, `"hello"`},
		{"hello", 5, `"hello"`},
		{"hello!", 5, `"hello..."`},
		{"h\\\"llo\xc3\xa9x", 6, `"h\\\"llo..."`},
		{"NATS/1.0\r\n\r\nhi", 0, `"NATS/1.0\r\n\r\nhi"`},
		{"\xc3\xa9", 1, `"\xc3..."`},
	} {
		if got := quoteTraced([]byte(tc.in), tc.max); got != tc.want {
			t.Errorf("quoteTraced(%q, %d) = %s, want %s", tc.in, tc.max, got, tc.want)
		}
	}
}

func TestTraceHeaders(t *testing.T) {
	hdr := []byte("NATS/1.0\r\nnats-trace-dest: a.b\r\nX: 1\r\nX: 2\r\nNats-Trace-Hop: 1\r\n\r\n")
	// As upstream, only the name as written traces.
	if tracedHeader(len(hdr), hdr) {
		t.Fatal("nats-trace-dest traced")
	}
	if _, ok := headerValue(hdr, traceDestHeader); ok {
		t.Fatal("nats-trace-dest taken for Nats-Trace-Dest")
	}
	traced := []byte("NATS/1.0\r\nNats-Trace-Dest:  a.b \r\n\r\n")
	if v, ok := headerValue(traced, traceDestHeader); !tracedHeader(len(traced), traced) || !ok || v != "a.b" {
		t.Fatalf("headerValue = %q, %v", v, ok)
	}
	if _, ok := headerValue(hdr, traceOnlyHeader); ok {
		t.Fatal("Nats-Trace-Only found")
	}
	m := headerMap(hdr)
	if len(m["X"]) != 2 || m["nats-trace-dest"][0] != "a.b" {
		t.Fatalf("headerMap = %v", m)
	}
	got := string(withHeader(hdr, traceHopHeader, "1.2"))
	want := "NATS/1.0\r\nnats-trace-dest: a.b\r\nX: 1\r\nX: 2\r\nNats-Trace-Hop: 1.2\r\n\r\n"
	if got != want {
		t.Fatalf("withHeader = %q, want %q", got, want)
	}
}

func TestTraceParentAndEncoding(t *testing.T) {
	for tp, want := range map[string]bool{
		"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01": true,
		"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03": true,
		"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00": false,
		"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-zz": false,
		"garbage": false, "": false,
	} {
		if got := sampled(tp); got != want {
			t.Errorf("sampled(%q) = %v", tp, got)
		}
	}
	for v, want := range map[string]string{
		"gzip": traceGzip, "GZIP": traceGzip, "gzip, deflate": traceGzip,
		"snappy": traceSnappy, "s2": traceSnappy, "br": "", "": "",
	} {
		if got := traceEncoding(v); got != want {
			t.Errorf("traceEncoding(%q) = %q, want %q", v, got, want)
		}
	}
	// An account without msg_trace looks at Nats-Trace-Dest only.
	hdr := []byte("NATS/1.0\r\ntraceparent: 00-a-b-01\r\n\r\n")
	a := &Account{}
	if a.traceRequested(len(hdr), hdr) {
		t.Error("traceparent traced without msg_trace")
	}
	a.trace.Store(&AccountMsgTrace{Dest: "t", Sampling: 100})
	if !a.traceRequested(len(hdr), hdr) {
		t.Error("traceparent not traced with msg_trace")
	}
}
