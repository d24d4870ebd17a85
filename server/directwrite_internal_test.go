package server

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"
)

// TestDirectWriteFullSocket delivers small batches to a subscriber whose
// socket fills up (it reads nothing at first): the end of each batch
// writes what the socket takes on the publisher's goroutine, the rest
// goes back to the writer, and once the subscriber reads it gets every
// message, in order.
func TestDirectWriteFullSocket(t *testing.T) {
	s := newPipeServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	far, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer far.Close()
	near, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	// Small socket buffers: the backlog outgrows them quickly.
	_ = near.(*net.TCPConn).SetWriteBuffer(4096)
	_ = far.(*net.TCPConn).SetReadBuffer(4096)
	before := s.nextCID.Load()
	s.createClient(near, nil)
	if _, err := far.Write([]byte("CONNECT {\"verbose\":false}\r\nSUB foo 1\r\nPING\r\n")); err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReader(far)
	far.SetReadDeadline(time.Now().Add(10 * time.Second))
	for { // INFO, then PONG once the subscription is in
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "PONG\r\n" {
			break
		}
	}
	s.mu.Lock()
	sub := s.clients[before+1]
	s.mu.Unlock()
	pub := rawPublisher(t, s)

	const n = 3000
	payload := bytes.Repeat([]byte("x"), 100)
	// The subscriber starts reading once the socket is full.
	start := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		<-start
		done <- readSeq(rd, far, n)
	}()
	backlog := false
	for i := range n {
		body := fmt.Sprintf("%08d%s", i, payload[8:])
		msg := "PUB foo " + strconv.Itoa(len(body)) + "\r\n" + body + "\r\n"
		if err := pub.parser.Parse([]byte(msg), pub); err != nil {
			t.Fatal(err)
		}
		pub.pub.direct = true // as after an idle reader's read
		pub.flushSignals()
		pub.flushStats()
		if !backlog {
			sub.mu.Lock()
			backlog = sub.out.pending() > 0 // the socket did not take it all
			sub.mu.Unlock()
			if backlog {
				close(start)
			}
		}
	}
	if !backlog {
		close(start)
		<-done
		t.Fatal("the subscriber's socket never filled up")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// readSeq reads n messages on foo whose payloads start with their
// sequence number, 0 up.
func readSeq(rd *bufio.Reader, nc net.Conn, n int) error {
	nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	for i := range n {
		line, err := rd.ReadString('\n')
		if err != nil {
			return fmt.Errorf("message %d: %w", i, err)
		}
		if !bytes.HasPrefix([]byte(line), []byte("MSG foo 1 ")) {
			return fmt.Errorf("message %d: line %q", i, line)
		}
		body, err := rd.ReadString('\n')
		if err != nil {
			return fmt.Errorf("message %d: %w", i, err)
		}
		if want := fmt.Sprintf("%08d", i); len(body) < 8 || body[:8] != want {
			return fmt.Errorf("message %d: got %q first", i, body[:min(8, len(body))])
		}
	}
	return nil
}

// TestUnshift puts a partly written batch back before what was queued
// meanwhile.
func TestUnshift(t *testing.T) {
	var o outbound
	o.write([]byte("abcdef"))
	chs := o.take()
	o.write([]byte("ghi"))
	o.unshift(chs, 2)
	releaseChunks(chs)
	o.done(chs)
	var got []byte
	for _, c := range o.chunks {
		got = append(got, c.b...)
	}
	if string(got) != "cdefghi" || o.queued != 7 || o.pending() != 7 {
		t.Fatalf("queue %q, queued %d, pending %d; want cdefghi, 7, 7", got, o.queued, o.pending())
	}
	o.drop()
}
