package leaf

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nkeys"

	"natsd.dev/cluster/internal/linknet"
	"natsd.dev/cluster/internal/s2conn"
	"natsd.dev/protocol"
	"natsd.dev/server"
)

const tlsRequireAndVerify = tls.RequireAndVerifyClientCert

// Texts sent in -ERR and logged, upstream's.
const (
	errTextAuthViolation   = "Authorization Violation"
	errTextMaxAccountConns = "maximum account active connections exceeded"
	errTextAuthTimeout     = "Authentication Timeout"
	errTextStale           = "Stale Connection"
	errTextLeafPort        = "attempted to connect to leaf node port"
	errTextWrongPort       = "attempted to connect to wrong port"
	errTextSameCluster     = "remote leafnode has same cluster name"
	errTextStaleLeaf       = "Stale Leaf Node Connection - Closing"
	errTextUnknownProtocol = protocol.TextUnknownOp
)

// leafInfo is the INFO of the leaf node protocol, upstream's JSON names.
type leafInfo struct {
	ID            string   `json:"server_id"`
	Name          string   `json:"server_name"`
	Version       string   `json:"version"`
	Proto         int      `json:"proto"`
	Host          string   `json:"host"`
	Port          int      `json:"port"`
	Headers       bool     `json:"headers"`
	AuthRequired  bool     `json:"auth_required,omitempty"`
	TLSRequired   bool     `json:"tls_required,omitempty"`
	TLSVerify     bool     `json:"tls_verify,omitempty"`
	MaxPayload    int32    `json:"max_payload"`
	JetStream     bool     `json:"jetstream,omitempty"`
	IP            string   `json:"ip,omitempty"`
	CID           uint64   `json:"client_id,omitempty"`
	Nonce         string   `json:"nonce,omitempty"`
	Cluster       string   `json:"cluster,omitempty"`
	Domain        string   `json:"domain,omitempty"`
	LeafNodeURLs  []string `json:"leafnode_urls,omitempty"`
	WSConnectURLs []string `json:"ws_connect_urls,omitempty"`
	RemoteAccount string   `json:"remote_account,omitempty"`
	InfoOnConnect bool     `json:"info_on_connect,omitempty"`
	ConnectInfo   bool     `json:"connect_info,omitempty"`
	Compression   string   `json:"compression,omitempty"`
	// Import and Export are the permissions of the user the leaf node
	// logged in as, in the INFO answering its CONNECT: what it may
	// subscribe to (send LS+ for) and publish (send messages on).
	Import *subjectPerm `json:"import,omitempty"`
	Export *subjectPerm `json:"export,omitempty"`
}

// subjectPerm is one direction of a hub's INFO import or export: allow
// and deny lists, upstream's JSON.
type subjectPerm struct {
	Allow []string `json:"allow,omitempty"`
	Deny  []string `json:"deny,omitempty"`
}

// leafConnect is the CONNECT a leaf node sends its hub, upstream's JSON
// names (Lang and Token only to recognize a client).
type leafConnect struct {
	Version       string   `json:"version,omitempty"`
	JWT           string   `json:"jwt,omitempty"`
	Nkey          string   `json:"nkey,omitempty"`
	Sig           string   `json:"sig,omitempty"`
	User          string   `json:"user,omitempty"`
	Pass          string   `json:"pass,omitempty"`
	Token         string   `json:"auth_token,omitempty"`
	ID            string   `json:"server_id,omitempty"`
	Domain        string   `json:"domain,omitempty"`
	Name          string   `json:"name,omitempty"`
	Hub           bool     `json:"is_hub,omitempty"`
	Cluster       string   `json:"cluster,omitempty"`
	Headers       bool     `json:"headers,omitempty"`
	JetStream     bool     `json:"jetstream,omitempty"`
	DenyPub       []string `json:"deny_pub,omitempty"`
	Compression   string   `json:"compress_mode,omitempty"`
	Gateway       string   `json:"gateway,omitempty"`
	RemoteAccount string   `json:"remote_account,omitempty"`
	Lang          string   `json:"lang,omitempty"`
}

// byLink finds the leaf connection of a link, whatever Leaf runs it
// (interest listeners ask it without a lock).
var byLink sync.Map

// conn is one leaf node connection. The reader goroutine owns the parser
// and the handshake state; mu guards the rest.
type conn struct {
	lf        *Leaf
	nc        net.Conn
	link      *server.Link
	prefix    string
	solicited bool
	remote    *remote  // solicited connections
	url       *url.URL // the URL dialed
	host      string
	port      int

	// reader-owned
	parser      protocol.Parser
	nonce       []byte
	imp         *denyList // messages from the peer dropped (deny_imports)
	exp         *denyList // interest from the peer ignored (deny_exports)
	js          *denyList // JetStream's subjects that never cross (jsPolicy)
	jsOut       *denyList // js and the messages that never leave
	connectSeen bool
	// leafAuth are the credentials an accepted leaf node presented when
	// leafnodes { authorization } authenticated it (set before
	// registered), nil otherwise: a reload checks them again.
	leafAuth *leafCreds
	// perms are the permissions of the server user an accepted leaf node
	// authenticated as (nil without leafnodes { authorization } users'
	// permissions): its LS+ must pass the subscribe permissions, its
	// messages the publish permissions, as upstream checks them.
	perms permissions
	// hubImp and hubExp are the hub's import and export permissions
	// (solicited connections, from the INFO answering our CONNECT): our
	// interest it does not let us subscribe to and our messages it does
	// not let us publish stay here rather than get the link closed.
	hubImp *permFilter

	// set once the handshake binds the account (before ready)
	account  string
	accountb []byte
	lds      string
	spoke    atomic.Bool // we are the spoke: only local interest goes out
	// cluster is the peer's cluster name: interest of that origin
	// cluster never goes back to it.
	cluster atomic.Pointer[string]
	tlsConn *tls.Conn // the TLS connection, nil for plain
	// compression is the mode settled on, s2 the S2 layer when it
	// compresses (compress.go).
	compression string
	s2          *s2conn.Conn
	ready       atomic.Bool
	// registered: an accepted connection whose CONNECT was accepted (a
	// later one from the same server replaces it).
	registered atomic.Bool

	mu            sync.Mutex
	remoteName    string
	remoteCluster string
	remoteAccount string
	pingTimer     *time.Timer
	authTimer     *time.Timer
	finishTimer   *time.Timer
	pingsOut      int
	pingStart     time.Time
	rtt           time.Duration
	unlisten      func()
	// counted is the account this connection counts in (its leaf node
	// connections, max_leafnodes), nil until bound.
	counted *server.Account
	gone    bool // onClose ran: nothing is counted any more

	// imu guards smap, the interest announced to the peer.
	imu  sync.Mutex
	smap map[ikey]int32
}

