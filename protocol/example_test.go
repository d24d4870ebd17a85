package protocol_test

import (
	"fmt"

	"natsd.dev/protocol"
)

func ExampleParser() {
	var p protocol.Parser // RoleClient, default limits
	h := protocol.HandlerFunc(func(f *protocol.Frame) error {
		switch f.Op {
		case protocol.OpPub:
			fmt.Printf("PUB %s %q\n", f.Subject, f.Payload)
		case protocol.OpSub:
			fmt.Printf("SUB %s sid=%s\n", f.Subject, f.SID)
		default:
			fmt.Println(f.Op)
		}
		return nil
	})
	// Input may be split anywhere between calls.
	_ = p.Parse([]byte("SUB foo 1\r\nPUB foo 5\r\nhel"), h)
	_ = p.Parse([]byte("lo\r\nPING\r\n"), h)
	// Output:
	// SUB foo sid=1
	// PUB foo "hello"
	// PING
}

func ExampleParser_route() {
	p := protocol.Parser{Role: protocol.RoleRoute}
	_ = p.Parse([]byte("RMSG $G orders + _INBOX.1 workers 3\r\nabc\r\n"), protocol.HandlerFunc(func(f *protocol.Frame) error {
		fmt.Printf("%s account=%s subject=%s reply=%s queues=%q payload=%s\n", f.Op, f.Account, f.Subject, f.Reply, f.Queues, f.Payload)
		return nil
	}))
	// Output:
	// RMSG account=$G subject=orders reply=_INBOX.1 queues=["workers"] payload=abc
}

// A limit of zero bytes (an account or user JWT's payload limit of 0)
// accepts empty messages only.
func ExampleParser_maxPayloadZero() {
	p := protocol.Parser{MaxPayload: protocol.MaxPayloadZero}
	h := protocol.HandlerFunc(func(f *protocol.Frame) error {
		fmt.Printf("%s %s %q\n", f.Op, f.Subject, f.Payload)
		return nil
	})
	err := p.Parse([]byte("PUB empty 0\r\n\r\nPUB one 1\r\nx\r\n"), h)
	fmt.Println(protocol.ClientText(err))
	// Output:
	// PUB empty ""
	// Maximum Payload Violation
}

func ExampleClientText() {
	var p protocol.Parser
	err := p.Parse([]byte("PUB foo 2000000\r\n"), protocol.HandlerFunc(func(*protocol.Frame) error { return nil }))
	fmt.Printf("%q\n", protocol.AppendErr(nil, protocol.ClientText(err)))
	// Output:
	// "-ERR 'Maximum Payload Violation'\r\n"
}

func ExampleAppendMsg() {
	buf := make([]byte, 0, 128)
	buf = protocol.AppendMsg(buf, []byte("foo"), []byte("1"), []byte("_INBOX.x"), []byte("hi"))
	fmt.Printf("%q\n", buf)
	// Output:
	// "MSG foo 1 _INBOX.x 2\r\nhi\r\n"
}

func ExampleAppendMsgHeader() {
	payload := []byte("hello")
	buf := protocol.AppendMsgHeader(nil, []byte("foo"), []byte("7"), nil, len(payload))
	buf = append(buf, payload...)
	buf = append(buf, "\r\n"...)
	fmt.Printf("%q\n", buf)
	// Output:
	// "MSG foo 7 5\r\nhello\r\n"
}

func ExampleAppendRMsg() {
	queues := [][]byte{[]byte("q1"), []byte("q2")}
	fmt.Printf("%q\n", protocol.AppendRMsg(nil, []byte("$G"), []byte("foo"), nil, queues, []byte("x")))
	fmt.Printf("%q\n", protocol.AppendRMsg(nil, []byte("$G"), []byte("foo"), []byte("r"), queues, []byte("x")))
	// Output:
	// "RMSG $G foo | q1 q2 1\r\nx\r\n"
	// "RMSG $G foo + r q1 q2 1\r\nx\r\n"
}

func ExampleAppendRSub() {
	fmt.Printf("%q\n", protocol.AppendRSub(nil, []byte("$G"), []byte("foo"), []byte("workers"), 1))
	fmt.Printf("%q\n", protocol.AppendLSub(nil, []byte("foo"), nil, 0))
	// Output:
	// "RS+ $G foo workers 1\r\n"
	// "LS+ foo\r\n"
}

func ExampleAppendHPub() {
	hdr := "NATS/1.0\r\nA: 1\r\n\r\n"
	fmt.Printf("%q\n", protocol.AppendHPub(nil, []byte("foo"), nil, len(hdr), []byte(hdr+"body")))
	// Output:
	// "HPUB foo 18 22\r\nNATS/1.0\r\nA: 1\r\n\r\nbody\r\n"
}
