package protocol_test

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	"natsd.dev/protocol"
)

type parseCase struct {
	name string
	cfg  protocol.Parser
	in   string
	want []string
	err  error
}

var (
	client = protocol.Parser{}
	server = protocol.Parser{Role: protocol.RoleServer}
	route  = protocol.Parser{Role: protocol.RoleRoute}
	leaf   = protocol.Parser{Role: protocol.RoleLeaf}
)

func TestParseOps(t *testing.T) {
	cases := []parseCase{
		{name: "ping", cfg: client, in: "PING\r\n", want: []string{"PING"}},
		{name: "ping lower bare LF", cfg: client, in: "ping\n", want: []string{"PING"}},
		{name: "ping trailing junk ignored", cfg: client, in: "PING xyz\r\n", want: []string{"PING"}},
		{name: "pong", cfg: client, in: "PoNg\r\n", want: []string{"PONG"}},
		{name: "ok", cfg: server, in: "+OK\r\n", want: []string{"+OK"}},
		{name: "err", cfg: server, in: "-ERR 'Unknown Protocol Operation'\r\n", want: []string{`-ERR arg="Unknown Protocol Operation"`}},
		{name: "err unquoted", cfg: server, in: "-ERR\tStale\r\n", want: []string{`-ERR arg="Stale"`}},
		{name: "info", cfg: server, in: "INFO {\"server_id\":\"x\"} \r\n", want: []string{`INFO arg="{\"server_id\":\"x\"}"`}},
		{name: "info no space", cfg: server, in: "INFO{}\r\n", want: []string{`INFO arg="{}"`}},
		{name: "connect", cfg: client, in: "CONNECT {\"verbose\":false}\r\n", want: []string{`CONNECT arg="{\"verbose\":false}"`}},
		{name: "pub", cfg: client, in: "PUB foo 5\r\nhello\r\n", want: []string{`PUB subj="foo" payload="hello"`}},
		{name: "pub reply tabs", cfg: client, in: "pub\tfoo  \t bar\t5 \r\nhello\r\n", want: []string{`PUB subj="foo" reply="bar" payload="hello"`}},
		{name: "pub empty", cfg: client, in: "PUB foo 0\r\n\r\n", want: []string{`PUB subj="foo" payload=""`}},
		{name: "pub bare LF control line", cfg: client, in: "PUB foo 2\nhi\r\n", want: []string{`PUB subj="foo" payload="hi"`}},
		{name: "pub payload with CRLF inside", cfg: client, in: "PUB foo 4\r\n\r\n\r\n\r\n", want: []string{`PUB subj="foo" payload="\r\n\r\n"`}},
		{name: "hpub", cfg: client, in: "HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n", want: []string{`HPUB subj="foo" hdr=12 payload="NATS/1.0\r\n\r\nhi"`}},
		{name: "hpub reply", cfg: client, in: "HPUB foo r 12 12\r\nNATS/1.0\r\n\r\n\r\n", want: []string{`HPUB subj="foo" reply="r" hdr=12 payload="NATS/1.0\r\n\r\n"`}},
		{name: "sub", cfg: client, in: "SUB foo.* 1\r\n", want: []string{`SUB subj="foo.*" sid="1"`}},
		{name: "sub queue", cfg: client, in: "SUB foo q 22\r\n", want: []string{`SUB subj="foo" queue="q" sid="22"`}},
		{name: "unsub", cfg: client, in: "UNSUB 1\r\n", want: []string{`UNSUB sid="1"`}},
		{name: "unsub max", cfg: client, in: "UNSUB 1 10\r\n", want: []string{`UNSUB sid="1" max=10`}},
		{name: "unsub bad max is no max", cfg: client, in: "UNSUB 1 x\r\n", want: []string{`UNSUB sid="1"`}},
		{name: "sub CR separates", cfg: client, in: "SUB a\rb 1\r\n", want: []string{`SUB subj="a" queue="b" sid="1"`}},
		{name: "unsub CR separates", cfg: client, in: "UNSUB \r1\r\r\n", want: []string{`UNSUB sid="1"`}},
		{name: "a CR drops the line's last byte", cfg: client, in: "SUB a 1\rZ\nCONNECT {}\r5\n", want: []string{`SUB subj="a" sid="1"`, `CONNECT arg="{}\r"`}},
		{name: "a CR opening the arguments does not drop", cfg: client, in: "SUB \rfoo 1\nCONNECT\r{}\n", want: []string{`SUB subj="foo" sid="1"`, `CONNECT arg="\r{}"`}},
		{name: "pub keeps CR", cfg: client, in: "PUB a\rb 1\r\nx\r\n", want: []string{`PUB subj="a\rb" payload="x"`}},
		{name: "msg", cfg: server, in: "MSG foo 1 5\r\nhello\r\n", want: []string{`MSG subj="foo" sid="1" payload="hello"`}},
		{name: "msg reply", cfg: server, in: "MSG foo 1 _INBOX.x 0\r\n\r\n", want: []string{`MSG subj="foo" reply="_INBOX.x" sid="1" payload=""`}},
		{name: "hmsg server", cfg: server, in: "HMSG foo 1 12 13\r\nNATS/1.0\r\n\r\nx\r\n", want: []string{`HMSG subj="foo" sid="1" hdr=12 payload="NATS/1.0\r\n\r\nx"`}},
		{name: "hmsg server reply", cfg: server, in: "HMSG foo 1 r 0 1\r\nx\r\n", want: []string{`HMSG subj="foo" reply="r" sid="1" hdr=0 payload="x"`}},
		{name: "several", cfg: client, in: "PING\r\nPUB a 1\r\nx\r\nSUB a 1\r\nPONG\r\n", want: []string{"PING", `PUB subj="a" payload="x"`, `SUB subj="a" sid="1"`, "PONG"}},

		// Routes and gateways.
		{name: "rs+", cfg: route, in: "RS+ $G foo\r\n", want: []string{`RS+ acc="$G" subj="foo" w=1`}},
		{name: "rs+ queue", cfg: route, in: "RS+ $G foo bar 3\r\n", want: []string{`RS+ acc="$G" subj="foo" queue="bar" w=3`}},
		{name: "rs-", cfg: route, in: "RS- $G foo\r\n", want: []string{`RS- acc="$G" subj="foo"`}},
		{name: "rs- queue", cfg: route, in: "rs- $G foo bar\r\n", want: []string{`RS- acc="$G" subj="foo" queue="bar"`}},
		{name: "rmsg", cfg: route, in: "RMSG $G foo 2\r\nhi\r\n", want: []string{`RMSG acc="$G" subj="foo" payload="hi"`}},
		{name: "rmsg reply", cfg: route, in: "RMSG $G foo bar 2\r\nhi\r\n", want: []string{`RMSG acc="$G" subj="foo" reply="bar" payload="hi"`}},
		{name: "rmsg reply queues", cfg: route, in: "RMSG $G foo + bar q1 q2 2\r\nhi\r\n", want: []string{`RMSG acc="$G" subj="foo" reply="bar" queues=["q1" "q2"] payload="hi"`}},
		{name: "rmsg queues", cfg: route, in: "RMSG $G foo | q1 2\r\nhi\r\n", want: []string{`RMSG acc="$G" subj="foo" queues=["q1"] payload="hi"`}},
		{name: "rmsg plus reply no queues", cfg: route, in: "RMSG $G foo + bar 2\r\nhi\r\n", want: []string{`RMSG acc="$G" subj="foo" reply="bar" payload="hi"`}},
		{name: "route hmsg", cfg: route, in: "HMSG $G foo | q 12 12\r\nNATS/1.0\r\n\r\n\r\n", want: []string{`HMSG acc="$G" subj="foo" queues=["q"] hdr=12 payload="NATS/1.0\r\n\r\n"`}},
		{name: "route hmsg reply", cfg: route, in: "HMSG $G foo r 0 1\r\nx\r\n", want: []string{`HMSG acc="$G" subj="foo" reply="r" hdr=0 payload="x"`}},
		{name: "route ls+ origin", cfg: route, in: "LS+ LEAF1 $G edge.ping\r\n", want: []string{`LS+ acc="$G" origin="LEAF1" subj="edge.ping" w=1`}},
		{name: "route ls+ origin queue", cfg: route, in: "LS+ LEAF1 $G edge.work W 2\r\n", want: []string{`LS+ acc="$G" origin="LEAF1" subj="edge.work" queue="W" w=2`}},
		{name: "route ls- no origin", cfg: route, in: "LS- $G edge.work W\r\n", want: []string{`LS- acc="$G" subj="edge.work" queue="W"`}},
		{name: "route ls- origin", cfg: protocol.Parser{Role: protocol.RoleRoute, LeafUnsubOrigin: true}, in: "LS- LEAF1 $G edge.work W\r\n", want: []string{`LS- acc="$G" origin="LEAF1" subj="edge.work" queue="W"`}},
		{name: "route lmsg", cfg: route, in: "LMSG LEAF1 $G foo + r q 0 2\r\nhi\r\n", want: []string{`LMSG acc="$G" origin="LEAF1" subj="foo" reply="r" queues=["q"] hdr=0 payload="hi"`}},
		{name: "route lmsg plain", cfg: route, in: "LMSG LEAF1 $G foo 0 2\r\nhi\r\n", want: []string{`LMSG acc="$G" origin="LEAF1" subj="foo" hdr=0 payload="hi"`}},
		{name: "pinned rs+", cfg: protocol.Parser{Role: protocol.RoleRoute, PinnedAccount: []byte("ACC")}, in: "RS+ foo q 1\r\n", want: []string{`RS+ acc="ACC" subj="foo" queue="q" w=1`}},
		{name: "pinned rmsg", cfg: protocol.Parser{Role: protocol.RoleRoute, PinnedAccount: []byte("ACC")}, in: "RMSG foo | q 1\r\nx\r\n", want: []string{`RMSG acc="ACC" subj="foo" queues=["q"] payload="x"`}},
		{name: "a+", cfg: route, in: "A+ $G\r\n", want: []string{`A+ acc="$G"`}},
		{name: "a-", cfg: route, in: "a- ACC\r\n", want: []string{`A- acc="ACC"`}},

		// Leafnodes.
		{name: "leaf ls+", cfg: leaf, in: "LS+ foo\r\n", want: []string{`LS+ subj="foo" w=1`}},
		{name: "leaf ls+ queue", cfg: leaf, in: "LS+ foo q 5\r\n", want: []string{`LS+ subj="foo" queue="q" w=5`}},
		{name: "leaf ls-", cfg: leaf, in: "LS- foo q\r\n", want: []string{`LS- subj="foo" queue="q"`}},
		{name: "leaf lmsg", cfg: leaf, in: "LMSG foo 2\r\nhi\r\n", want: []string{`LMSG subj="foo" payload="hi"`}},
		{name: "leaf lmsg reply", cfg: leaf, in: "LMSG foo answers.here 2\r\nhi\r\n", want: []string{`LMSG subj="foo" reply="answers.here" payload="hi"`}},
		{name: "leaf lmsg queues", cfg: leaf, in: "LMSG foo + r a b 2\r\nhi\r\n", want: []string{`LMSG subj="foo" reply="r" queues=["a" "b"] payload="hi"`}},
		{name: "leaf hmsg", cfg: leaf, in: "HMSG foo | a 0 2\r\nhi\r\n", want: []string{`HMSG subj="foo" queues=["a"] hdr=0 payload="hi"`}},
	}
	runParseCases(t, cases)
}

