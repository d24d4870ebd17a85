package server_test

import (
	"context"
	"fmt"
	"io"
	"net"

	"natsd.dev/server"
)

// WriteMsg sends one message to the peer whatever interest it has: a
// gateway hands a mapped reply to the route of the server it names.
func ExampleLink_WriteMsg() {
	s, _ := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort})
	s.Start()
	defer s.Shutdown(context.Background())

	near, far := net.Pipe()
	l, _ := s.NewLink(near, server.LinkConfig{Kind: server.ConnRoute})
	_ = l.WriteMsg([]byte("$G"), []byte("_GR_.abcdef.ghijkl.reply"), nil, -1, []byte("ok"))

	want := len("RMSG $G _GR_.abcdef.ghijkl.reply 2\r\nok\r\n")
	buf := make([]byte, want)
	_, _ = io.ReadFull(far, buf)
	fmt.Printf("%q\n", buf)
	// Output:
	// "RMSG $G _GR_.abcdef.ghijkl.reply 2\r\nok\r\n"
}
