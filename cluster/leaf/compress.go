package leaf

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"natsd.dev/cluster/internal/s2conn"
	"natsd.dev/protocol"
	"natsd.dev/server"
)

// S2 compression of leaf node connections, negotiated as upstream does
// (the same stream format and modes as routes, cluster/internal/s2conn):
//
//  1. The hub's INFO names its mode (leafnodes { compression }, s2_auto
//     by default); a hub that names none does not compress.
//  2. The leaf picks the mode from its remote's (s2_auto by default) and
//     the hub's (s2conn.Select); s2_auto becomes a level from the time
//     the hub's INFO took to come. If that compresses, it sends an INFO
//     of its own naming its mode (s2_auto, or the level), uncompressed,
//     and from then on compresses everything it writes and decompresses
//     everything it reads. Otherwise it sends its CONNECT as usual.
//  3. The hub reads the leaf's first line: an INFO is the compression
//     offer, from which it picks the mode likewise; if that compresses it
//     switches and sends its INFO again, compressed, which the leaf takes
//     as the first. A CONNECT means no compression.
//
// The CONNECT carries the mode the leaf settled on (compress_mode), as
// upstream's does. Both sides show it in /leafz.

// compressionNotSupported is the mode of a connection whose peer
// announced none (upstream's name).
const compressionNotSupported = s2conn.NotSupported

// errTextBadMode is upstream's -ERR for a peer's mode it does not know
// (naming routes for leaf nodes too).
func errTextBadMode(mode string) string {
	return fmt.Sprintf("unsupported route compression mode %q", mode)
}

// needsCompression reports whether a configured mode may compress: not
// off (accept may, when the peer asks).
func needsCompression(mode string) bool {
	return mode != "" && mode != CompressionOff && mode != compressionNotSupported
}

// modeForInfo is the mode an INFO announces once chosen is settled:
// s2_auto stays s2_auto (the peer then follows its own RTT), else the
// level.
func modeForInfo(configured, chosen string) string {
	if configured == CompressionS2Auto {
		return CompressionS2Auto
	}
	return chosen
}

// selectCompression is the mode of a connection given ours (configured,
// normalized) and the peer's, with s2_auto made a level from rtt.
func selectCompression(co Compression, remote string, rtt time.Duration) (string, error) {
	cm, err := s2conn.Select(co.Mode, remote)
	if err != nil {
		return "", err
	}
	if cm == CompressionS2Auto {
		cm = s2conn.AutoLevel(rtt, co.RTTThresholds)
	}
	return cm, nil
}

// solicitCompression runs step 2 on a connection we dialed, right after
// the hub's first INFO (and TLS after it, if any); pre are the bytes read
// past that INFO. It returns the connection to use from now on, the bytes
// to process first and the hub's INFO to go on with (the compressed one
// when compression started). start is when the wait for the hub's INFO
// began (s2_auto's RTT). false: the connection failed and nc is closed.
func (c *conn) solicitCompression(nc, conn net.Conn, pre []byte, info leafInfo, start time.Time) (net.Conn, []byte, leafInfo, bool) {
	lf, r := c.lf, c.remote.r
	co := r.Compression
	if ws, ok := wsOf(conn); ok && ws.Compressed() {
		// permessage-deflate compresses already: no S2, as upstream.
		c.compression = CompressionOff
		return conn, pre, info, true
	}
	if !needsCompression(co.Mode) {
		c.compression = compressionNotSupported
		if info.Compression != "" && co.Mode != compressionNotSupported {
			c.compression = CompressionOff
		}
		return conn, pre, info, true
	}
	fail := func(line string) (net.Conn, []byte, leafInfo, bool) {
		lf.log.Error(nc.RemoteAddr().String() + " - " + line)
		nc.Close()
		return nil, nil, info, false
	}
	cm, err := selectCompression(co, info.Compression, time.Since(start))
	if err != nil {
		text := errTextBadMode(info.Compression)
		conn.Write(protocol.AppendErr(nil, text))
		return fail(text)
	}
	c.compression = cm
	if !s2conn.Compressed(cm) {
		return conn, pre, info, true
	}
	mine := lf.info
	mine.Compression = modeForInfo(co.Mode, cm)
	mine.CID, mine.Nonce, mine.LeafNodeURLs = 0, "", nil
	b, _ := json.Marshal(&mine)
	conn.SetWriteDeadline(time.Now().Add(r.FirstInfoTimeout))
	_, err = conn.Write(protocol.AppendInfo(nil, b))
	conn.SetWriteDeadline(time.Time{})
	if err != nil {
		return fail("Error sending the compression INFO: " + err.Error())
	}
	cc, err := c.startS2(conn, pre, cm)
	if err != nil {
		return fail("Error starting compression: " + err.Error())
	}
	cc.SetReadDeadline(time.Now().Add(r.FirstInfoTimeout))
	br := bufio.NewReaderSize(cc, 4096)
	line, err := readLine(br)
	cc.SetReadDeadline(time.Time{})
	if err != nil {
		return fail("Error reading the hub's compressed INFO: " + err.Error())
	}
	if !bytes.HasPrefix(bytes.ToUpper(line), []byte("INFO")) {
		return fail(fmt.Sprintf("Unexpected protocol after compression negotiation: %q", bytes.TrimSpace(line)))
	}
	var info2 leafInfo
	if err := json.Unmarshal(bytes.TrimSpace(line[4:]), &info2); err != nil {
		return fail("Error parsing leafnode INFO: " + err.Error())
	}
	pre = nil
	if n := br.Buffered(); n > 0 {
		pre, _ = br.Peek(n)
		pre = bytes.Clone(pre)
	}
	lf.log.Debug(fmt.Sprintf("%s - Leafnode compression mode %s", nc.RemoteAddr(), cm))
	return cc, pre, info2, true
}

