package websocket

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"
)

// parseAnswer runs the client's reading and checks of a server's answer
// from r, and returns the outcome and every byte left after the answer.
func parseAnswer(r io.Reader, key string, cfg DialConfig) (neg clientNegotiated, ok bool, rest string) {
	req, _ := http.NewRequest(http.MethodGet, "http://h:1/leafnode", nil)
	br := bufio.NewReaderSize(&limitedConnReader{r: r, n: maxRequestBytes}, readBufferSize)
	resp, err := readResponse(br, req)
	if err == nil {
		neg, err = checkResponse(resp, key, cfg)
	}
	if err != nil {
		return clientNegotiated{}, false, ""
	}
	b, _ := io.ReadAll(br)
	return neg, true, string(b)
}

// FuzzClientHandshake feeds arbitrary bytes to the client as the server's
// answer. Oracles: reading it one byte at a time gives the same outcome
// and leaves the same bytes for the frames as reading it whole (chunking
// invariance); an accepted answer is a 101 carrying the right
// Sec-WebSocket-Accept; compression and no masking are only ever on when
// asked for.
func FuzzClientHandshake(f *testing.F) {
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	ok := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acceptKey(key) + "\r\n"
	f.Add(ok+"\r\n\x82\x06INFO\r\n", false)
	f.Add(ok+"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\nNats-No-Masking: true\r\n\r\n", true)
	f.Add(ok+"Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10\r\n\r\n", true)
	f.Add("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found", false)
	f.Add("HTTP/1.0 101 OK\r\n\r\n", true)
	f.Add("garbage", false)
	f.Fuzz(func(t *testing.T, answer string, ask bool) {
		cfg := DialConfig{Compression: ask, NoMasking: ask}
		neg, accepted, rest := parseAnswer(strings.NewReader(answer), key, cfg)
		neg1, accepted1, rest1 := parseAnswer(iotest.OneByteReader(strings.NewReader(answer)), key, cfg)
		if neg != neg1 || accepted != accepted1 || rest != rest1 {
			t.Fatalf("whole: %v %v %q; byte by byte: %v %v %q", neg, accepted, rest, neg1, accepted1, rest1)
		}
		if !accepted {
			return
		}
		if !strings.HasPrefix(answer, "HTTP/") || !strings.Contains(answer[:len(answer)-len(rest)], acceptKey(key)) {
			t.Fatalf("accepted %q", answer)
		}
		if resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(answer)), nil); err != nil || resp.StatusCode != 101 {
			t.Fatalf("accepted an answer that is not a 101: %v", err)
		}
		if !ask && (neg.compress || neg.noMask) {
			t.Fatalf("negotiated %+v without asking", neg)
		}
	})
}