func TestParseErrors(t *testing.T) {
	cases := []parseCase{
		{name: "empty line", cfg: client, in: "\r\n", err: protocol.ErrUnknownOp},
		{name: "garbage", cfg: client, in: "FOO\r\n", err: protocol.ErrUnknownOp},
		{name: "garbage partial", cfg: client, in: "X", err: protocol.ErrUnknownOp},
		{name: "pub no args", cfg: client, in: "PUB\r\n", err: protocol.ErrUnknownOp},
		{name: "pubx", cfg: client, in: "PUBX a 1\r\n", err: protocol.ErrUnknownOp},
		{name: "pub blank args", cfg: client, in: "PUB \r\n", err: protocol.ErrBadArgs},
		{name: "pub one arg", cfg: client, in: "PUB foo\r\n", err: protocol.ErrBadArgs},
		{name: "pub four args", cfg: client, in: "PUB a b c 1\r\n", err: protocol.ErrBadArgs},
		{name: "pub bad size", cfg: client, in: "PUB foo x\r\n", err: protocol.ErrBadArgs},
		{name: "pub negative size", cfg: client, in: "PUB foo -1\r\n", err: protocol.ErrBadArgs},
		{name: "pub ten digit size", cfg: client, in: "PUB foo 0000000001\r\n", err: protocol.ErrBadArgs},
		{name: "pub too big", cfg: client, in: "PUB foo 1048577\r\n", err: protocol.ErrMaxPayload},
		{name: "pub custom max", cfg: protocol.Parser{MaxPayload: 4}, in: "PUB foo 5\r\n", err: protocol.ErrMaxPayload},
		{name: "pub no limit", cfg: protocol.Parser{MaxPayload: -1}, in: "PUB foo 2000000\r\n", want: nil},
		{name: "pub limit zero empty", cfg: protocol.Parser{MaxPayload: protocol.MaxPayloadZero}, in: "PUB foo 0\r\n\r\n", want: []string{`PUB subj="foo" payload=""`}},
		{name: "pub limit zero one byte", cfg: protocol.Parser{MaxPayload: protocol.MaxPayloadZero}, in: "PUB foo 1\r\n", err: protocol.ErrMaxPayload},
		{name: "hpub limit zero", cfg: protocol.Parser{MaxPayload: protocol.MaxPayloadZero}, in: "HPUB foo 12 12\r\n", err: protocol.ErrMaxPayload},
		{name: "rmsg limit zero", cfg: protocol.Parser{Role: protocol.RoleRoute, MaxPayload: protocol.MaxPayloadZero}, in: "RMSG $G foo 1\r\n", err: protocol.ErrMaxPayload},
		{name: "pub missing CRLF", cfg: client, in: "PUB foo 1\r\nxy\r\n", err: protocol.ErrMissingCRLF},
		{name: "pub bare LF after payload", cfg: client, in: "PUB foo 1\r\nx\nPING\r\n", err: protocol.ErrMissingCRLF},
		{name: "hpub hdr > total", cfg: client, in: "HPUB foo 3 2\r\n", err: protocol.ErrBadArgs},
		{name: "hpub bad hdr", cfg: client, in: "HPUB foo x 2\r\n", err: protocol.ErrBadArgs},
		{name: "hpub too few", cfg: client, in: "HPUB foo 2\r\n", err: protocol.ErrBadArgs},
		{name: "sub one arg", cfg: client, in: "SUB foo\r\n", err: protocol.ErrBadArgs},
		{name: "sub four args", cfg: client, in: "SUB a b c d\r\n", err: protocol.ErrBadArgs},
		{name: "unsub none", cfg: client, in: "UNSUB \r\n", err: protocol.ErrBadArgs},
		{name: "unsub three", cfg: client, in: "UNSUB 1 2 3\r\n", err: protocol.ErrBadArgs},
		{name: "unsub three through CR", cfg: client, in: "UNSUB 3 10\r*\r\n", err: protocol.ErrBadArgs},
		{name: "pub size and CR", cfg: client, in: "PUB a 1\r5\n", err: protocol.ErrBadArgs},
		{name: "sub one arg and CR", cfg: client, in: "SUB a \r\r\n", err: protocol.ErrBadArgs},
		{name: "err no space", cfg: server, in: "-ERR\r\n", err: protocol.ErrUnknownOp},
		{name: "client sends msg", cfg: client, in: "MSG foo 1 1\r\nx\r\n", err: protocol.ErrUnknownOp},
		{name: "client sends rs+", cfg: client, in: "RS+ $G foo\r\n", err: protocol.ErrUnknownOp},
		{name: "client sends a+", cfg: client, in: "A+ $G\r\n", err: protocol.ErrUnknownOp},
		{name: "client sends ls+", cfg: client, in: "LS+ foo\r\n", err: protocol.ErrUnknownOp},
		{name: "server sends pub", cfg: server, in: "PUB foo 1\r\nx\r\n", err: protocol.ErrUnknownOp},
		{name: "leaf sends rmsg", cfg: leaf, in: "RMSG $G foo 1\r\nx\r\n", err: protocol.ErrUnknownOp},
		{name: "msg too few", cfg: server, in: "MSG foo 1\r\n", err: protocol.ErrBadArgs},
		{name: "hmsg server too many", cfg: server, in: "HMSG a b c d e f\r\n", err: protocol.ErrBadArgs},
		{name: "rmsg too few", cfg: route, in: "RMSG $G 1\r\n", err: protocol.ErrBadArgs},
		{name: "rmsg bad indicator", cfg: route, in: "RMSG $G foo x q 1\r\n", err: protocol.ErrBadArgs},
		{name: "rmsg too big", cfg: route, in: "RMSG $G foo 1048577\r\n", err: protocol.ErrMaxPayload},
		{name: "route lmsg too few", cfg: route, in: "LMSG L $G foo 1\r\n", err: protocol.ErrBadArgs},
		{name: "route hmsg hdr > size", cfg: route, in: "HMSG $G foo 3 2\r\n", err: protocol.ErrBadArgs},
		{name: "rs+ two-arg queue", cfg: route, in: "RS+ $G foo q\r\n", err: protocol.ErrBadArgs},
		{name: "rs+ bad weight", cfg: route, in: "RS+ $G foo q x\r\n", err: protocol.ErrBadArgs},
		{name: "rs+ no subject", cfg: route, in: "RS+ $G\r\n", err: protocol.ErrBadArgs},
		{name: "rs- too many", cfg: route, in: "RS- $G a b c\r\n", err: protocol.ErrBadArgs},
		{name: "leaf ls+ two args", cfg: leaf, in: "LS+ foo q\r\n", err: protocol.ErrBadArgs},
		{name: "leaf lmsg bad indicator", cfg: leaf, in: "LMSG foo ++ q 1\r\n", err: protocol.ErrBadArgs},
		{name: "a+ two args", cfg: route, in: "A+ a b\r\n", err: protocol.ErrBadArgs},
		{name: "control line too long", cfg: protocol.Parser{MaxControlLine: 16}, in: "SUB " + strings.Repeat("a", 20) + " 1\r\n", err: protocol.ErrMaxControlLine},
		{name: "control line too long, no line end", cfg: protocol.Parser{MaxControlLine: 16}, in: "SUB " + strings.Repeat("a", 20), err: protocol.ErrMaxControlLine},
		{name: "control line at limit", cfg: protocol.Parser{MaxControlLine: 16}, in: "SUB " + strings.Repeat("a", 10) + " 1\r\n", want: []string{`SUB subj="aaaaaaaaaa" sid="1"`}},
		{name: "frames before error", cfg: client, in: "PING\r\nPUB foo 1\r\nx\r\nBAD\r\n", want: []string{"PING", `PUB subj="foo" payload="x"`}, err: protocol.ErrUnknownOp},
	}
	runParseCases(t, cases)
}