type ikey struct{ subject, queue string }

// permissions are a server user's compiled permissions (the auth module's
// Checker; a nil one allows everything).
type permissions interface {
	CanPublish(subject []byte) bool
	CanSubscribe(subject, queue string) bool
	// CanDeliver reports whether a message on subject may go to a
	// wildcard interest that overlaps a subscribe deny.
	CanDeliver(subject []byte) bool
}

// hubPerms are the permissions of the server user an accepted leaf node
// logged in as: checked on what it sends, and told to it (import is its
// subscribe permissions, export its publish permissions) so that it
// filters first, as upstream's leaf nodes do.
type hubPerms struct {
	check    permissions
	imp, exp *subjectPerm
}

// connError makes the reader close the connection, after -ERR text if
// set.
type connError struct {
	text   string
	reason server.LinkCloseReason
}

func (e *connError) Error() string { return "leaf: " + reasonText(e.reason) }

func (c *conn) isReady() bool { return c.ready.Load() }

// accepted runs one connection from a leaf node (we are its hub).
func (lf *Leaf) accepted(nc net.Conn) {
	if !lf.g.Track(nc) {
		return
	}
	c := &conn{lf: lf, nc: nc}
	c.setAddr()
	c.nonce = []byte(newNonce())
	info := lf.info
	info.Nonce = string(c.nonce)
	info.Cluster = lf.s.ClusterName()
	si := lf.s.ServerInfo()
	info.JetStream, info.Domain = si.JetStream, si.Domain
	info.LeafNodeURLs = lf.leafNodeURLs()
	info.WSConnectURLs = lf.s.WebsocketConnectURLs()
	conn := net.Conn(nc)
	tlsConf := lf.tlsConfig.Load()
	tlsOn := tlsConf != nil && !isWSConn(nc)
	hsFirst := lf.hsFirst.Load()
	co := lf.comp.Load()
	info.Compression = co.Mode
	if tlsOn && hsFirst {
		tc, ok := lf.serverHandshake(nc, tlsConf)
		if !ok {
			lf.g.Untrack(nc)
			nc.Close()
			return
		}
		conn = tc
	} else if tlsOn {
		lf.mu.Lock()
		lf.provisional++
		info.CID = lf.provisional
		lf.mu.Unlock()
		b, _ := json.Marshal(&info)
		nc.SetWriteDeadline(time.Now().Add(lf.o.TLSTimeout))
		if _, err := nc.Write(protocol.AppendInfo(nil, b)); err != nil {
			lf.g.Untrack(nc)
			nc.Close()
			return
		}
		nc.SetWriteDeadline(time.Time{})
		tc, ok := lf.serverHandshake(nc, tlsConf)
		if !ok {
			lf.g.Untrack(nc)
			nc.Close()
			return
		}
		conn = tc
	}
	c.tlsConn, _ = conn.(*tls.Conn)
	infoDue := !tlsOn || hsFirst
	var pre []byte
	if hubOffersCompression(nc, &info, co.Mode) {
		var ok bool
		if conn, pre, infoDue, ok = c.acceptCompression(nc, conn, &info, !infoDue, *co); !ok {
			lf.g.Untrack(nc)
			return
		}
	}
	lf.g.Untrack(nc)
	if !c.newLink(conn) {
		return
	}
	if infoDue {
		info.CID = c.link.ID()
		b, _ := json.Marshal(&info)
		_ = c.link.Write(protocol.AppendInfo(nil, b))
	}
	c.mu.Lock()
	c.authTimer = time.AfterFunc(lf.o.AuthTimeout, func() {
		c.mu.Lock()
		pending := c.authTimer != nil
		c.authTimer = nil
		c.mu.Unlock()
		if !pending || c.link.Closed() {
			return
		}
		lf.log.Error(c.prefix + " - " + errTextAuthTimeout)
		c.sendErr(errTextAuthTimeout)
		c.link.Close(server.LinkAuthTimeout)
	})
	c.mu.Unlock()
	if !c.parsePre(pre) {
		return
	}
	c.readLoop(conn)
}

func (c *conn) setAddr() {
	if a, ok := c.nc.RemoteAddr().(*net.TCPAddr); ok {
		c.host, c.port = a.IP.String(), a.Port
	}
}

// newLink wraps conn in the connection's link; false when the leaf shut
// down.
func (c *conn) newLink(nc net.Conn) bool {
	lf := c.lf
	fwd, origin := hubForward, server.ConnLeaf
	if c.solicited && !c.remote.r.Hub {
		fwd, origin = spokeForward, server.ConnHub
		c.spoke.Store(true)
	}
	link, err := lf.s.NewLink(nc, server.LinkConfig{
		Kind:    server.ConnLeaf,
		Origin:  origin,
		Encoder: Encoder{},
		Forward: fwd,
		Reasons: leafReasons,
		OnClose: c.onClose,
	})
	if err != nil {
		nc.Close()
		return false
	}
	c.link = link
	c.prefix = link.LogPrefix()
	link.SetPinnedAccount(true)
	c.parser.Role = protocol.RoleLeaf
	c.parser.MaxControlLine = int(lf.s.Options().MaxControlLine)
	if mp := lf.s.Options().MaxPayload; mp > 0 {
		c.parser.MaxPayload = int(mp)
	}
	byLink.Store(link, c)
	lf.mu.Lock()
	if lf.closed || (c.solicited && c.remote.stopped()) {
		lf.mu.Unlock()
		link.Close(server.LinkServerShutdown)
		return false
	}
	lf.conns[c] = struct{}{}
	lf.mu.Unlock()
	if c.solicited {
		lf.log.Info(c.prefix + " - Leafnode connection created for account: " + c.remote.acc)
	} else {
		lf.log.Info(c.prefix + " - Leafnode connection created")
	}
	return true
}

