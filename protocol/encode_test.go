package protocol_test

import (
	"bytes"
	"testing"

	"natsd.dev/protocol"
)

func TestEncoders(t *testing.T) {
	s := func(v string) []byte {
		if v == "" {
			return nil
		}
		return []byte(v)
	}
	qs := [][]byte{s("q1"), s("q2")}
	cases := []struct {
		got  []byte
		want string
	}{
		{protocol.AppendInfo(nil, s(`{"a":1}`)), "INFO {\"a\":1} \r\n"},
		{protocol.AppendConnect(nil, s(`{}`)), "CONNECT {}\r\n"},
		{protocol.AppendPing(nil), "PING\r\n"},
		{protocol.AppendPong(nil), "PONG\r\n"},
		{protocol.AppendOK(nil), "+OK\r\n"},
		{protocol.AppendErr(nil, "Stale Connection"), "-ERR 'Stale Connection'\r\n"},
		{protocol.AppendPub(nil, s("a"), nil, s("hi")), "PUB a 2\r\nhi\r\n"},
		{protocol.AppendPub(nil, s("a"), s("r"), nil), "PUB a r 0\r\n\r\n"},
		{protocol.AppendHPub(nil, s("a"), s("r"), 1, s("hi")), "HPUB a r 1 2\r\nhi\r\n"},
		{protocol.AppendSub(nil, s("a"), nil, s("1")), "SUB a 1\r\n"},
		{protocol.AppendSub(nil, s("a"), s("q"), s("1")), "SUB a q 1\r\n"},
		{protocol.AppendUnsub(nil, s("1"), 0), "UNSUB 1\r\n"},
		{protocol.AppendUnsub(nil, s("1"), 10), "UNSUB 1 10\r\n"},
		{protocol.AppendMsg(nil, s("a"), s("1"), nil, s("hi")), "MSG a 1 2\r\nhi\r\n"},
		{protocol.AppendMsg(nil, s("a"), s("1"), s("r"), s("hi")), "MSG a 1 r 2\r\nhi\r\n"},
		{protocol.AppendMsgHeader(nil, s("a"), s("1"), s("r"), 100), "MSG a 1 r 100\r\n"},
		{protocol.AppendHMsg(nil, s("a"), s("1"), nil, 1, s("hi")), "HMSG a 1 1 2\r\nhi\r\n"},
		{protocol.AppendHMsgHeader(nil, s("a"), s("1"), s("r"), 10, 100), "HMSG a 1 r 10 100\r\n"},
		{protocol.AppendRSub(nil, s("$G"), s("a"), nil, 1), "RS+ $G a\r\n"},
		{protocol.AppendRSub(nil, s("$G"), s("a"), s("q"), 4), "RS+ $G a q 4\r\n"},
		{protocol.AppendRSub(nil, nil, s("a"), nil, 1), "RS+ a\r\n"},
		{protocol.AppendRUnsub(nil, s("$G"), s("a"), s("q")), "RS- $G a q\r\n"},
		{protocol.AppendRMsg(nil, s("$G"), s("a"), nil, nil, s("x")), "RMSG $G a 1\r\nx\r\n"},
		{protocol.AppendRMsg(nil, s("$G"), s("a"), s("r"), nil, s("x")), "RMSG $G a r 1\r\nx\r\n"},
		{protocol.AppendRMsg(nil, s("$G"), s("a"), s("r"), qs, s("x")), "RMSG $G a + r q1 q2 1\r\nx\r\n"},
		{protocol.AppendRMsg(nil, s("$G"), s("a"), nil, qs, s("x")), "RMSG $G a | q1 q2 1\r\nx\r\n"},
		{protocol.AppendRMsgHeader(nil, s("$G"), s("a"), nil, qs, 9), "RMSG $G a | q1 q2 9\r\n"},
		{protocol.AppendRHMsg(nil, s("$G"), s("a"), s("r"), nil, 1, s("xy")), "HMSG $G a r 1 2\r\nxy\r\n"},
		{protocol.AppendRHMsgHeader(nil, s("$G"), s("a"), nil, qs, 1, 2), "HMSG $G a | q1 q2 1 2\r\n"},
		{protocol.AppendLSub(nil, s("a"), s("q"), 2), "LS+ a q 2\r\n"},
		{protocol.AppendLUnsub(nil, s("a"), nil), "LS- a\r\n"},
		{protocol.AppendLMsg(nil, s("a"), s("r"), nil, s("x")), "LMSG a r 1\r\nx\r\n"},
		{protocol.AppendLMsgHeader(nil, s("a"), nil, qs, 5), "LMSG a | q1 q2 5\r\n"},
		{protocol.AppendLHMsg(nil, s("a"), nil, nil, 0, s("x")), "HMSG a 0 1\r\nx\r\n"},
		{protocol.AppendLHMsgHeader(nil, s("a"), s("r"), qs, 3, 5), "HMSG a + r q1 q2 3 5\r\n"},
		{protocol.AppendRouteLSub(nil, s("L1"), s("$G"), s("a"), s("q"), 1), "LS+ L1 $G a q 1\r\n"},
		{protocol.AppendRouteLUnsub(nil, s("L1"), s("$G"), s("a"), nil), "LS- L1 $G a\r\n"},
		{protocol.AppendRouteLUnsub(nil, nil, s("$G"), s("a"), nil), "LS- $G a\r\n"},
		{protocol.AppendRouteLMsg(nil, s("L1"), s("$G"), s("a"), nil, nil, -1, s("x")), "LMSG L1 $G a 0 1\r\nx\r\n"},
		{protocol.AppendRouteLMsgHeader(nil, s("L1"), s("$G"), s("a"), s("r"), nil, 2, 3), "LMSG L1 $G a r 2 3\r\n"},
		{protocol.AppendASub(nil, s("$G")), "A+ $G\r\n"},
		{protocol.AppendAUnsub(nil, s("$G")), "A- $G\r\n"},
	}
	for _, tc := range cases {
		if string(tc.got) != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// Encoders append to dst without touching bytes before len(dst) or past
// what they append.
func TestEncodeAppendsOnly(t *testing.T) {
	buf := make([]byte, 3, 256)
	copy(buf, "abc")
	guard := buf[:cap(buf)]
	for i := 3; i < len(guard); i++ {
		guard[i] = 0xEE
	}
	out := protocol.AppendMsg(buf, []byte("s"), []byte("1"), nil, []byte("p"))
	if !bytes.HasPrefix(out, []byte("abcMSG s 1 1\r\np\r\n")) || len(out) != 3+len("MSG s 1 1\r\np\r\n") {
		t.Fatalf("%q", out)
	}
	for _, c := range guard[len(out):] {
		if c != 0xEE {
			t.Fatal("wrote past the appended bytes")
		}
	}
}