// runParseCases checks each case in one Parse call, then at every two-way
// split, and byte by byte: all must give the same frames and error.
func runParseCases(t *testing.T, cases []parseCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			check := func(how string, got []string, err error) {
				t.Helper()
				if tc.err == nil && err != nil {
					t.Fatalf("%s: unexpected error %v", how, err)
				}
				if tc.err != nil && !errors.Is(err, tc.err) {
					t.Fatalf("%s: error %v, want %v", how, err, tc.err)
				}
				if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
					t.Fatalf("%s: frames\n%s\nwant\n%s", how, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
				}
			}
			got, err := parseAll(tc.cfg, in)
			check("one call", got, err)
			for i := 1; i < len(in); i++ {
				got, err := parseAll(tc.cfg, in[:i:i], in[i:])
				check("split at "+string(rune('0'+i%10)), got, err)
			}
			bytewise := make([][]byte, len(in))
			for i := range in {
				bytewise[i] = in[i : i+1 : i+1]
			}
			got, err = parseAll(tc.cfg, bytewise...)
			check("byte by byte", got, err)
		})
	}
}

func TestClientText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"FOO\r\n", protocol.TextUnknownOp},
		{"PUB foo 1\r\nxx\r\n", protocol.TextUnknownOp},
		{"PUB foo 2000000\r\n", protocol.TextMaxPayload},
		{"SUB " + strings.Repeat("a", 5000) + " 1\r\n", protocol.TextMaxControlLine},
		{"PUB foo\r\n", ""},
	} {
		_, err := parseAll(client, []byte(tc.in))
		if got := protocol.ClientText(err); got != tc.want {
			t.Errorf("%q: ClientText(%v) = %q, want %q", tc.in, err, got, tc.want)
		}
	}
}