// serverHandshake runs the TLS handshake of an accepted connection.
func (lf *Leaf) serverHandshake(nc net.Conn, conf *tls.Config) (net.Conn, bool) {
	tc := tls.Server(nc, conf)
	ctx, cancel := context.WithTimeout(lf.g.Context(), lf.o.TLSTimeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		lf.log.Error(nc.RemoteAddr().String() + " - TLS leafnode handshake error: " + err.Error())
		return nil, false
	}
	lf.log.Debug(nc.RemoteAddr().String() + " - TLS handshake complete")
	return tc, true
}

// clientHandshake runs the TLS handshake of a solicited connection.
func (c *conn) clientHandshake(nc net.Conn) (net.Conn, bool) {
	r := c.remote.r
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if tc := c.remote.tlsConfig.Load(); tc != nil {
		cfg = tc.Clone()
	}
	if cfg.ServerName == "" {
		// The URL's host name; for an IP, the first configured host name
		// (a URL learned from the hub has an IP), else the IP itself.
		cfg.ServerName = c.url.Hostname()
		if net.ParseIP(cfg.ServerName) != nil {
			for _, u := range r.URLs {
				if net.ParseIP(u.Hostname()) == nil {
					cfg.ServerName = u.Hostname()
					break
				}
			}
		}
	}
	tc := tls.Client(nc, cfg)
	ctx, cancel := context.WithTimeout(c.lf.g.Context(), r.TLSTimeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		c.lf.log.Error(nc.RemoteAddr().String() + " - TLS leafnode handshake error: " + err.Error())
		return nil, false
	}
	return tc, true
}

// runSolicited runs a connection we dialed to a hub until it closes:
// the hub's INFO, TLS, our CONNECT, then the read loop.
func (lf *Leaf) runSolicited(nc net.Conn, u *url.URL, r *remote) {
	if !lf.g.Track(nc) {
		return
	}
	defer lf.g.Untrack(nc)
	if lf.s.LookupAccount(r.acc) == nil {
		lf.log.Error(fmt.Sprintf("Unable to lookup account %s for solicited leafnode connection: %v", r.acc, server.ErrUnknownAccount))
		nc.Close()
		return
	}
	c := &conn{lf: lf, nc: nc, solicited: true, remote: r, url: u, imp: r.imp, exp: r.exp}
	c.setAddr()
	conn := net.Conn(nc)
	ws := isWS(u)
	tlsOn := r.r.TLS || r.r.TLSConfig != nil || u.Scheme == "tls" || isWSS(u)
	if tlsOn && (r.r.TLSHandshakeFirst || ws) {
		tc, ok := c.clientHandshake(nc)
		if !ok {
			nc.Close()
			return
		}
		conn = tc
	}
	if ws {
		wc, ok := c.wsUpgrade(conn)
		if !ok {
			nc.Close()
			return
		}
		conn = wc
	}
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(r.r.FirstInfoTimeout))
	br := bufio.NewReaderSize(conn, 4096)
	line, err := readLine(br)
	conn.SetReadDeadline(time.Time{})
	if err != nil {
		lf.log.Error(fmt.Sprintf("%s - Error reading the hub's INFO: %v", nc.RemoteAddr(), err))
		nc.Close()
		return
	}
	if !bytes.HasPrefix(bytes.ToUpper(line), []byte("INFO")) {
		lf.log.Error(fmt.Sprintf("%s - %s", nc.RemoteAddr(), errTextWrongPort))
		nc.Close()
		return
	}
	var info leafInfo
	if err := json.Unmarshal(bytes.TrimSpace(line[4:]), &info); err != nil {
		lf.log.Error(fmt.Sprintf("%s - Error parsing leafnode INFO: %v", nc.RemoteAddr(), err))
		nc.Close()
		return
	}
	if info.CID == 0 || info.LeafNodeURLs == nil {
		lf.log.Error(fmt.Sprintf("%s - %s", nc.RemoteAddr(), errTextWrongPort))
		nc.Close()
		return
	}
	var pre []byte
	if (tlsOn || info.TLSRequired) && !r.r.TLSHandshakeFirst && !ws {
		tc, ok := c.clientHandshake(nc)
		if !ok {
			nc.Close()
			return
		}
		conn = tc
		c.tlsConn = tc.(*tls.Conn)
	} else if n := br.Buffered(); n > 0 {
		pre, _ = br.Peek(n)
		pre = bytes.Clone(pre)
	}
	var ok bool
	if conn, pre, info, ok = c.solicitCompression(nc, conn, pre, info, start); !ok {
		return
	}
	lf.g.Untrack(nc)
	c.nonce = []byte(info.Nonce)
	if !c.newLink(conn) {
		return
	}
	c.mu.Lock()
	c.remoteName = info.Name
	if c.remoteName == "" {
		c.remoteName = info.ID
	}
	c.remoteCluster = info.Cluster
	c.mu.Unlock()
	c.setCluster(info.Cluster)
	c.link.SetRemoteName(c.remoteName)
	c.link.SetHeaders(info.Headers && !lf.s.Options().NoHeaderSupport)
	c.setAccount(r.acc, info.Domain)
	c.link.SetFilter(pairFilter{c.exp, c.jsOut})
	if urls := r.hubURLs(&info); len(urls) > 0 {
		r.addURLs(urls)
	}
	connect, err := c.connectProto(info.Headers)
	if err != nil {
		lf.log.Error(c.prefix + " - " + err.Error())
		c.link.Close(server.LinkClientClosed)
		return
	}
	_ = c.link.Write(connect)
	lf.log.Debug(c.prefix + " - Remote leafnode connect msg sent")
	if info.InfoOnConnect {
		c.mu.Lock()
		c.finishTimer = time.AfterFunc(connectProcessTimeout, func() {
			if c.isReady() || c.link.Closed() {
				return
			}
			lf.log.Debug(c.prefix + " - " + errTextStaleLeaf)
			c.sendErr(errTextStaleLeaf)
			c.link.Close(server.LinkStaleConnection)
		})
		c.mu.Unlock()
	} else {
		c.finish()
	}
	if len(pre) > 0 {
		err := c.parser.Parse(pre, c)
		c.link.EndBatch()
		if err != nil {
			c.parseError(err)
			return
		}
	}
	c.readLoop(conn)
}

// readLine reads one line (with its end), copied, at most 64 KiB.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		part, err := br.ReadSlice('\n')
		line = append(line, part...)
		if len(line) > 64*1024 {
			return nil, errors.New("line too long before INFO")
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return line, err
	}
}

