// Package websocket is an RFC 6455 transport exposed as a net.Listener
// and net.Conn, so that a server can serve WebSocket clients exactly as it
// serves TCP ones, and dial other servers' WebSocket ports (a leaf node's
// ws:// and wss:// remotes) as it dials TCP. It knows nothing about the
// protocol carried on top.
//
// # Usage
//
// Wrap a listener and accept connections:
//
//	inner, err := net.Listen("tcp", "0.0.0.0:443")
//	// for wss://, wrap it first: inner = tls.NewListener(inner, tlsConfig)
//	l, err := websocket.NewListener(inner, websocket.Config{
//		Compression:    true,
//		AllowedOrigins: []string{"https://app.example.com"},
//	})
//	for {
//		nc, err := l.Accept() // a *websocket.Conn that finished its handshake
//		...
//	}
//
// A *Conn reads and writes the application byte stream: Read returns the
// payload of the client's binary and text messages in order, whatever
// their fragmentation (one Read goes on through every frame already
// buffered, like a TCP read), and each Write is sent as one binary
// message. WriteBuffers sends a batch of buffers as one message with one
// writev, for servers that flush pending buffers together. The
// handshake request stays available from Conn.Request: cookies (for JWT,
// user name or token cookies), headers such as X-Forwarded-For, the URL
// path (to tell NATS, MQTT and leaf node clients apart) and TLS, which is
// non-nil when the inner listener did TLS.
//
// Handshake failures never come out of Accept: the client gets an HTTP
// error and Config.OnHandshakeError, if set, gets a *HandshakeError.
//
// The client end comes from Dial (TCP, TLS for wss://, then the upgrade)
// or ClientHandshake (the upgrade alone, over a connection the caller
// dialed and secured):
//
//	c, err := websocket.Dial(ctx, "wss://hub.example.com:443/leafnode", websocket.DialConfig{
//		Compression: true, // offer permessage-deflate
//		NoMasking:   true, // ask for Nats-No-Masking
//	})
//
// It is the same *Conn: it masks what it writes (with keys from a
// ChaCha8 generator seeded from crypto/rand) unless the server answered
// NoMaskingHeader, and refuses masked frames from the server. A Listener
// accepts unmasked frames only from clients that asked for no masking on
// a request Config.AllowNoMasking allowed, as upstream does for its leaf
// nodes (path /leafnode). Conn.WrapTransport puts a layer beneath the
// framing mid-connection (a leaf node's S2 compression, which upstream
// applies below the WebSocket frames).
//
// # Concurrency
//
// The Listener runs one goroutine for Accept on the inner listener and one
// per connection for the duration of its handshake (bounded by
// Config.HandshakeTimeout); Close stops and waits for all of them.
// Accept, Close, Addr and SetConfig (which replaces the Config the next
// handshakes use, as a configuration reload) may be called from any
// goroutine.
//
// A Conn supports one reader and one writer at a time, as a net.Conn
// used by a read loop and a flusher. Read answers pings and close frames
// itself, so it writes control frames: they take the write lock between
// two Writes, never inside one, so a write deadline also bounds them.
// Close may be called at any time from any goroutine; it waits at most a
// second for a Write in progress.
//
// # Memory
//
// Reading an uncompressed frame unmasks its payload in place in the
// caller's buffer; a read at least as large as the 4 KiB read buffer is
// made directly into it. A compressed message is inflated into the
// caller's buffers by a decompressor taken from a pool for the length of
// the message (about 44 KiB: its 32 KiB window, tables and 4 KiB input
// buffers). A message of one frame that is in the read buffer whole is
// decoded from a copy of it; the first 4 KiB of any other are collected in
// a pooled buffer (a message that ends within them is decoded from
// memory, and a connection that sent the start of one and went quiet
// holds those 4 KiB, not a decompressor); past them the decompressor
// reads the rest frame after frame as it comes. No message, compressed or
// not, is buffered beyond that. Its limits
// (Config.MaxMessageSize, CompressedSizeFactor) are checked as the bytes
// come. Conn.PendingBytes reports what a connection holds for the message
// being read, so a server can budget connections that have not
// authenticated. Writes copy a small payload behind the frame header, and
// send larger ones with writev (net.Buffers); a client end that masks
// copies every payload through a 32 KiB scratch buffer (masking must not
// modify the caller's bytes), a larger frame in several writes. None of
// this allocates once
// the buffers have grown; buffers beyond 256 KiB are not kept. Write does
// not keep p.
//
// # Wire format
//
// Every frame (RFC 6455 section 5.2):
//
//	 0               1               2               3
//	 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7
//	+-+-+-+-+-------+-+-------------+-------------------------------+
//	|F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//	|I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//	|N|V|V|V|       |S|             |   (if payload len==126/127)   |
//	| |1|2|3|       |K|             |                               |
//	+-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//	|     Extended payload length continued, if payload len == 127  |
//	+ - - - - - - - - - - - - - - - +-------------------------------+
//	|                               |Masking-key, if MASK set to 1  |
//	+-------------------------------+-------------------------------+
//	| Masking-key (continued)       |          Payload Data         |
//	+-------------------------------- - - - - - - - - - - - - - - - +
//
// Client frames must be masked (unless the server agreed to
// NoMaskingHeader); server frames never are. Opcodes: 0
// continuation, 1 text, 2 binary, 8 close, 9 ping, 10 pong. Control frames
// (8-10) carry at most 125 bytes and are never fragmented, but may come
// between the fragments of a message. A close payload is a big-endian
// status code followed by a UTF-8 reason.
//
// With permessage-deflate (RFC 7692) negotiated, RSV1 on the first frame
// of a message marks it compressed: the payload of all its frames is raw
// DEFLATE data whose final 0x00 0x00 0xff 0xff has been removed. This
// server always negotiates server_no_context_takeover and
// client_no_context_takeover, as upstream nats-server does, so each
// message is compressed on its own. Messages under 64 bytes are sent
// uncompressed.
//
// # Errors
//
// Read returns io.EOF after the peer's close frame (answered with the
// same status code) or when the peer closes TCP between messages,
// io.ErrUnexpectedEOF when it does so within one, and a *CloseError when
// the peer broke the protocol. In that case a close frame has been sent
// with (a client end reads a masked frame as a protocol error too):
//
//   - 1002 (StatusProtocolError): unmasked frame, reserved bit or RSV1
//     without deflate, unknown opcode, control frame over 125 bytes or
//     fragmented, continuation out of place, invalid close code or a close
//     payload of one byte;
//   - 1007 (StatusInvalidPayloadData): a text message or close reason that
//     is not UTF-8, or corrupt compressed data;
//   - 1009 (StatusMessageTooBig): a frame over Config.MaxFrameSize, a
//     compressed message that inflates to more than Config.MaxMessageSize
//     (closed as soon as it passes it: the bytes up to the limit have been
//     returned by Read, none beyond), or whose frames carry more than
//     CompressedSizeFactor times that in compressed bytes, or more than
//     64 KiB plus CompressedSizeFactor per byte inflated so far (empty
//     deflate blocks).
//
// Write returns ErrCloseSent once a close frame went out. Deadlines pass
// through to the underlying connection: a read that times out may be
// retried, except when it timed out inside the decompressor, which cannot
// resume (a compressed message whose sender stalled in the middle of
// deflate data): that timeout ends reading. A write that times out leaves
// the connection unusable for writing. The handshake answers 405 to a method other than GET, 426 to a
// Sec-WebSocket-Version other than 13, 403 to an origin that fails the
// checks or a request refused by Config.CheckRequest, 431 to headers over
// 64 KiB and 400 to anything else malformed; every error carries
// "Sec-WebSocket-Version: 13".
package websocket