func TestStickyErrorAndReset(t *testing.T) {
	var p protocol.Parser
	var r recorder
	if err := p.Parse([]byte("BAD\r\n"), &r); !errors.Is(err, protocol.ErrUnknownOp) {
		t.Fatalf("got %v", err)
	}
	if err := p.Parse([]byte("PING\r\n"), &r); !errors.Is(err, protocol.ErrUnknownOp) {
		t.Fatalf("error not sticky: %v", err)
	}
	p.Reset()
	if err := p.Parse([]byte("PING\r\n"), &r); err != nil || len(r.frames) != 1 {
		t.Fatalf("after Reset: %v %v", err, r.frames)
	}
}

func TestHandlerError(t *testing.T) {
	stop := errors.New("stop")
	var p protocol.Parser
	n := 0
	err := p.Parse([]byte("PING\r\nPING\r\nPING\r\n"), protocol.HandlerFunc(func(f *protocol.Frame) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	}))
	if err != stop || n != 2 {
		t.Fatalf("err=%v n=%d", err, n)
	}
	if protocol.ClientText(err) != "" {
		t.Fatal("handler errors have no client text")
	}
}

// An endless control line is cut off once it passes the limit, and the
// parser never holds more than the limit plus two bytes of it.
func TestEndlessControlLine(t *testing.T) {
	p := protocol.Parser{MaxControlLine: 64}
	var r recorder
	chunk := []byte(strings.Repeat("a", 10))
	if err := p.Parse([]byte("PUB "), &r); err != nil {
		t.Fatal(err)
	}
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		err = p.Parse(chunk, &r)
	}
	if !errors.Is(err, protocol.ErrMaxControlLine) {
		t.Fatalf("got %v", err)
	}
}