func (c *conn) setAccount(name, remoteDomain string) {
	c.mu.Lock()
	c.account = name
	c.mu.Unlock()
	p := c.lf.jsPolicy(c.prefix, name, remoteDomain)
	c.js, c.jsOut = p.both, p.out
	c.accountb = []byte(name)
	c.lds = c.lf.ldsSubject(name)
}

// connectProto is our CONNECT to the hub, with the credentials of the
// remote: a .creds file (user JWT, the nonce signed by its seed), an nkey
// seed (its public key and the signature), or the URL's user and
// password.
func (c *conn) connectProto(headers bool) ([]byte, error) {
	lf, r := c.lf, c.remote
	ci := leafConnect{
		Version:       server.Version,
		ID:            lf.s.ID(),
		Name:          lf.s.Name(),
		Hub:           r.r.Hub,
		Cluster:       lf.s.ClusterName(),
		Headers:       headers && !lf.s.Options().NoHeaderSupport,
		DenyPub:       r.r.DenyImports,
		RemoteAccount: r.acc,
		Compression:   c.compression,
	}
	si := lf.s.ServerInfo()
	ci.JetStream, ci.Domain = si.JetStream, si.Domain
	switch {
	case r.r.Credentials != "":
		lf.log.Debug(fmt.Sprintf("%s - Authenticating with credentials file %q", c.prefix, r.r.Credentials))
		contents, err := os.ReadFile(r.r.Credentials)
		if err != nil {
			return nil, err
		}
		defer clear(contents)
		jwt, err := nkeys.ParseDecoratedJWT(contents)
		if err != nil {
			return nil, errors.New("Credentials file malformed")
		}
		kp, err := nkeys.ParseDecoratedNKey(contents)
		if err != nil {
			return nil, errors.New("Credentials file has malformed seed")
		}
		defer kp.Wipe()
		sig, err := kp.Sign(c.nonce)
		if err != nil {
			return nil, err
		}
		ci.JWT, ci.Sig = jwt, base64.RawURLEncoding.EncodeToString(sig)
	case r.r.Nkey != "":
		kp, err := nkeys.FromSeed([]byte(r.r.Nkey))
		if err != nil {
			return nil, errors.New("remote nkey seed is malformed")
		}
		defer kp.Wipe()
		pub, _ := kp.PublicKey()
		sig, err := kp.Sign(c.nonce)
		if err != nil {
			return nil, err
		}
		ci.Nkey, ci.Sig = pub, base64.RawURLEncoding.EncodeToString(sig)
	default:
		if ui := r.userinfo(c.url); ui != nil {
			ci.User = ui.Username()
			ci.Pass, _ = ui.Password()
		}
	}
	b, err := json.Marshal(&ci)
	if err != nil {
		return nil, err
	}
	return protocol.AppendConnect(nil, b), nil
}

func (c *conn) sendErr(text string) {
	_ = c.link.Write(protocol.AppendErr(nil, text))
	c.link.Flush()
}

func (c *conn) close(reason server.LinkCloseReason) {
	if c.link != nil {
		c.link.Close(reason)
	}
}

func (c *conn) readLoop(rd io.Reader) {
	linknet.ReadLoop(rd, c.link, func(b []byte) error { return c.parser.Parse(b, c) }, c.parseError)
}

func (c *conn) parseError(err error) {
	var ce *connError
	if errors.As(err, &ce) {
		if ce.text != "" {
			c.sendErr(ce.text)
		}
		c.link.Close(ce.reason)
		return
	}
	if c.link.Closed() {
		return
	}
	if !c.solicited && !c.connectSeen {
		// As upstream: whatever comes before CONNECT, even bytes that
		// parse as nothing, fails the login.
		c.lf.log.Error(c.prefix + " - authentication error")
		c.sendErr(errTextAuthViolation)
		c.link.Close(server.LinkAuthViolation)
		return
	}
	c.lf.log.Error(c.prefix + " - Leafnode Error: " + err.Error())
	if text := protocol.ClientText(err); text != "" {
		c.sendErr(text)
	}
	c.link.Close(server.LinkParseError)
}

var (
	pingProto = protocol.AppendPing(nil)
	pongProto = protocol.AppendPong(nil)
)

// HandleFrame processes one operation from the peer, on the reader.
func (c *conn) HandleFrame(f *protocol.Frame) error {
	lf := c.lf
	if c.tracing() {
		c.traceIn(f)
	}
	if !c.solicited && !c.connectSeen {
		switch f.Op {
		case protocol.OpConnect:
			return c.processConnect(f.Arg)
		case protocol.OpPing:
			_ = c.link.Write(pongProto)
			return nil
		case protocol.OpPong, protocol.OpInfo:
			return nil
		}
		lf.log.Error(c.prefix + " - authentication error")
		lf.log.Debug(c.prefix + " - " + f.Op.String() + " before CONNECT")
		return &connError{text: errTextAuthViolation, reason: server.LinkAuthViolation}
	}
	switch f.Op {
	case protocol.OpLMsg, protocol.OpHMsg:
		if !c.isReady() {
			return nil
		}
		if c.imp.denies(f.Subject) || c.js.denies(f.Subject) {
			return nil
		}
		if c.perms != nil && !c.perms.CanPublish(f.Subject) {
			return c.violation("Publish", f.Subject)
		}
		hdr := -1
		if f.Op == protocol.OpHMsg {
			hdr = f.HeaderLen
			if c.perms != nil && hdr > 0 && hdr <= len(f.Payload) {
				// A trace destination the leaf node's user may not
				// publish to: the message is dropped, the connection
				// stays, as upstream (GHSA-p3j5-5hrq-p75h).
				if dest, ok := server.TraceDest(f.Payload[:hdr]); ok && !c.perms.CanPublish([]byte(dest)) {
					lf.log.Error(fmt.Sprintf("%s - Publish Violation - Subject %q", c.prefix, dest))
					c.sendErr("Permissions Violation for Publish to " + strconv.Quote(dest))
					return nil
				}
			}
		}
		if err := c.link.Deliver(c.accountb, f.Subject, f.Reply, f.Queues, hdr, f.Payload); err != nil {
			lf.log.Debug(fmt.Sprintf("%s - Unknown account %q for leafnode message on subject: %q", c.prefix, c.account, f.Subject))
		}
	case protocol.OpLSub:
		return c.processSub(f)
	case protocol.OpLUnsub:
		c.link.RemoveRemoteSub(c.accountb, f.Subject, f.Queue)
	case protocol.OpPing:
		_ = c.link.Write(pongProto)
	case protocol.OpPong:
		c.mu.Lock()
		c.pingsOut = 0
		if !c.pingStart.IsZero() {
			c.rtt = time.Since(c.pingStart)
			c.pingStart = time.Time{}
		}
		rtt := c.rtt
		c.mu.Unlock()
		c.autoLevel(rtt)
	case protocol.OpInfo:
		return c.processInfo(f.Arg)
	case protocol.OpConnect:
		if c.solicited {
			lf.log.Error(c.prefix + " - " + errTextUnknownProtocol + ": CONNECT from the hub")
			return &connError{text: errTextUnknownProtocol, reason: server.LinkProtocolViolation}
		}
		// A second CONNECT is ignored.
	case protocol.OpErr:
		return c.processErr(string(f.Arg))
	case protocol.OpOK:
	}
	return nil
}