// acceptCompression runs step 3 on a connection we accepted (after TLS,
// if any), when our mode may compress: it sends our INFO uncompressed
// unless infoSent (it went out before TLS), then reads the leaf's first
// line within the authentication timeout. It returns the connection to
// use from now on, the bytes to process first (the line and what came
// with it, when it was not a compression offer), whether our INFO is
// still due (compression started: info then announces the mode, to be
// sent compressed) and false when the connection failed (it is closed).
// co is the listener's compression when the connection came.
func (c *conn) acceptCompression(nc, conn net.Conn, info *leafInfo, infoSent bool, co Compression) (net.Conn, []byte, bool, bool) {
	lf := c.lf
	start := time.Now()
	if !infoSent {
		lf.mu.Lock()
		lf.provisional++
		info.CID = lf.provisional
		lf.mu.Unlock()
		b, _ := json.Marshal(info)
		conn.SetWriteDeadline(time.Now().Add(lf.o.AuthTimeout))
		_, err := conn.Write(protocol.AppendInfo(nil, b))
		conn.SetWriteDeadline(time.Time{})
		if err != nil {
			nc.Close()
			return nil, nil, false, false
		}
	}
	conn.SetReadDeadline(time.Now().Add(lf.o.AuthTimeout))
	br := bufio.NewReaderSize(conn, 4096)
	line, err := readLine(br)
	conn.SetReadDeadline(time.Time{})
	if err != nil {
		// Close it as a leaf connection, as the authentication timer or
		// the read loop would have.
		if c.newLink(conn) {
			if isTimeout(err) {
				lf.log.Error(c.prefix + " - " + errTextAuthTimeout)
				c.sendErr(errTextAuthTimeout)
				c.link.Close(server.LinkAuthTimeout)
			} else {
				c.link.Close(server.LinkClientClosed)
			}
		}
		return nil, nil, false, false
	}
	buffered := func() []byte {
		p, _ := br.Peek(br.Buffered())
		return append(line, p...)
	}
	if !bytes.HasPrefix(bytes.ToUpper(line), []byte("INFO")) {
		// No offer: the CONNECT says what the leaf settled on
		// (noteConnectCompression).
		return conn, buffered(), false, true
	}
	var offer leafInfo
	if err := json.Unmarshal(bytes.TrimSpace(line[4:]), &offer); err != nil {
		// The parser will say what is wrong with it.
		return conn, buffered(), false, true
	}
	cm, err := selectCompression(co, offer.Compression, time.Since(start))
	if err != nil {
		text := errTextBadMode(offer.Compression)
		conn.Write(protocol.AppendErr(nil, text))
		lf.log.Error(nc.RemoteAddr().String() + " - " + text)
		nc.Close()
		return nil, nil, false, false
	}
	c.compression = cm
	if !s2conn.Compressed(cm) {
		p, _ := br.Peek(br.Buffered())
		return conn, bytes.Clone(p), false, true
	}
	lf.log.Debug(fmt.Sprintf("%s - Leafnode compression mode %s", nc.RemoteAddr(), cm))
	info.Compression = modeForInfo(co.Mode, cm)
	var pending []byte
	if n := br.Buffered(); n > 0 {
		pending, _ = br.Peek(n)
	}
	cc, err := c.startS2(conn, pending, cm)
	if err != nil {
		lf.log.Error(nc.RemoteAddr().String() + " - Error starting compression: " + err.Error())
		nc.Close()
		return nil, nil, false, false
	}
	return cc, nil, true, true
}