func TestFrameHeaderBody(t *testing.T) {
	f := protocol.Frame{HeaderLen: 3, Payload: []byte("hdrbody")}
	if string(f.Header()) != "hdr" || string(f.Body()) != "body" {
		t.Fatal(string(f.Header()), string(f.Body()))
	}
	f = protocol.Frame{HeaderLen: -1, Payload: []byte("x")}
	if f.Header() != nil || string(f.Body()) != "x" {
		t.Fatal("no headers")
	}
}

func TestOpAndRoleStrings(t *testing.T) {
	want := map[protocol.Op]string{
		protocol.OpPub: "PUB", protocol.OpRSub: "RS+", protocol.OpOK: "+OK", protocol.OpErr: "-ERR",
		protocol.OpAUnsub: "A-", protocol.OpUnknown: "UNKNOWN", protocol.Op(200): "UNKNOWN",
	}
	for op, s := range want {
		if op.String() != s {
			t.Errorf("%d: %q want %q", op, op.String(), s)
		}
	}
	if protocol.RoleLeaf.String() != "leaf" || !protocol.RoleRoute.Accepts(protocol.OpRMsg) || protocol.RoleClient.Accepts(protocol.OpMsg) {
		t.Error("roles")
	}
}

// Fields are split on any run of spaces and tabs wherever they fall
// relative to the eight-byte steps of the field scanner.
func TestFieldBoundaries(t *testing.T) {
	for n := 1; n <= 20; n++ {
		for _, sep := range []string{" ", "\t", " \t ", "\t\t"} {
			subj := strings.Repeat("s", n)
			reply := strings.Repeat("r", 21-n)
			in := "PUB" + sep + subj + sep + reply + sep + "1" + sep + "\r\nx\r\n"
			got, err := parseAll(client, []byte(in))
			want := `PUB subj="` + subj + `" reply="` + reply + `" payload="x"`
			if err != nil || len(got) != 1 || got[0] != want {
				t.Fatalf("%q: %v %v", in, got, err)
			}
		}
	}
}