// processSub registers the peer's interest (LS+), after the loop check.
func (c *conn) processSub(f *protocol.Frame) error {
	lf := c.lf
	if !c.isReady() {
		return nil
	}
	if bytes.HasPrefix(f.Subject, []byte(ldsPrefix)) && string(f.Subject) == c.lds {
		return c.loopDetected(true)
	}
	if c.exp.denies(f.Subject) || c.js.denies(f.Subject) {
		lf.log.Debug(fmt.Sprintf("%s - Not permitted to deliver %q over the leafnode connection, ignoring its subscription", c.prefix, f.Subject))
		return nil
	}
	if c.perms != nil && !permExempt(f.Subject, len(f.Queue) > 0) && !c.perms.CanSubscribe(string(f.Subject), string(f.Queue)) {
		return c.violation("Subscription", f.Subject)
	}
	if err := c.link.AddRemoteSub(c.accountb, f.Subject, f.Queue, f.Weight); err != nil && !errors.Is(err, server.ErrLinkClosed) {
		lf.log.Error(fmt.Sprintf("%s - Could not insert subscription: %v", c.prefix, err))
		c.sendErr("Invalid Subscription")
	}
	return nil
}

// violation refuses an LS+ (what "Subscription") or a message ("Publish")
// that the user's permissions deny: upstream answers with the client's
// -ERR text (without the queue) and closes the connection as a protocol
// violation, since the other side should have filtered it.
func (c *conn) violation(what string, subject []byte) error {
	q := strconv.Quote(string(subject))
	c.lf.log.Error(fmt.Sprintf("%s - %s Violation on %s - Check other side configuration", c.prefix, what, q))
	return &connError{text: "Permissions Violation for " + what + " to " + q, reason: server.LinkProtocolViolation}
}

// permExempt reports whether interest in subject is exempt from a leaf
// node user's subscribe permissions, as upstream exempts it: plain (not
// queue) interest in loop detection subjects, inboxes (the replies to
// the leaf's requests) and gateway replies.
func permExempt(subject []byte, queue bool) bool {
	return !queue && (bytes.HasPrefix(subject, []byte(ldsPrefix)) || bytes.HasPrefix(subject, []byte("_INBOX.")) ||
		bytes.HasPrefix(subject, []byte(grPrefix)))
}

// loopDetected closes the connection of a loop; the dialing side waits
// before it dials again.
func (c *conn) loopDetected(sendErr bool) error {
	delay := loopReconnectDelay
	if c.solicited {
		c.remote.setDelay(delay)
	}
	text := fmt.Sprintf("Loop detected for leafnode account=%q. Delaying attempt to reconnect for %v", c.account, delay)
	c.lf.log.Error(c.prefix + " - " + text)
	if sendErr {
		return &connError{text: text, reason: server.LinkProtocolViolation}
	}
	return &connError{reason: server.LinkProtocolViolation}
}

// processErr handles -ERR from the peer: logged, the connection closed;
// a refusal for a loop or our cluster's name delays the next dial.
func (c *conn) processErr(text string) error {
	c.lf.log.Error(c.prefix + " - Leafnode Error '" + text + "'")
	switch {
	case strings.Contains(text, errTextSameCluster):
		if c.solicited {
			c.remote.setDelay(sameClusterReconnectDelay)
		}
		c.lf.log.Error(fmt.Sprintf("%s - Leafnode connection dropped with same cluster name error. Delaying attempt to reconnect for %v", c.prefix, sameClusterReconnectDelay))
	case strings.Contains(text, "Loop detected"):
		return c.loopDetected(false)
	case strings.HasPrefix(text, "Permissions Violation for Publish to "):
		// The hub dropped one message (a trace destination its user
		// may not publish to) and keeps the connection, as upstream's
		// leaf does; a hub that closes for a violation closes it.
		return nil
	}
	return &connError{reason: server.LinkClientClosed}
}

// processInfo handles an INFO after the first: the hub's answer to our
// CONNECT (connect_info) finishes the handshake; leaf node URLs update
// the remote's list.
func (c *conn) processInfo(arg []byte) error {
	if !c.solicited {
		return nil
	}
	var info leafInfo
	if err := json.Unmarshal(arg, &info); err != nil {
		c.lf.log.Error(c.prefix + " - Error parsing leafnode INFO: " + err.Error())
		return &connError{text: errTextUnknownProtocol, reason: server.LinkProtocolViolation}
	}
	if urls := c.remote.hubURLs(&info); len(urls) > 0 {
		c.remote.addURLs(urls)
	}
	if info.RemoteAccount != "" {
		c.mu.Lock()
		c.remoteAccount = info.RemoteAccount
		c.mu.Unlock()
	}
	if info.ConnectInfo && !c.isReady() {
		// The hub's permissions for us, before our interest goes out
		// (finish) and before its interest comes in.
		if info.Import != nil {
			c.hubImp = newPermFilter(info.Import, pairFilter{})
		}
		if info.Export != nil {
			c.link.SetFilter(newPermFilter(info.Export, pairFilter{c.exp, c.jsOut}))
		}
		c.finish()
	}
	return nil
}