// wsTransport is a WebSocket connection whose framing can be put on top
// of another layer (*websocket.Conn).
type wsTransport interface {
	WrapTransport(func(r io.Reader, nc net.Conn) io.ReadWriter) error
	Compressed() bool
}

// wsOf returns the WebSocket connection conn is, if any: dialed
// (*websocket.Conn) or accepted (AcceptWebsocket's).
func wsOf(conn net.Conn) (wsTransport, bool) {
	if wa, ok := conn.(*wsAccepted); ok {
		conn = wa.Conn
	}
	ws, ok := conn.(wsTransport)
	return ws, ok
}

// startS2 switches conn to S2 in mode cm from now on; pending are bytes
// read past the switch point already, the start of the peer's stream.
// Over WebSocket the S2 stream runs beneath the framing, as upstream's
// (its frames travel inside the stream), so the WebSocket connection is
// kept and its transport wrapped; pending is then the WebSocket stream's
// and must be empty (the peer sends nothing before it reads our switch).
func (c *conn) startS2(conn net.Conn, pending []byte, cm string) (net.Conn, error) {
	if ws, ok := wsOf(conn); ok {
		if len(pending) > 0 {
			return nil, errors.New("data before the compressed stream")
		}
		err := ws.WrapTransport(func(r io.Reader, nc net.Conn) io.ReadWriter {
			c.s2 = s2conn.NewReader(nc, r, cm)
			return c.s2
		})
		return conn, err
	}
	rd := io.Reader(conn)
	if len(pending) > 0 {
		rd = io.MultiReader(bytes.NewReader(bytes.Clone(pending)), conn)
	}
	c.s2 = s2conn.NewReader(conn, rd, cm)
	return c.s2, nil
}

// autoLevel follows the RTT a PONG measured with s2_auto's level, as
// upstream does: our side's writer changes level, the peer needs no
// notice.
func (c *conn) autoLevel(rtt time.Duration) {
	co := *c.lf.comp.Load()
	if c.solicited {
		co = c.remote.r.Compression
	}
	if c.s2 == nil || co.Mode != CompressionS2Auto || rtt <= 0 {
		return
	}
	level := s2conn.AutoLevel(rtt, co.RTTThresholds)
	if level == c.s2.Level() {
		return
	}
	if err := c.s2.SetLevel(level); err != nil {
		return // the write error closes the connection
	}
	c.mu.Lock()
	c.compression = level
	c.mu.Unlock()
	c.lf.log.Debug(fmt.Sprintf("%s - Leafnode compression level changed to %s (RTT %v)", c.prefix, level, rtt))
}

// hubOffersCompression reports whether an accepted connection may
// negotiate S2 compression: our mode may compress, and the connection is
// not a WebSocket one with permessage-deflate (upstream then announces
// no mode, and does not compress twice). If it may not, info announces
// no mode.
func hubOffersCompression(nc net.Conn, info *leafInfo, mode string) bool {
	if ws, ok := wsOf(nc); ok && ws.Compressed() {
		info.Compression = ""
		return false
	}
	return needsCompression(mode)
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// noteConnectCompression takes the mode a leaf node's CONNECT names
// (compress_mode) when no compression was negotiated: what upstream shows
// in /leafz for it; none is "not supported".
func (c *conn) noteConnectCompression(mode string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.compression != "" {
		return
	}
	if mode == "" {
		mode = compressionNotSupported
	}
	c.compression = mode
}

// parsePre processes bytes read ahead of the read loop; false when they
// closed the connection.
func (c *conn) parsePre(pre []byte) bool {
	if len(pre) == 0 {
		return true
	}
	err := c.parser.Parse(pre, c)
	c.link.EndBatch()
	if err != nil {
		c.parseError(err)
		return false
	}
	return true
}

// normalizeCompression normalizes the compression of the listener and of
// every remote (normalize copied the remotes) with the configuration's
// rules (config.go); "" is s2_auto, upstream's default for leaf nodes.
func (lf *Leaf) normalizeCompression() error {
	cs := []*Compression{&lf.o.Compression}
	for _, r := range lf.o.Remotes {
		cs = append(cs, &r.Compression)
	}
	for _, c := range cs {
		if c.Mode == "" {
			c.Mode = CompressionS2Auto
		}
		if err := normalizeCompression(c); err != nil {
			return err
		}
	}
	return nil
}