// A line that ends in a later read but is far over the limit is rejected
// without copying it.
func TestLongLineAcrossReads(t *testing.T) {
	p := protocol.Parser{MaxControlLine: 32}
	var r recorder
	if err := p.Parse([]byte("SUB ab"), &r); err != nil {
		t.Fatal(err)
	}
	long := []byte(strings.Repeat("c", 1<<20) + " 1\r\n")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := p.Parse(long, &r)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, protocol.ErrMaxControlLine) {
		t.Fatalf("got %v", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 64<<10 {
		t.Fatalf("%d bytes allocated: the line was copied", n)
	}
}

func TestLineHandler(t *testing.T) {
	in := "PUB a 1\r\nx\r\nPING\r\nHPUB b r 2 3\r\nhix\r\nPUB c 5\r\nab"
	want := []string{
		`LINE PUB subj="a"`, `PUB subj="a" payload="x"`, "PING",
		`LINE HPUB subj="b" reply="r" hdr=2`, `HPUB subj="b" reply="r" hdr=2 payload="hix"`,
		`LINE PUB subj="c"`,
	}
	for _, split := range []int{len(in), 5, 14, 30} {
		got, err := parseAllLines(protocol.Parser{}, []byte(in[:split]), []byte(in[split:]))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("split at %d:\n%s", split, strings.Join(got, "\n"))
		}
	}
	// An error from HandleLine stops Parse before the payload.
	stop := errors.New("stop")
	var p protocol.Parser
	var r lineStopper
	r.err = stop
	if err := p.Parse([]byte("PUB a 1\r\nx\r\n"), &r); !errors.Is(err, stop) || r.frames != 0 {
		t.Fatalf("err %v, frames %d", err, r.frames)
	}
}

type lineStopper struct {
	err    error
	frames int
}

func (r *lineStopper) HandleFrame(*protocol.Frame) error { r.frames++; return nil }
func (r *lineStopper) HandleLine(*protocol.Frame) error  { return r.err }