// processConnect authenticates a leaf node's CONNECT (we are its hub),
// binds it to its account and finishes the handshake.
func (c *conn) processConnect(arg []byte) error {
	lf := c.lf
	var ci leafConnect
	if err := json.Unmarshal(arg, &ci); err != nil {
		lf.log.Error(c.prefix + " - Error parsing leafnode CONNECT: " + err.Error())
		return &connError{text: errTextUnknownProtocol, reason: server.LinkProtocolViolation}
	}
	c.noteConnectCompression(ci.Compression)
	if ci.Lang != "" {
		lf.log.Error(c.prefix + " - " + errTextLeafPort)
		return &connError{text: errTextLeafPort, reason: ReasonWrongPort}
	}
	if cn := lf.s.ClusterName(); cn != "" && ci.Cluster == cn {
		lf.log.Error(c.prefix + " - " + errTextSameCluster)
		return &connError{text: errTextSameCluster, reason: ReasonClusterNamesIdentical}
	}
	if ci.Gateway != "" {
		text := fmt.Sprintf("Rejecting connection from gateway %q on the leafnode port", ci.Gateway)
		lf.log.Error(c.prefix + " - " + text)
		return &connError{text: text, reason: ReasonWrongGateway}
	}
	if mv := lf.o.MinVersion; mv != "" && !versionAtLeast(ci.Version, mv) {
		// As upstream: an INFO first (a recent remote closes without one
		// after two seconds), the error, and the connection held a while
		// so that the remote does not dial again at once.
		info := lf.info
		info.CID, info.LeafNodeURLs, info.ConnectInfo = c.link.ID(), []string{lf.info.IP}, true
		b, _ := json.Marshal(&info)
		_ = c.link.Write(protocol.AppendInfo(nil, b))
		text := fmt.Sprintf("connection rejected since minimum version required is %q", mv)
		lf.log.Error(c.prefix + " - " + text)
		c.sendErr(text)
		c.mu.Lock()
		if c.authTimer != nil {
			c.authTimer.Stop()
			c.authTimer = nil
		}
		c.mu.Unlock()
		t := time.NewTimer(minVersionHold)
		select {
		case <-t.C:
		case <-lf.g.Done():
			t.Stop()
		case <-c.link.Done():
			t.Stop()
		}
		return &connError{reason: ReasonMinimumVersion}
	}
	account, perms, err := c.authenticate(&ci)
	if err != nil {
		lf.log.Error(c.prefix + " - authentication error - " + err.Error())
		return &connError{text: errTextAuthViolation, reason: server.LinkAuthViolation}
	}
	if acc := lf.s.LookupAccount(account); acc != nil {
		if !acc.AddLeafNode() {
			lf.log.Error(c.prefix + " - " + errTextMaxAccountConns)
			return &connError{text: errTextMaxAccountConns, reason: ReasonMaxAccountConnections}
		}
		c.mu.Lock()
		if c.gone {
			c.mu.Unlock()
			acc.RemoveLeafNode()
			return &connError{reason: server.LinkClientClosed}
		}
		c.counted = acc
		c.mu.Unlock()
	}
	c.mu.Lock()
	if c.authTimer == nil {
		c.mu.Unlock()
		return &connError{reason: server.LinkAuthTimeout} // it fired
	}
	c.authTimer.Stop()
	c.authTimer = nil
	c.remoteName = ci.Name
	c.remoteCluster = ci.Cluster
	c.remoteAccount = ci.RemoteAccount
	c.mu.Unlock()
	c.setCluster(ci.Cluster)
	c.connectSeen = true
	var deliver permissions
	if perms != nil {
		c.perms, deliver = perms.check, perms.check
	}
	// The other side may declare itself the hub: we are then its spoke,
	// in what we announce and what we forward.
	c.spoke.Store(ci.Hub)
	if ci.Hub {
		c.link.SetForward(spokeForward)
		c.link.SetOrigin(server.ConnHub)
	}
	c.link.SetRemoteName(ci.Name)
	c.link.SetRemoteVersion(ci.Version)
	c.link.SetHeaders(ci.Headers && !lf.s.Options().NoHeaderSupport)
	c.setAccount(account, ci.Domain)
	var denyPub *denyList
	if len(ci.DenyPub) > 0 {
		denyPub, _ = compileDeny("deny_pub", ci.DenyPub) // an invalid subject denies nothing
	}
	if deliver != nil {
		c.link.SetFilter(&deliverFilter{deny: denyPub, js: c.jsOut, perms: deliver})
	} else {
		c.link.SetFilter(pairFilter{denyPub, c.jsOut})
	}
	lf.replaceDuplicate(c)
	c.registered.Store(true)
	// The leaf node learns the account it is bound to.
	info := lf.info
	info.CID = c.link.ID()
	info.Cluster = lf.s.ClusterName()
	info.LeafNodeURLs = lf.leafNodeURLs()
	info.RemoteAccount = account
	info.ConnectInfo = true
	si := lf.s.ServerInfo()
	info.JetStream, info.Domain = si.JetStream, si.Domain
	if perms != nil {
		info.Import, info.Export = perms.imp, perms.exp
	}
	info.WSConnectURLs = lf.s.WebsocketConnectURLs()
	b, _ := json.Marshal(&info)
	_ = c.link.Write(protocol.AppendInfo(nil, b))
	c.finish()
	return nil
}

// authenticate checks a CONNECT's credentials against leafnodes {
// authorization }, else the server's users, and returns the account the
// connection binds to.
func (c *conn) authenticate(ci *leafConnect) (string, *hubPerms, error) {
	o := &c.lf.o
	bind := func(name string) (string, *hubPerms, error) {
		if name == "" {
			name = server.GlobalAccountName
		}
		if c.lf.s.LookupAccount(name) == nil {
			return "", nil, fmt.Errorf("account %q not found", name)
		}
		return name, nil, nil
	}
	if a := c.lf.auth.Load(); a.on() {
		name, err := c.authorize(a, ci, true)
		if err != nil {
			return "", nil, err
		}
		// Kept for a reload of the authorization (recheckAuth).
		c.leafAuth = &leafCreds{user: ci.User, pass: ci.Pass, token: ci.Token}
		return bind(name)
	}
	cr := server.LeafCredentials{User: ci.User, Password: ci.Pass, Token: ci.Token, Nkey: ci.Nkey, Sig: ci.Sig, JWT: ci.JWT,
		Nonce: c.nonce, RemoteAddr: c.nc.RemoteAddr(), TLSMap: o.TLSMap}
	if c.tlsConn != nil {
		cs := c.tlsConn.ConnectionState()
		cr.TLS = &cs
	}
	account, checker, err := c.lf.s.AuthenticateLeafUser(cr)
	if err != nil || checker == nil {
		return account, nil, err
	}
	hp := &hubPerms{check: checker}
	if p := checker.Permissions(); p != nil {
		if p.Subscribe != nil {
			hp.imp = &subjectPerm{Allow: p.Subscribe.Allow, Deny: p.Subscribe.Deny}
		}
		if p.Publish != nil {
			hp.exp = &subjectPerm{Allow: p.Publish.Allow, Deny: p.Publish.Deny}
		}
	}
	return account, hp, nil
}

// authorize checks a CONNECT's credentials against the leafnodes {
// authorization } a and returns the name of the account the user is
// bound to ("" for the global account). warn logs upstream's warning for
// a user in CONNECT when the certificate names it (verify_and_map).
func (c *conn) authorize(a *authConf, ci *leafConnect, warn bool) (string, error) {
	switch {
	case a.Username != "":
		userOK := sameSecret(ci.User, a.Username)
		passOK := server.PasswordMatches(ci.Pass, a.Password)
		if !userOK || !passOK {
			return "", fmt.Errorf("User %q", ci.User)
		}
		return a.Account, nil
	case a.Token != "":
		tok := ci.Token
		if tok == "" {
			tok = ci.User
		}
		if !server.PasswordMatches(tok, a.Token) {
			return "", errors.New("bad token")
		}
		return a.Account, nil
	case c.lf.o.TLSMap:
		// verify_and_map: the certificate names the user, whose password
		// is not checked.
		var cs *tls.ConnectionState
		if c.tlsConn != nil {
			st := c.tlsConn.ConnectionState()
			cs = &st
		}
		names := make([]string, len(a.Users))
		for i, u := range a.Users {
			names[i] = u.Username
		}
		name, err := server.LeafCertUser(cs, names)
		if err != nil {
			return "", err
		}
		if warn && ci.User != "" {
			c.lf.log.Warn(fmt.Sprintf("%s - User %q found in connect proto, but user required from cert", c.prefix, ci.User))
		}
		for _, u := range a.Users {
			if u.Username == name {
				return u.Account, nil
			}
		}
		return "", fmt.Errorf("User %q", name)
	default:
		for _, u := range a.Users {
			if sameSecret(ci.User, u.Username) {
				if !server.PasswordMatches(ci.Pass, u.Password) {
					break
				}
				return u.Account, nil
			}
		}
		return "", fmt.Errorf("User %q", ci.User)
	}
}

// Gateway replies, upstream's prefix: a server with gateways tells its
// leaf nodes interest in all of them (Options.GatewayReplies).
const (
	grPrefix  = "_GR_."
	grReplies = grPrefix + ">"
)

// finish ends the handshake: the connection is ready, its interest goes
// to the peer (with the loop detection subject) and then every change.
func (c *conn) finish() {
	if c.ready.Swap(true) {
		return
	}
	lf := c.lf
	c.mu.Lock()
	if c.finishTimer != nil {
		c.finishTimer.Stop()
		c.finishTimer = nil
	}
	c.pingTimer = time.AfterFunc(firstPing, c.pingTick)
	if c.solicited && c.counted == nil && !c.gone {
		// Counted, not limited: max_leafnodes is enforced by the hub.
		if acc := lf.s.LookupAccount(c.account); acc != nil && acc.AddLeafNode() {
			c.counted = acc
		}
	}
	c.mu.Unlock()
	c.imu.Lock()
	c.smap = make(map[ikey]int32)
	if lf.o.GatewayReplies {
		// Counted, so that a local subscriber of the same subject that
		// leaves does not take it back.
		c.smap[ikey{grReplies, ""}] = 1
	}
	c.imu.Unlock()
	_ = c.link.Write(protocol.AppendLSub(nil, []byte(c.lds), nil, 0))
	if lf.o.GatewayReplies {
		_ = c.link.Write(protocol.AppendLSub(nil, []byte(grReplies), nil, 0))
	}
	unlisten := lf.s.AddInterestListener(server.InterestFunc(c.interestChanged))
	c.mu.Lock()
	closed := c.link.Closed()
	if !closed {
		c.unlisten = unlisten
	}
	c.mu.Unlock()
	if closed {
		unlisten()
	}
}

// interestChanged is the connection's interest listener: it counts the
// interest announced to the peer per subject and queue, in the bound
// account, and sends LS+ on the first subscriber, LS- on the last, and
// for queue groups LS+ with the member count on every change. The peer's
// own interest never goes back to it; a spoke announces only local
// interest and that of its own leaf nodes.
func (c *conn) interestChanged(ev server.InterestEvent) {
	if ev.Account != c.account || (ev.Link != nil && ev.Link == c.link) {
		return
	}
	if c.lf.o.GatewayReplies && ev.Origin == server.ConnGateway && ev.Queue == "" && strings.HasPrefix(ev.Subject, grPrefix) {
		// A gateway's "_GR_.<cluster hash>.>": "_GR_.>" covers it.
		return
	}
	if c.spoke.Load() && !c.lf.local(&ev) || c.sameCluster(&ev) {
		return
	}
	if c.imp.deniesString(ev.Subject) || c.js.deniesString(ev.Subject) {
		return
	}
	if c.hubImp != nil && !permExempt([]byte(ev.Subject), ev.Queue != "") && !c.hubImp.permitsString(ev.Subject) {
		return
	}
	k := ikey{ev.Subject, ev.Queue}
	c.imu.Lock()
	defer c.imu.Unlock()
	if c.smap == nil {
		return
	}
	n := c.smap[k]
	if ev.Added {
		n++
	} else {
		if n == 0 {
			return
		}
		n--
	}
	if n <= 0 {
		delete(c.smap, k)
		n = 0
	} else {
		c.smap[k] = n
	}
	var proto []byte
	switch {
	case ev.Queue == "" && ev.Added && n == 1:
		proto = protocol.AppendLSub(nil, []byte(ev.Subject), nil, 0)
	case ev.Queue == "" && !ev.Added && n == 0:
		proto = protocol.AppendLUnsub(nil, []byte(ev.Subject), nil)
	case ev.Queue != "" && n > 0:
		proto = protocol.AppendLSub(nil, []byte(ev.Subject), []byte(ev.Queue), n)
	case ev.Queue != "":
		proto = protocol.AppendLUnsub(nil, []byte(ev.Subject), []byte(ev.Queue))
	}
	if proto != nil {
		_ = c.link.Write(proto)
		c.traceOut(proto)
	}
}

// setCluster records the peer's cluster, the origin of its interest and
// messages (server.Link.SetRemoteCluster).
func (c *conn) setCluster(name string) {
	c.cluster.Store(&name)
	c.link.SetRemoteCluster(name)
}

// sameCluster reports whether ev is interest of the peer's cluster (its
// own, another connection's from that cluster, or a route's on behalf of
// one): as upstream, it is never announced back there.
func (c *conn) sameCluster(ev *server.InterestEvent) bool {
	p := c.cluster.Load()
	return ev.OriginCluster != "" && p != nil && *p == ev.OriginCluster
}

// local reports whether a spoke announces ev to its hub: local interest
// and the interest of the leaf nodes this server is the hub of.
func (lf *Leaf) local(ev *server.InterestEvent) bool {
	switch ev.Origin {
	case server.ConnClient, server.ConnInProcess:
		return true
	case server.ConnLeaf:
		v, ok := byLink.Load(ev.Link)
		return ok && !v.(*conn).spoke.Load()
	}
	return false
}

func (c *conn) pingTick() {
	c.mu.Lock()
	if c.link.Closed() {
		c.mu.Unlock()
		return
	}
	so := c.lf.s.Options()
	maxOut := so.MaxPingsOut
	if maxOut <= 0 {
		maxOut = 2
	}
	interval := so.PingInterval
	if interval <= 0 {
		interval = 2 * time.Minute
	}
	if c.pingsOut+1 > maxOut {
		c.mu.Unlock()
		c.lf.log.Debug(c.prefix + " - Stale Client Connection - Closing")
		c.sendErr(errTextStale)
		c.link.Close(server.LinkStaleConnection)
		return
	}
	c.pingsOut++
	c.pingStart = time.Now()
	c.pingTimer.Reset(interval)
	c.mu.Unlock()
	_ = c.link.Write(pingProto)
}

// onClose runs once when the connection's link closed.
func (c *conn) onClose(reason server.LinkCloseReason) {
	lf := c.lf
	c.mu.Lock()
	for _, t := range []*time.Timer{c.pingTimer, c.authTimer, c.finishTimer} {
		if t != nil {
			t.Stop()
		}
	}
	unlisten := c.unlisten
	c.unlisten = nil
	counted := c.counted
	c.counted, c.gone = nil, true
	c.mu.Unlock()
	if counted != nil {
		counted.RemoveLeafNode()
	}
	if unlisten != nil {
		unlisten()
	}
	lf.mu.Lock()
	delete(lf.conns, c)
	lf.mu.Unlock()
	byLink.Delete(c.link)
	c.mu.Lock()
	remote := c.remoteName
	c.mu.Unlock()
	line := c.prefix + " - Leafnode connection closed: " + reasonText(reason)
	if remote != "" {
		line += " - Remote: " + remote
	}
	lf.log.Info(line)
}

// tracing reports whether the connection's protocol is traced (-V), as
// its link says: a reload changes it for the connections up.
func (c *conn) tracing() bool { return c.link != nil && c.link.Tracing() }

func (c *conn) traceOut(proto []byte) {
	if c.tracing() {
		c.lf.log.Log(context.Background(), server.LevelTrace, c.prefix+" - ->> ["+string(bytes.TrimRight(proto, "\r\n"))+"]")
	}
}

// traceIn logs an operation received, as upstream's -V does.
func (c *conn) traceIn(f *protocol.Frame) {
	line := f.Op.String()
	add := func(b []byte) {
		if len(b) > 0 {
			line += " " + string(b)
		}
	}
	switch f.Op {
	case protocol.OpLMsg, protocol.OpHMsg:
		add(f.Subject)
		add(f.Reply)
		for _, q := range f.Queues {
			add(q)
		}
		line += " " + strconv.Itoa(len(f.Payload))
	case protocol.OpLSub, protocol.OpLUnsub:
		add(f.Subject)
		add(f.Queue)
	case protocol.OpInfo:
		add(f.Arg)
	case protocol.OpErr:
		line += " '" + string(f.Arg) + "'"
	case protocol.OpConnect:
		line += " {...}"
	}
	c.lf.log.Log(context.Background(), server.LevelTrace, c.prefix+" - <<- ["+line+"]")
}

// versionAtLeast reports whether version v (major.minor.patch) is at
// least min.
func versionAtLeast(v, min string) bool {
	parse := func(s string) [3]int {
		var out [3]int
		s, _, _ = strings.Cut(s, "-")
		for i, p := range strings.SplitN(s, ".", 3) {
			out[i], _ = strconv.Atoi(p)
		}
		return out
	}
	a, b := parse(v), parse(min)
	for i := range a {
		if a[i] != b[i] {
			return a[i] > b[i]
		}
	}
	return true
}

// sameSecret compares credentials in constant time (hashed first, so not
// even their length leaks through timing).
func sameSecret(given, configured string) bool {
	a, b := sha256.Sum256([]byte(given)), sha256.Sum256([]byte(configured))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// replaceDuplicate closes an older accepted connection from the same
// server (name and cluster) bound to the same accounts on both sides: the
// remote reconnected before we noticed its old connection broke, or two
// of its remotes bind to the same account here. As upstream, the new
// connection stays.
func (lf *Leaf) replaceDuplicate(c *conn) {
	c.mu.Lock()
	name, cluster, acc, racc := c.remoteName, c.remoteCluster, c.account, c.remoteAccount
	c.mu.Unlock()
	if name == "" || racc == "" {
		return
	}
	var old *conn
	lf.mu.Lock()
	for x := range lf.conns {
		if x == c || x.solicited || !x.registered.Load() || x.link.Closed() {
			continue
		}
		x.mu.Lock()
		same := x.remoteName == name && x.remoteCluster == cluster && x.account == acc && x.remoteAccount == racc
		x.mu.Unlock()
		if same {
			old = x
			break
		}
	}
	lf.mu.Unlock()
	if old == nil {
		return
	}
	old.sendErr(reasonText(ReasonDuplicateLeaf))
	old.link.Close(ReasonDuplicateLeaf)
	lf.log.Warn(c.prefix + " - Replacing connection from same server")
}
