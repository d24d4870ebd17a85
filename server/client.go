package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"natsd.dev/auth"
	"natsd.dev/protocol"
	"natsd.dev/server/snapshot"
	"natsd.dev/sublist"
)

// Read buffer sizing: start small so idle connections stay cheap, grow
// while reads fill the buffer, shrink back after a run of short reads.
const (
	startReadBuf  = 512
	maxReadBuf    = 128 * 1024 // 64 KiB payloads fit one read: +50% msgs/s at 64 KiB
	shortReadsMax = 2
	// maxMsgLineOverhead bounds a MSG/HMSG control line beyond its subject,
	// sid and reply: op, spaces, two sizes and CRLF.
	maxMsgLineOverhead = 64
	// maxPCD bounds the per-batch list of clients to signal; past it the
	// publisher signals at once.
	maxPCD = 64
	// firstPingInterval is the delay of the first PING, which measures RTT.
	firstPingInterval = 2 * time.Second
	// maxStallPerBatch bounds how long a fast producer waits, in total per
	// read batch, for consumers whose backlog passed 3/4 of max_pending.
	maxStallPerBatch = 10 * time.Millisecond
)

type clientKind uint8

const (
	kindClient clientKind = iota
	kindInternal
	kindLink    // an inter-server link of any kind (see Link)
	kindSession // an in-process session (see Session)
)

// connectOpts is the CONNECT document, with upstream's JSON names. A
// client starts with defaultConnectOpts; a CONNECT changes the fields it
// names.
type connectOpts struct {
	Verbose      bool   `json:"verbose"`
	Pedantic     bool   `json:"pedantic"`
	TLSRequired  bool   `json:"tls_required"`
	Nkey         string `json:"nkey,omitempty"`
	JWT          string `json:"jwt,omitempty"`
	Sig          string `json:"sig,omitempty"`
	Token        string `json:"auth_token,omitempty"`
	User         string `json:"user,omitempty"`
	Pass         string `json:"pass,omitempty"`
	Name         string `json:"name"`
	Lang         string `json:"lang"`
	Version      string `json:"version"`
	Protocol     int    `json:"protocol"`
	Echo         bool   `json:"echo"`
	Headers      bool   `json:"headers"`
	NoResponders bool   `json:"no_responders"`
	Account      string `json:"account,omitempty"`
	AccountNew   bool   `json:"new_account,omitempty"`
}

// defaultConnectOpts are a client's options before CONNECT and the
// defaults of the fields CONNECT omits: upstream's client options default
// to verbose and pedantic, so "CONNECT {}" gets +OK and a wildcard PUB
// gets 'Invalid Publish Subject'. Every client library sends both.
var defaultConnectOpts = connectOpts{Verbose: true, Pedantic: true, Echo: true}

// subscription is one SUB of a client, or an internal subscription with a
// handler.
type subscription struct {
	client  *client
	subject string
	queue   string
	sid     []byte
	handler MsgHandler
	// sq is the queue of a session's handler subscription: deliveries
	// are copied into it, and the handler runs on the session's goroutine.
	sq *sessQueue
	// filter, when set, is the subscriber's permissions: the subscription
	// is a wildcard that some denied subject matches, and each message is
	// checked with CanDeliver. Set once at SUB; a reload of the
	// permissions stores the new ones (auth_reload.go).
	filter atomic.Pointer[auth.Checker]
	// remote is set for a link's subscription (a peer's interest) only,
	// so that clients' subscriptions do not carry its fields.
	remote *remoteSub
	// guarded by client.mu
	max       int64
	delivered int64
	closed    bool
	// drain: closed by SessionSub.Drain, its handler still gets what was
	// queued for it.
	drain bool
}

// pubCtx is the state of one publishing goroutine: the clients whose
// writers it must wake at the end of its batch, and its counters.
type pubCtx struct {
	pcd []*client
	// direct: the batch came after the reader sat idle (markBatch), so
	// flushSignals may write its one destination itself.
	direct   bool
	outMsgs  int64
	outBytes int64
	// outClientMsgs and outClientBytes count the part of outMsgs and
	// outBytes delivered to user connections (/varz out_client_*).
	outClientMsgs, outClientBytes int64
	// stalled is how long this batch already waited for slow consumers;
	// the total per batch is bounded by maxStallPerBatch.
	stalled    time.Duration
	stallTimer *time.Timer
	// subjBuf builds subjects rewritten for another account.
	subjBuf []byte
	// from is the publisher of the message being delivered, which
	// internal handlers may ask about (Msg.Requester).
	from *client
	// routes are the links that get the message being delivered
	// (scratch reused for every message).
	routes []routeTarget
	// cluster is the leaf node cluster the message being delivered came
	// from (a link's Deliver); interest of that cluster does not get it.
	cluster []byte
	// In-process publishers (session.go): buf and buf2 hold the copied
	// subject, reply and header+data; stallMax is the session's stall
	// budget (0: the default); refused is set when a must-not-lose
	// session refused the message.
	buf, buf2 []byte
	stallMax  time.Duration
	refused   bool
	qFull     bool // a queue member's session queue was full
	msg       Msg  // handed to synchronous (InternalClient) handlers
	// mt is the trace of the message being delivered (msgtrace.go);
	// nil for almost every message.
	mt *msgTrace
	// mtCut is the trace of a message being delivered past an account
	// boundary, where it is no longer traced (msgtrace.go).
	mtCut *msgTrace
	// origin is where the message being delivered came from, matched
	// against the links' forwarding policies.
	origin ConnKind
	// linkOut counts what was written to links, for the accounts'
	// traffic (account_traffic.go).
	linkOut linkOut
}

type client struct {
	srv   *Server
	cid   uint64
	kind  clientKind
	ws    bool // a WebSocket connection
	nc    net.Conn
	acc   *Account
	start time.Time
	host  string
	port  int

	// Reader-owned: only the read goroutine touches these.
	parser     protocol.Parser
	opts       connectOpts
	connected  bool
	infoSent   bool // the async connect_info INFO after the first PONG
	pub        pubCtx
	inMsgs     int64
	inBytes    int64
	shortReads int
	traceOn    atomic.Bool // -V: set at creation, changed by Reload (any goroutine reads it)
	// prefix is the log prefix: set by the read goroutine, read by any
	// (see logPrefix).
	prefix      atomic.Pointer[string]
	connectedAt time.Time
	// Authentication and permissions (reader-owned): authPending until a
	// valid CONNECT; nonce as sent in INFO; checker nil when the identity
	// has no permissions; publisher nil when it has no publish ones, so a
	// client without permissions pays one nil test per PUB.
	authPending bool
	nonce       []byte
	checker     *auth.Checker
	publisher   *auth.Publisher
	// reloaded hands permissions a reload gave the client to the read
	// loop, which applies them before its next batch (auth_reload.go).
	reloaded atomic.Pointer[permsUpdate]
	// unauth: the connection is listed as unauthenticated (unauth.go)
	// as far as the reader knows; unauthHeld is the reader's part of its
	// charge (read buffer, parser scratch); unauthPB its transport's
	// PendingBytesConn, set before the reader starts.
	unauth     bool
	unauthHeld atomic.Int64
	unauthPB   PendingBytesConn
	// guarded by Server.unauth.mu
	unauthIn               bool
	unauthCharge           int64
	unauthPrev, unauthNext *client

	iov    net.Buffers // writer-owned writev scratch
	direct *directConn // tryDirect's view of a TCP socket (under mu)
	// Cumulative counters for monitoring, updated once per read batch.
	inMsgsTotal  atomic.Int64
	inBytesTotal atomic.Int64
	lastActive   atomic.Int64 // unix nanoseconds of the last read batch

	kick chan struct{} // wakes the writer; capacity 1
	done chan struct{} // closed when the connection closes

	mu           sync.Mutex
	out          outbound
	flushPending bool
	// lazyWriter: the write loop starts with the first data queued (a
	// session with a Conn; most MQTT clients that only publish never need
	// one). writerOn says it started, or that closeWith accounted for it.
	lazyWriter bool
	writerOn   atomic.Bool
	// inParse is set while the read loop parses a batch; a signal then
	// sets wantFlush and the read loop flushes in place after the batch.
	inParse, wantFlush atomic.Bool
	// writing is set while a session writes on its own goroutine
	// (Session.Write with nothing queued); the writer waits for it.
	writing      bool
	closed       bool
	flushOnClose bool
	reason       closeReason
	subs         map[string]*subscription
	stall        chan struct{} // closed by the writer when the backlog drains
	headers      bool          // deliver HMSG; else headers are stripped
	pingsOut     int
	pingTimer    *time.Timer
	rttStart     time.Time
	rtt          time.Duration
	outMsgs      int64
	outBytes     int64
	// identity from CONNECT, for monitoring (guarded by mu)
	name, lang, version string
	connectSeen         bool      // CONNECT processed (over TLS: handshake done)
	stop                time.Time // when the connection closed
	authTimer           *time.Timer
	authUser            string // the authenticated user's name
	accCounted          bool   // counted against the account's connection limit
	asyncInfo           bool   // takes asynchronous INFO (connect_urls updates)
	pinnedLink          bool   // a link dedicated to one account: RMSG without it
	link                *Link  // set for a link, never changed
	// linkFilter is a link's LinkFilter, copied into each remote
	// subscription it registers (guarded by mu).
	linkFilter LinkFilter
	// replies tracks the reply subjects delivered to a client with
	// allow_responses; set by the reader, read by deliverers.
	replies *auth.Replies
	// bound is the client's authentication (credentials, chain,
	// identity), for a reload to check again (auth_reload.go).
	bound *authBinding
	// sess is set for an in-process session (kind, type, encoder).
	sess *sessInfo

	// jwtTimer closes the client when its user JWT expires; jwtMaxSubs
	// is the user JWT's subscription limit, jwtMaxPayload its payload
	// limit (0: none; -1: a limit of zero). operator.go.
	jwtTimer      *time.Timer
	jwtMaxSubs    int
	jwtMaxPayload int
}

// createClient starts serving nc; with tlsCfg the client must handshake
// (see startTLS), which its reader goroutine does, never the accept loop.
func (s *Server) createClient(nc net.Conn, tlsCfg *tls.Config) {
	c := &client{
		srv:   s,
		cid:   s.nextCID.Add(1),
		nc:    nc,
		acc:   s.gAcc,
		start: time.Now(),
		kick:  make(chan struct{}, 1),
		done:  make(chan struct{}),
		subs:  make(map[string]*subscription),
	}
	c.opts = defaultConnectOpts
	if addr, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		c.host, c.port = addr.IP.String(), addr.Port
	} else if nc.RemoteAddr() != nil {
		c.host = nc.RemoteAddr().String()
	}
	idTag := " - cid:"
	if c.ws = transportOf(nc) == TransportWebsocket; c.ws {
		idTag = " - wid:" // upstream's tag for WebSocket clients
	}
	c.setLogPrefix(net.JoinHostPort(c.host, strconv.Itoa(c.port)) + idTag + strconv.FormatUint(c.cid, 10))
	c.traceOn.Store(s.log.Enabled(context.Background(), LevelTrace))
	c.parser.MaxControlLine = int(s.maxControlLine.Load())
	c.parser.MaxPayload = int(s.maxPayload.Load())

	if sa := s.auth.Load(); sa.chain != nil {
		c.authPending = true
		if sa.nonce {
			c.nonce = auth.NewNonce()
		}
	}
	tlsOn := tlsCfg != nil && !c.ws
	info := protocol.AppendInfo(nil, s.infoJSON(c.cid, c.host, c.nonce, tlsOn))
	var tlsInfo []byte // INFO startTLS sends; nil for a plain client
	if tlsOn {
		c.nc, tlsInfo = tls.Server(nc, tlsCfg), info
	} else {
		c.out.write(info)
	}

	s.mu.Lock()
	if s.shutdown || s.ldm {
		s.mu.Unlock()
		nc.Close()
		return
	}
	tooMany := len(s.clients) >= int(s.maxConn.Load())
	refused, logStart := false, false
	if !tooMany {
		var admitted bool
		admitted, logStart = s.admitUnauth(c)
		if refused = !admitted; !refused {
			s.clients[c.cid] = c
		}
	}
	s.wg.Add(2)
	s.mu.Unlock()
	s.stats.TotalConns.Add(1)
	if refused {
		s.logUnauthStart(logStart)
		s.evictUnauth()
	}

	if (tooMany || refused) && tlsInfo != nil {
		// As upstream, the refusal goes out in the clear after INFO.
		// c is not registered, so c.nc may still change.
		c.nc, tlsInfo = nc, nil
		c.out.write(info)
	}
	go c.writeLoop()
	if tooMany {
		c.debugf("Client connection created")
		s.log.Error(c.logPrefix() + " - maximum connections exceeded")
		c.sendErrAndClose(errTextMaxConns, reasonMaxConnections)
		go func() { defer s.wg.Done(); c.discardUntilClosed() }()
		return
	}
	if refused {
		c.debugf("Client connection created")
		c.sendErrAndClose(errTextUnauthMemory, reasonUnauthMemory)
		go func() { defer s.wg.Done(); c.discardUntilClosed() }()
		return
	}
	c.debugf("Client connection created")
	if tlsInfo != nil {
		// The timers start once the handshake is over, as upstream's do.
		go c.readLoop(nc, tlsInfo)
		return
	}
	c.signal()
	c.startTimers()
	go c.readLoop(nil, nil)
}

// startTimers arms the keepalive and, when the client must authenticate,
// the authentication timer.
func (c *client) startTimers() {
	s := c.srv
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	// As upstream, the first PING waits a whole interval until CONNECT
	// (which brings it forward, see processConnect): a connection that
	// has sent nothing gets no PING (2 minutes by default).
	c.pingTimer = time.AfterFunc(time.Duration(s.pingInterval.Load()), c.processPingTimer)
	if c.authPending {
		c.authTimer = time.AfterFunc(s.auth.Load().timeout, c.authTimeout)
	}
}

func firstPing(interval time.Duration) time.Duration {
	if interval > firstPingInterval {
		return firstPingInterval
	}
	return interval
}

// discardUntilClosed reads and drops input until the writer closes the
// socket, so the client sees our -ERR rather than a reset.
func (c *client) discardUntilClosed() {
	var b [512]byte
	for {
		if _, err := c.nc.Read(b[:]); err != nil {
			return
		}
	}
}

// readLoop reads and parses until the connection ends. For a client of a
// TLS listener, raw is the socket under c.nc and tlsInfo its INFO: the
// handshake happens here first.
func (c *client) readLoop(raw net.Conn, tlsInfo []byte) {
	s := c.srv
	defer s.wg.Done()
	if tlsInfo != nil {
		if !c.startTLS(raw, tlsInfo) {
			return
		}
		c.signal()
		c.startTimers()
	}
	buf := make([]byte, startReadBuf)
	first := true
	for {
		n, err := c.nc.Read(buf)
		if n > 0 && first {
			first = false
			// As upstream, a client that must authenticate and whose
			// first operation does not start like CONNECT is refused at
			// that byte, before the line is parsed.
			if c.authPending && buf[0]|0x20 != 'c' {
				if aerr := c.authWithoutConnect(); aerr != nil {
					c.parseError(aerr)
					return
				}
			}
		}
		if n > 0 {
			c.markBatch()
			if c.reloaded.Load() != nil {
				c.applyReloadedPerms()
			}
			c.inParse.Store(true)
			perr := c.parser.Parse(buf[:n], c)
			// Counters first: a client that got its PONG sees them in
			// /connz.
			c.flushStats()
			c.flushSignals()
			c.inParse.Store(false)
			if c.wantFlush.Swap(false) {
				c.flushOut() // own replies, on this goroutine
			}
			if perr != nil {
				c.parseError(perr)
				return
			}
			buf = c.resizeReadBuf(buf, n)
			if c.unauth {
				c.unauthHeld.Store(int64(cap(buf) + c.parser.Buffered()))
				c.chargeUnauth()
			}
		}
		if err != nil {
			// EOF, a reset or our own close: the client is gone.
			c.closeConnection(reasonClientClosed)
			return
		}
	}
}

func (c *client) resizeReadBuf(buf []byte, n int) []byte {
	switch {
	case n == len(buf) && len(buf) < maxReadBuf:
		c.shortReads = 0
		return make([]byte, len(buf)*2)
	case n < len(buf)/2 && len(buf) > startReadBuf:
		c.shortReads++
		if c.shortReads > shortReadsMax {
			c.shortReads = 0
			return make([]byte, len(buf)/2)
		}
	default:
		c.shortReads = 0
	}
	return buf
}

// flushStats moves the reader's counters into the server's totals once per
// read batch, so the message path does no atomic operations.
func (c *client) flushStats() {
	st := &c.srv.stats
	if c.inMsgs != 0 {
		st.InMsgs.Add(c.inMsgs)
		st.InBytes.Add(c.inBytes)
		if c.kind == kindClient {
			st.InClientMsgs.Add(c.inMsgs)
			st.InClientBytes.Add(c.inBytes)
		}
		c.inMsgsTotal.Add(c.inMsgs)
		c.inBytesTotal.Add(c.inBytes)
		c.inMsgs, c.inBytes = 0, 0
	}
	// Limits may change on reload; pick them up once per batch. The
	// account's own limit, if lower, wins.
	c.parser.MaxPayload = c.payloadLimit()
	c.pub.flushStats(st)
}

func (p *pubCtx) flushStats(st *Stats) {
	if p.linkOut.acc != nil {
		p.flushLinkOut()
	}
	if p.outMsgs != 0 {
		st.OutMsgs.Add(p.outMsgs)
		st.OutBytes.Add(p.outBytes)
		p.outMsgs, p.outBytes = 0, 0
	}
	if p.outClientMsgs != 0 {
		st.OutClientMsgs.Add(p.outClientMsgs)
		st.OutClientBytes.Add(p.outClientBytes)
		p.outClientMsgs, p.outClientBytes = 0, 0
	}
}

func (c *client) parseError(err error) {
	text := protocol.ClientText(err)
	reason := reasonParseError
	switch {
	case errors.Is(err, protocol.ErrMaxPayload):
		reason = reasonMaxPayload
	case errors.Is(err, protocol.ErrMaxControlLine):
		reason = reasonMaxControlLine
	case errors.Is(err, errAlreadyClosed):
		return
	}
	var ce *closeError
	if errors.As(err, &ce) {
		text, reason = ce.text, ce.reason
	}
	if text == "" {
		c.closeConnection(reason)
		return
	}
	c.sendErrAndClose(text, reason)
}

var (
	pingProto = protocol.AppendPing(nil)
	pongProto = protocol.AppendPong(nil)
	okProto   = protocol.AppendOK(nil)
	crlf      = []byte("\r\n")
)

// closeError makes the read loop close the connection after sending text.
type closeError struct {
	text   string
	reason closeReason
}

func (e *closeError) Error() string { return "server: " + e.text }

var errAlreadyClosed = errors.New("server: connection closed")

// HandleFrame processes one op from the client; it runs on the read
// goroutine.
func (c *client) HandleFrame(f *protocol.Frame) error {
	if c.traceOn.Load() {
		c.traceIn(f)
	}
	if c.unauth && f.Op != protocol.OpConnect {
		if c.authPending {
			if err := c.authWithoutConnect(); err != nil {
				return err
			}
		}
		c.leaveUnauth()
	}
	switch f.Op {
	case protocol.OpPub, protocol.OpHPub:
		return c.processPub(f)
	case protocol.OpSub:
		return c.processSub(f)
	case protocol.OpUnsub:
		return c.processUnsub(f)
	case protocol.OpPing:
		return c.processPing()
	case protocol.OpPong:
		c.processPong()
		return nil
	case protocol.OpConnect:
		return c.processConnect(f.Arg)
	case protocol.OpOK:
		return nil
	case protocol.OpInfo:
		// Ignored, but as upstream a client's INFO must be an INFO
		// document: anything else closes the connection silently.
		var info Info
		if err := json.Unmarshal(f.Arg, &info); err != nil {
			c.srv.log.Error(c.logPrefix() + " - " + err.Error())
			return &closeError{reason: reasonProtocolViolation}
		}
		return nil
	case protocol.OpErr:
		c.srv.log.Info(c.logPrefix() + " - Client error: " + string(f.Arg))
		return &closeError{reason: reasonClientClosed}
	default:
		return &closeError{text: protocol.TextUnknownOp, reason: reasonProtocolViolation}
	}
}

func (c *client) processConnect(arg []byte) error {
	// As upstream, a CONNECT sets the fields it names over the current
	// options: the defaults, or what an earlier CONNECT set.
	opts := c.opts
	if err := json.Unmarshal(arg, &opts); err != nil {
		// Upstream closes without a word to the client.
		c.srv.log.Error(c.logPrefix() + " - " + err.Error())
		return &closeError{reason: reasonProtocolViolation}
	}
	// A client may not pick its account (upstream dropped the sandbox
	// accounts a CONNECT could create): naming one is a violation.
	if opts.Account != "" || opts.AccountNew {
		c.srv.log.Error(c.logPrefix() + " - " + logTextAuthError + " (account in CONNECT)")
		return &closeError{text: errTextAuthViolation, reason: reasonAuthViolation}
	}
	// Then, in upstream's order, the credentials and the options.
	if err := c.authenticate(&opts); err != nil {
		c.srv.authErrorEvent(c, &opts, err)
		return err
	}
	if c.unauth {
		c.leaveUnauth()
	}
	if opts.Protocol < 0 || opts.Protocol > 1 {
		c.srv.log.Error(c.logPrefix() + " - " + errTextBadClientProtocol)
		return &closeError{text: errTextBadClientProtocol, reason: reasonBadClientProtocol}
	}
	if !c.srv.info.Headers {
		opts.Headers = false
	}
	if opts.NoResponders && !opts.Headers {
		return &closeError{text: errTextNoRespondersHeaders, reason: reasonProtocolViolation}
	}
	first := !c.connected
	c.opts = opts
	c.connected = true
	c.connectedAt = time.Now()
	c.mu.Lock()
	if first && c.pingTimer != nil && !c.closed {
		// The first PING, which measures the RTT, follows CONNECT soon.
		c.pingTimer.Reset(firstPing(time.Duration(c.srv.pingInterval.Load())))
	}
	c.headers = opts.Headers
	c.name, c.lang, c.version = opts.Name, opts.Lang, opts.Version
	c.connectSeen = true
	accName, authUser := c.acc.Name, c.authUser // a reload may change them
	c.mu.Unlock()
	if first {
		c.setLogPrefix(c.logPrefix() + connectTags(&opts, accName, authUser))
	}
	c.srv.connectEvent(c)
	if opts.Verbose {
		c.sendOK()
	}
	return nil
}

// logPrefix is how c's log lines begin: "host:port - cid:N" ("wid:" for
// WebSocket, the kind's tag for a link), and after the first accepted
// CONNECT also the tags connectTags adds, as upstream. The read goroutine
// sets it; any goroutine may read it (tracing a delivery, a reload
// closing the connection), hence the atomic pointer.
func (c *client) logPrefix() string {
	if p := c.prefix.Load(); p != nil {
		return *p
	}
	return ""
}

// setLogPrefix replaces c's log prefix.
func (c *client) setLogPrefix(p string) { c.prefix.Store(&p) }

// connectTags are the log prefix tags of an accepted CONNECT, as upstream
// 2.15.2 writes them (checked against its log): ` - "v1.2:go:name"` (the
// non-empty ones of version, lang and name) and ` - "ACC/user:u"`
// (nkey:<key> for an nkey user, token for a token, the CONNECT's user
// when the server requires no authentication), each left out when it
// would be empty.
func connectTags(opts *connectOpts, acc, authUser string) string {
	var tags, client string
	for _, part := range [...]string{cond(opts.Version != "", "v"+opts.Version), opts.Lang, opts.Name} {
		if part == "" {
			continue
		}
		if client != "" {
			client += ":"
		}
		client += part
	}
	if client != "" {
		tags = " - " + strconv.Quote(client)
	}
	var id string
	switch {
	case opts.Nkey != "" && authUser != "":
		id = acc + "/nkey:" + authUser
	case authUser != "":
		id = acc + "/user:" + authUser
	case opts.Token != "":
		id = acc + "/token"
	case opts.User != "":
		id = acc + "/user:" + opts.User
	}
	if id != "" {
		tags += " - " + strconv.Quote(id)
	}
	return tags
}

// cond returns s when ok, else "".
func cond(ok bool, s string) string {
	if ok {
		return s
	}
	return ""
}

func (c *client) processPing() error {
	c.mu.Lock()
	c.out.write(pongProto)
	c.mu.Unlock()
	if c.traceOn.Load() {
		c.traceOut("PONG")
	}
	if c.connected && !c.infoSent && c.opts.Protocol >= 1 {
		c.infoSent = true
		c.sendConnectInfo()
		c.mu.Lock()
		c.asyncInfo = true
		c.mu.Unlock()
	}
	c.queueFlush(c)
	return nil
}

func (c *client) processPong() {
	c.mu.Lock()
	c.pingsOut = 0
	if !c.rttStart.IsZero() {
		c.rtt = time.Since(c.rttStart)
		c.rttStart = time.Time{}
	}
	c.mu.Unlock()
}

// sendConnectInfo sends the INFO that follows the first PONG for
// protocol-1 clients, carrying connect_info and the client's account.
func (c *client) sendConnectInfo() {
	s := c.srv
	s.mu.Lock()
	info := s.info
	s.mu.Unlock()
	info.CID = c.cid
	info.ClientIP = c.host
	info.ConnectInfo = true
	info.MaxPayload = c.infoMaxPayload()
	info.RemoteAccount = c.acc.Name
	info.IsSystemAccount = c.acc == s.sysAcc
	b, _ := json.Marshal(&info)
	c.mu.Lock()
	c.out.write(protocol.AppendInfo(nil, b))
	c.mu.Unlock()
}

// HandleLine checks a PUB or HPUB at its control line, before the
// payload is read, as upstream does (so its answer comes even when the
// payload then proves malformed): a client that must authenticate is
// checked first; an HPUB from a client that did not announce headers
// closes the connection without a word; in pedantic mode a subject that
// is not a literal one gets 'Invalid Publish Subject' and the message
// still goes on (upstream only warns). It runs on the read goroutine.
func (c *client) HandleLine(f *protocol.Frame) error {
	if f.Op != protocol.OpPub && f.Op != protocol.OpHPub {
		return nil
	}
	if c.authPending {
		if err := c.authWithoutConnect(); err != nil {
			return err
		}
	}
	if f.Op == protocol.OpHPub && !c.opts.Headers {
		c.srv.log.Error(c.logPrefix() + " - message headers not supported")
		return &closeError{reason: reasonProtocolViolation}
	}
	if c.opts.Pedantic && !pedanticPubSubject(f.Subject) {
		c.sendErr(errTextInvalidPubSubject)
	}
	return nil
}

// processPub delivers a PUB or HPUB that HandleLine let through: the
// publish permission first, then +OK and delivery, as upstream.
func (c *client) processPub(f *protocol.Frame) error {
	c.inMsgs++
	c.inBytes += int64(len(f.Payload))
	var mt *msgTrace
	if c.acc.traceRequested(f.HeaderLen, f.Payload) {
		mt = newMsgTrace(c, snapshot.MsgTraceKindClient, c.opts.Name, c.acc, f.Subject, f.HeaderLen, f.Payload)
		if mt != nil && c.publisher != nil && !c.publisher.CanPublish([]byte(mt.dest)) && !c.allowReply([]byte(mt.dest)) {
			// As upstream: no events to a subject the publisher
			// may not publish to (CVE-2026-33249), nor the message.
			c.pubViolation([]byte(mt.dest))
			return nil
		}
	}
	if c.publisher != nil && !c.publisher.CanPublish(f.Subject) && !c.allowReply(f.Subject) {
		c.pubViolation(f.Subject)
		if mt != nil {
			mt.ingressError(errTextPubViolation + strconv.Quote(string(f.Subject)))
			c.srv.sendTrace(mt)
		}
		return nil
	}
	hdr := f.HeaderLen
	if hdr == 0 {
		// An empty header block is no header: upstream delivers the
		// message as MSG.
		hdr = -1
	}
	if c.opts.Verbose {
		// Before the delivery, as upstream: a client subscribed to
		// its own subject reads +OK, then MSG.
		c.sendOK()
	}
	c.pub.mt = mt
	c.srv.deliverMsg(&c.pub, c, c.acc, f.Subject, f.Reply, hdr, f.Payload)
	if mt != nil {
		c.pub.mt = nil
		mt.release()
	}
	if c.pub.refused {
		c.refusedPub(f.Subject)
	}
	return nil
}

// pedanticPubSubject reports whether subj passes upstream's pedantic
// publish check: no empty token and no wildcard token. Unlike a SUB's
// subject, other bytes (control bytes, a CR inside the line) are not
// checked. Wildcard subjects are published as they are (nats.go puts a
// consumer's wildcard filter into the subject of its CONSUMER.CREATE
// request, and KV watchers do): in pedantic mode with a warning.
func pedanticPubSubject(subj []byte) bool {
	start := 0
	for i := 0; i <= len(subj); i++ {
		if i < len(subj) && subj[i] != '.' {
			continue
		}
		switch tok := subj[start:i]; {
		case len(tok) == 0:
			return false
		case len(tok) == 1 && (tok[0] == '*' || tok[0] == '>'):
			return false
		}
		start = i + 1
	}
	return true
}

// processSub checks and registers a SUB in upstream's order: the
// subscribe permission, the subscription limit, a SID already in use
// (nothing happens), then the subject's validity.
func (c *client) processSub(f *protocol.Frame) error {
	subject := string(f.Subject)
	valid := sublist.ValidFilter(subject) && (len(f.Queue) == 0 || validQueue(f.Queue))
	var filter *auth.Checker
	if c.checker != nil {
		if !c.checker.CanSubscribe(subject, string(f.Queue)) {
			c.subViolation(subject, f.Queue, f.SID)
			return nil
		}
		if valid && c.checker.NeedsDeliveryFilter(subject) {
			filter = c.checker
		}
	}
	sid := string(f.SID)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return errAlreadyClosed
	}
	if max := c.maxSubs(); max >= 0 && len(c.subs) >= max {
		c.mu.Unlock()
		c.srv.log.Error(c.logPrefix() + " - maximum subscriptions exceeded")
		c.sendErr(errTextMaxSubs)
		return nil
	}
	if _, dup := c.subs[sid]; dup {
		c.mu.Unlock()
		if c.opts.Verbose {
			c.sendOK()
		}
		return nil
	}
	if !valid {
		c.mu.Unlock()
		c.sendErr(errTextInvalidSubject)
		return nil
	}
	sub := &subscription{client: c, subject: subject, queue: string(f.Queue), sid: []byte(sid)}
	if filter != nil {
		sub.filter.Store(filter)
	}
	c.subs[sid] = sub
	c.mu.Unlock()
	s := c.srv
	s.interestMu.RLock()
	err := c.acc.sl.Insert(sub.subject, sub.queue, sub)
	if err == nil {
		s.notifyFrom(ConnClient, nil, c.acc, sub.subject, sub.queue, true)
	}
	s.interestMu.RUnlock()
	if err != nil {
		c.mu.Lock()
		delete(c.subs, sid)
		c.mu.Unlock()
		c.sendErr(errTextInvalidSubject)
		return nil
	}
	// A reload's permission check or a close on another goroutine may
	// have dropped sub between its c.subs entry and the insert.
	c.mu.Lock()
	gone := sub.closed
	c.mu.Unlock()
	if gone {
		s.removeLocalSub(c.acc, sub)
		return nil
	}
	if c.opts.Verbose {
		c.sendOK()
	}
	return nil
}

// maxSubs is the client's subscription limit: the server's, or the
// account's or user JWT's when lower; negative is none (an account JWT
// may limit to 0).
func (c *client) maxSubs() int {
	n := int(c.srv.maxSubs.Load())
	if n <= 0 {
		n = -1
	}
	l := c.acc.lim()
	if a, ok := l.limit(l.MaxSubscriptions); ok && (n < 0 || a < n) {
		n = a
	}
	if u := c.jwtMaxSubs; u > 0 && (n < 0 || u < n) {
		n = u
	} else if u < 0 {
		n = 0 // the user JWT allows no subscription
	}
	return n
}

// validQueue: a queue group name is one or more non-space bytes.
func validQueue(q []byte) bool {
	for _, b := range q {
		if b == ' ' || b == '\t' || b == '\r' || b == '\n' {
			return false
		}
	}
	return true
}

func (c *client) processUnsub(f *protocol.Frame) error {
	c.mu.Lock()
	sub := c.subs[string(f.SID)]
	remove := false
	if sub != nil {
		if f.Max > 0 && sub.delivered < f.Max {
			sub.max = f.Max
		} else {
			remove = true
			sub.closed = true
			delete(c.subs, string(f.SID))
		}
	}
	c.mu.Unlock()
	if remove {
		c.srv.removeLocalSub(c.acc, sub)
		if c.traceOn.Load() {
			c.traceDelSub(sub.sid)
		}
	}
	if c.opts.Verbose {
		c.sendOK()
	}
	return nil
}

// removeLocalSub takes a local subscription out of acc's sublist and tells
// the interest listener.
func (s *Server) removeLocalSub(acc *Account, sub *subscription) {
	origin, _ := sub.origin()
	s.interestMu.RLock()
	if acc.sl.Remove(sub.subject, sub.queue, sub) == nil {
		s.notifyFrom(origin, nil, acc, sub.subject, sub.queue, false)
	}
	s.interestMu.RUnlock()
}

// deliverMsg sends a message published in acc to every matching
// subscription: all plain subscribers and one member of each queue group,
// then across the account's mappings, imports and exports (exports.go, crossaccount.go). from
// is the publisher (for echo and no-responders); it may be an internal
// client. A request nobody takes gets a no-responders status.
func (s *Server) deliverMsg(pc *pubCtx, from *client, acc *Account, subject, reply []byte, hdrLen int, payload []byte) {
	pc.from = from
	pc.origin = ConnClient
	if from.kind == kindInternal || from.kind == kindSession {
		pc.origin = ConnInProcess
	}
	var matched bool
	if acc.linked(subject) {
		matched = s.deliverLinked(pc, from, acc, subject, reply, hdrLen, payload, 0)
	} else {
		matched = s.deliverLocal(pc, from, acc, subject, reply, hdrLen, payload)
	}
	if !matched && len(reply) > 0 && from.opts.NoResponders && (pc.mt == nil || !pc.mt.only) {
		s.sendNoResponders(pc, from, subject, reply)
	}
}

// deliverLocal delivers to the subscriptions of acc alone and reports
// whether any matched.
func (s *Server) deliverLocal(pc *pubCtx, from *client, acc *Account, subject, reply []byte, hdrLen int, payload []byte) bool {
	r := acc.sl.MatchBytes(subject)
	if len(r.Plain) == 0 && len(r.Queues) == 0 {
		return false
	}
	var skip *client // the publisher, when it does not want its own messages
	if !from.opts.Echo {
		skip = from
	}
	pc.deliverPlain(r.Plain, nil, skip, subject, reply, hdrLen, payload)
	for i := range r.Queues {
		pc.queueDone(pc.deliverQueue(r.Queues[i].Members, nil, skip, subject, reply, hdrLen, payload))
	}
	if len(pc.routes) > 0 {
		switch {
		case pc.mt != nil:
			pc.mt.sendRoutes(pc, acc, subject, reply, hdrLen, payload)
		case pc.mtCut != nil:
			h, p := pc.mtCut.disabled(hdrLen, payload)
			pc.sendRoutes(acc, subject, reply, h, p)
		default:
			pc.sendRoutes(acc, subject, reply, hdrLen, payload)
		}
	}
	return true
}

// deliverRouted delivers a message that came over a link of kind origin:
// to local subscribers, and to the links whose forwarding policy admits
// origin (never back to the link it came from); for a route, none: one
// hop. Plain interest always; for each queue group named in queues one
// member, a local one first, else a link's weighted by its count.
func (s *Server) deliverRouted(pc *pubCtx, from *client, origin ConnKind, acc *Account, subject, reply []byte, queues [][]byte, hdrLen int, payload []byte) {
	pc.from = from
	// A response to a service import answered on another server is
	// delivered here on behalf of the importing account, as by this
	// server, so it may cross a route again.
	pc.origin = ConnInProcess
	if acc.links.Load() != nil && s.deliverRoutedResponse(pc, from, acc, subject, hdrLen, payload) {
		return
	}
	pc.origin = origin
	if acc.traceRequested(hdrLen, payload) {
		from.mu.Lock()
		name := from.name
		from.mu.Unlock()
		if pc.mt = newMsgTrace(from, snapshot.MsgTraceKindRouter, name, acc, subject, hdrLen, payload); pc.mt != nil {
			defer func(mt *msgTrace) { pc.mt = nil; mt.release() }(pc.mt)
		}
	}
	r := acc.sl.MatchBytes(subject)
	// A JetStream delivery to a requester here (Session.PublishAs on
	// another server) carries the subject to present after '@' in its
	// acknowledgement reply; links get it as it came.
	shown, shownReply := subject, reply
	if d, rr, ok := splitDeliver(reply); ok {
		shown, shownReply = d, rr
	}
	pc.deliverPlain(r.Plain, from, nil, shown, shownReply, hdrLen, payload)
	if len(queues) > 0 {
		for i := range r.Queues {
			if g := &r.Queues[i]; namedQueue(queues, g.Name) {
				pc.deliverQueue(g.Members, from, nil, shown, shownReply, hdrLen, payload)
			}
		}
	}
	if len(pc.routes) > 0 {
		if pc.mt != nil {
			pc.mt.sendRoutes(pc, acc, subject, reply, hdrLen, payload)
		} else {
			pc.sendRoutes(acc, subject, reply, hdrLen, payload)
		}
	}
}

// jsAckPrefix starts the acknowledgement subjects of JetStream deliveries.
var jsAckPrefix = []byte("$JS.ACK.")

// splitDeliver splits a JetStream acknowledgement reply with the
// presented subject appended ("$JS.ACK.<8 tokens>@<subject>", as
// upstream sends a consumer's delivery over a route or a leaf node
// connection) into the subject and the reply.
func splitDeliver(reply []byte) (subject, ack []byte, ok bool) {
	if !bytes.HasPrefix(reply, jsAckPrefix) {
		return nil, nil, false
	}
	dots := 0
	for i, b := range reply {
		switch b {
		case '.':
			dots++
		case '@':
			if dots >= 8 && i+1 < len(reply) {
				return reply[i+1:], reply[:i], true
			}
		}
	}
	return nil, nil, false
}

// deliverPlain delivers to every plain subscription in subs but skip's,
// and marks the links among them whose forwarding policy admits
// pc.origin, but back (the link a routed message came over; nil
// otherwise).
func (pc *pubCtx) deliverPlain(subs []*subscription, back, skip *client, subject, reply []byte, hdrLen int, payload []byte) {
	for _, sub := range subs {
		if sub.remote != nil {
			if sub.remote.forward.Allows(pc.origin) && sub.client != back && !pc.sameCluster(sub.remote) && sub.remote.allows(subject) {
				pc.addRoute(sub.client, nil)
			}
			continue
		}
		if skip == nil || sub.client != skip {
			pc.deliver(sub, subject, reply, hdrLen, payload)
		}
	}
}

// deliverQueue gives a message to one member of a queue group: a local
// one (not skip's) that takes it, starting at a random member, else a
// link's that pc.origin may be forwarded to (not back), chosen weighted
// by its count (a QueueLast link's only when no other link has one).
// It reports whether a member got it.
func (pc *pubCtx) deliverQueue(members []*subscription, back, skip *client, subject, reply []byte, hdrLen int, payload []byte) bool {
	n := len(members)
	start := 0
	if n > 1 {
		start = rand.IntN(n)
	}
	var remote, last *subscription // a link's member, weighted by its count
	var weights, lastWeights int32
	for j := range n {
		sub := members[(start+j)%n]
		if sub.remote != nil {
			if !sub.remote.forward.Allows(pc.origin) || sub.client == back || pc.sameCluster(sub.remote) || !sub.remote.allows(subject) {
				continue
			}
			w := max(sub.remote.weight.Load(), 1)
			if sub.remote.last {
				// A QueueLast link's member: only when there is no other.
				lastWeights += w
				if last == nil || rand.Int32N(lastWeights) < w {
					last = sub
				}
				continue
			}
			weights += w
			if remote == nil || rand.Int32N(weights) < w {
				remote = sub
			}
			continue
		}
		if skip != nil && sub.client == skip {
			continue
		}
		if pc.deliver(sub, subject, reply, hdrLen, payload) {
			return true
		}
	}
	if remote == nil {
		remote = last
	}
	if remote != nil {
		pc.addRoute(remote.client, remote.remote.qb)
		return true
	}
	return false
}

// sameCluster reports whether r is interest of the leaf node cluster the
// message came from.
func (pc *pubCtx) sameCluster(r *remoteSub) bool {
	return len(pc.cluster) > 0 && r.cluster == string(pc.cluster)
}

func namedQueue(queues [][]byte, name string) bool {
	for _, q := range queues {
		if string(q) == name {
			return true
		}
	}
	return false
}

// deliver appends one message to sub's client, or runs an internal
// handler. It reports whether the message was taken.
func (pc *pubCtx) deliver(sub *subscription, subject, reply []byte, hdrLen int, payload []byte) bool {
	if pc.mt != nil && (sub.sq != nil || sub.handler != nil) {
		if sub.sq != nil && sub.client.sess.traced {
			// The session reports its part (msgtrace.go), trace
			// only included.
			return pc.enqueue(sub, subject, reply, hdrLen, payload)
		}
		if pc.mt.egress(sub) {
			return true // trace only
		}
	}
	if sub.sq != nil {
		return pc.enqueue(sub, subject, reply, hdrLen, payload)
	}
	if sub.handler != nil {
		// pc's Msg is reused: a handler publishing again does so
		// through a pubCtx of its own.
		m := &pc.msg
		*m = Msg{Subject: subject, Reply: reply, Data: payload, from: pc.from}
		if hdrLen >= 0 {
			m.Header, m.Data = payload[:hdrLen], payload[hdrLen:]
		}
		sub.handler(m)
		*m = Msg{}
		pc.outMsgs++
		pc.outBytes += int64(len(payload))
		return true
	}
	if f := sub.filter.Load(); f != nil && !f.CanDeliver(subject) {
		return false
	}
	if pc.mt != nil && pc.mt.egress(sub) {
		return true // trace only
	}
	dc := sub.client
	dc.mu.Lock()
	if dc.closed || sub.closed {
		dc.mu.Unlock()
		return false
	}
	maxPending := dc.srv.maxPending.Load()
	var stall chan struct{}
	if int64(dc.out.pending()) > maxPending/4*3 {
		if dc.srv.noFastProducerStall.Load() {
			// Drop for this consumer only, as upstream's option does.
			dc.mu.Unlock()
			return false
		}
		if dc.stall == nil {
			dc.stall = make(chan struct{})
		}
		stall = dc.stall
	}
	last := false
	if sub.max > 0 {
		sub.delivered++
		if sub.delivered > sub.max {
			dc.mu.Unlock()
			return false
		}
		last = sub.delivered == sub.max
	} else {
		sub.delivered++
	}
	withHdr := hdrLen >= 0 && dc.headers
	if hdrLen >= 0 && !dc.headers {
		payload = payload[hdrLen:]
	}
	// The control line goes straight into the tail chunk when it fits;
	// room's estimate covers the longest line, so the append never moves.
	hdr := hdrLen
	if !withHdr {
		hdr = -1
	}
	if dc.sess != nil && dc.sess.enc != nil {
		dc.sess.encodeHeader(&dc.out, subject, sub.sid, reply, hdr, len(payload))
	} else if b := dc.out.room(len(subject) + len(sub.sid) + len(reply) + maxMsgLineOverhead); b != nil {
		dc.out.grew(appendMsgLine(b, subject, sub.sid, reply, hdr, len(payload)))
	} else {
		dc.out.write(appendMsgLine(nil, subject, sub.sid, reply, hdr, len(payload))) // longer than a chunk
	}
	dc.out.write(payload)
	dc.out.write(dc.trailer())
	if dc.replies != nil && len(reply) > 0 {
		// Recorded before the subscriber can see the message, so its
		// answer always finds it. Replies' lock is a leaf.
		dc.replies.Add(reply, time.Now())
	}
	dc.outMsgs++
	dc.outBytes += int64(len(payload))
	slow := int64(dc.out.pending()) > maxPending
	signal := !dc.flushPending
	dc.flushPending = true
	if last {
		sub.closed = true
		delete(dc.subs, string(sub.sid))
	}
	dc.mu.Unlock()

	pc.outMsgs++
	pc.outBytes += int64(len(payload))
	if dc.kind == kindClient {
		pc.outClientMsgs++
		pc.outClientBytes += int64(len(payload))
	}
	if dc.traceOn.Load() {
		dc.traceMsgOut(subject, sub.sid, reply, hdr, payload)
	}
	if last {
		dc.srv.removeLocalSub(dc.acc, sub)
		if dc.traceOn.Load() {
			dc.traceDelSub(sub.sid)
		}
	}
	if slow {
		dc.slowConsumer(reasonSlowConsumerPending, 0, 0)
		return true
	}
	if stall != nil && pc.stalled < maxStallPerBatch {
		dc.kickWriter() // the writer drains it now (not after this batch)
		pc.stallFor(stall)
		return true
	}
	if signal {
		pc.queueFlush(dc)
	}
	return true
}

// stallFor waits until the consumer's writer drains its backlog, within what
// is left of this batch's stall budget.
func (pc *pubCtx) stallFor(stall chan struct{}) {
	pc.stallUpTo(stall, maxStallPerBatch)
}

// stallUpTo waits until stall closes, within what is left of budget.
func (pc *pubCtx) stallUpTo(stall chan struct{}, budget time.Duration) {
	left := budget - pc.stalled
	if pc.stallTimer == nil {
		pc.stallTimer = time.NewTimer(left)
	} else {
		pc.stallTimer.Reset(left)
	}
	if pc.from != nil {
		pc.from.srv.stats.Stalls.Add(1)
	}
	start := time.Now()
	select {
	case <-stall:
	case <-pc.stallTimer.C:
	}
	pc.stallTimer.Stop()
	pc.stalled += time.Since(start)
}

// appendMsgLine appends the MSG control line, or HMSG when hdrLen >= 0.
func appendMsgLine(dst, subject, sid, reply []byte, hdrLen, size int) []byte {
	if hdrLen >= 0 {
		return protocol.AppendHMsgHeader(dst, subject, sid, reply, hdrLen, size)
	}
	return protocol.AppendMsgHeader(dst, subject, sid, reply, size)
}

// sendNoResponders answers a request nobody listens to with a 503 status
// message on the requester's reply subscription.
func (s *Server) sendNoResponders(pc *pubCtx, from *client, subject, reply []byte) {
	hdr := make([]byte, 0, 64+len(subject))
	hdr = append(hdr, "NATS/1.0 503\r\nNats-Subject: "...)
	hdr = append(hdr, subject...)
	hdr = append(hdr, "\r\n\r\n"...)
	r := from.acc.sl.MatchBytes(reply)
	for _, sub := range r.Plain {
		if sub.client == from {
			pc.deliver(sub, reply, nil, len(hdr), hdr)
			return
		}
	}
}

// queueFlush records that dc's writer must be woken at the end of the
// current batch.
func (pc *pubCtx) queueFlush(dc *client) {
	for _, x := range pc.pcd {
		if x == dc {
			return
		}
	}
	if len(pc.pcd) >= maxPCD {
		dc.signal()
		return
	}
	pc.pcd = append(pc.pcd, dc)
}

func (c *client) queueFlush(dc *client) { c.pub.queueFlush(dc) }

// flushSignals wakes the writers of every client that got data during the
// batch. After a batch read by an idle reader, the only one it may write
// itself (flushOrSignal): a request or a reply goes out without waking a
// goroutine, while the writes of a fan-out, or of a stream the reader can
// barely keep up with, stay on the writers' goroutines.
func (pc *pubCtx) flushSignals() {
	direct := pc.direct && len(pc.pcd) == 1
	for i, dc := range pc.pcd {
		if direct {
			dc.flushOrSignal()
		} else {
			dc.signal()
		}
		pc.pcd[i] = nil
	}
	pc.pcd = pc.pcd[:0]
	pc.stalled = 0
	pc.qFull = false
}

func (c *client) flushSignals() { c.pub.flushSignals() }

// signal wakes the writer goroutine (starting a lazy one). While the
// client's own read loop is parsing, the data waits for the end of its
// batch instead, when the read loop writes it itself: a reply to the
// client's own request goes out without waking another goroutine.
func (c *client) signal() {
	if c.inParse.Load() {
		c.wantFlush.Store(true)
		if c.inParse.Load() || !c.wantFlush.Swap(false) {
			return // the read loop flushes (or already took it)
		}
	}
	c.kickWriter()
}

// kickWriter wakes the writer goroutine, starting a lazy one.
func (c *client) kickWriter() {
	if c.lazyWriter && !c.writerOn.Load() && c.writerOn.CompareAndSwap(false, true) {
		go c.writeLoop()
	}
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *client) writeLoop() {
	defer c.srv.wg.Done()
	for {
		select {
		case <-c.kick:
			if !c.flushOut() {
				<-c.done
				c.nc.Close()
				return
			}
		case <-c.done:
			c.mu.Lock()
			flush := c.flushOnClose
			c.mu.Unlock()
			if flush {
				c.waitWriting()
				c.flushOut()
			}
			c.nc.Close()
			return
		}
	}
}

// waitWriting waits, within the write deadline, until no other goroutine
// is writing the socket (the read loop flushing its own replies, a
// Session.Write): what it left queued is the writer's to flush before the
// socket closes. A close is rare and such a write short; it polls.
func (c *client) waitWriting() {
	deadline := time.Now().Add(time.Duration(c.srv.writeDeadline.Load()))
	for {
		c.mu.Lock()
		busy := c.writing
		c.mu.Unlock()
		if !busy || time.Now().After(deadline) {
			return
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// flushOut writes everything pending. It returns false after a write
// failure, having closed the connection.
func (c *client) flushOut() bool {
	c.mu.Lock()
	c.flushPending = false
	if c.out.queued == 0 || c.writing {
		// Nothing to write, or another goroutine is on the socket (the
		// reader flushing its own replies, a Session.Write): it signals
		// again when it is done.
		c.mu.Unlock()
		return true
	}
	c.writing = true
	chs := c.out.take()
	c.mu.Unlock()

	wd := time.Duration(c.srv.writeDeadline.Load())
	if c.link != nil && c.link.wd > 0 {
		wd = c.link.wd
	}
	c.nc.SetWriteDeadline(time.Now().Add(wd))
	var err error
	if c.kind == kindLink {
		err = c.writeLink(chs, wd)
	} else {
		err = writeChunks(c.nc, chs, &c.iov)
	}
	nch, nbytes := len(chs), 0
	if err != nil {
		for _, t := range chs {
			nbytes += len(t.b)
		}
	}
	releaseChunks(chs)

	c.mu.Lock()
	c.writing = false
	c.out.done(chs)
	if c.stall != nil && int64(c.out.pending()) <= c.srv.maxPending.Load()/4*3 {
		close(c.stall)
		c.stall = nil
	}
	// What was queued meanwhile (its signal may have found the socket
	// busy) goes next, through the writer.
	again := err == nil && c.out.queued > 0 && !c.closed
	if again {
		c.flushPending = true
	}
	c.mu.Unlock()
	if again {
		c.kickWriter()
	}
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			c.slowConsumer(reasonSlowConsumerWriteDeadline, nch, nbytes)
		} else {
			c.closeConnection(reasonWriteError)
		}
		return false
	}
	return true
}

// slowConsumer closes c as a slow consumer and logs it. For a write past
// the write deadline, chunks and bytes are what the write attempted: the
// line ends with them, as upstream's "... exceeded with 3 chunks of 1024
// total bytes.".
func (c *client) slowConsumer(reason closeReason, chunks, bytes int) {
	c.mu.Lock()
	already := c.closed
	c.mu.Unlock()
	if already {
		return
	}
	kind, wd := ConnClient, time.Duration(c.srv.writeDeadline.Load())
	if c.link != nil {
		kind = c.link.kind
		if c.link.wd > 0 {
			wd = c.link.wd
		}
	}
	c.srv.stats.countSlow(kind)
	detail := "MaxPending of " + strconv.FormatInt(c.srv.maxPending.Load(), 10) + " exceeded"
	if reason == reasonSlowConsumerWriteDeadline {
		detail = "WriteDeadline of " + wd.String() + " exceeded"
		if chunks > 0 { // as upstream, for every kind of connection
			detail += " with " + strconv.Itoa(chunks) + " chunks of " + strconv.Itoa(bytes) + " total bytes."
		}
	}
	c.srv.log.Info(c.logPrefix() + " - Slow Consumer Detected: " + detail)
	c.closeConnection(reason)
}

func (c *client) processPingTimer() {
	s := c.srv
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	if c.pingsOut+1 > int(s.maxPingsOut.Load()) {
		c.mu.Unlock()
		s.stats.countStale(ConnClient)
		c.debugf("Stale Client Connection - Closing")
		c.sendErrAndClose(errTextStale, reasonStaleConnection)
		return
	}
	c.pingsOut++
	c.rttStart = time.Now()
	c.out.write(pingProto)
	c.pingTimer.Reset(time.Duration(s.pingInterval.Load()))
	c.mu.Unlock()
	if c.traceOn.Load() {
		c.traceOut("PING")
	}
	c.signal()
}

func (c *client) sendOK() {
	c.mu.Lock()
	c.out.write(okProto)
	c.mu.Unlock()
	if c.traceOn.Load() {
		c.traceOut("OK")
	}
	c.queueFlush(c)
}

// sendErr sends -ERR 'text' and keeps the connection open.
func (c *client) sendErr(text string) {
	c.mu.Lock()
	c.out.write(protocol.AppendErr(nil, text))
	c.mu.Unlock()
	if c.traceOn.Load() {
		c.traceOut("-ERR '" + text + "'")
	}
	c.queueFlush(c)
}

// sendErrAndClose sends -ERR 'text', flushes it and closes.
func (c *client) sendErrAndClose(text string, reason closeReason) {
	c.mu.Lock()
	if !c.closed {
		c.out.write(protocol.AppendErr(nil, text))
	}
	c.mu.Unlock()
	c.closeConnection(reason)
}

// sendLameDuckInfo sends info to c whether or not it asked for
// asynchronous INFO (lame duck mode tells every client); sendAsyncInfo
// checks first.
func (c *client) sendLameDuckInfo(info Info) {
	info.CID = c.cid
	info.ClientIP = c.host
	b, _ := json.Marshal(&info)
	c.mu.Lock()
	if !c.closed {
		c.out.write(protocol.AppendInfo(nil, b))
	}
	c.mu.Unlock()
	c.signal()
}

// closeConnection closes the client once: it drops its subscriptions,
// leaves the server and lets the writer flush what is pending (unless the
// reason forbids it) before the socket closes.
func (c *client) closeConnection(reason closeReason) {
	c.closeWith(reason, reason.flushes())
}

// closeWith is closeConnection, flushing what is pending when flush.
func (c *client) closeWith(reason closeReason, flush bool) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.reason = reason
	c.stop = time.Now()
	c.flushOnClose = flush
	if !c.flushOnClose {
		c.out.drop()
	}
	// Nothing left to write: the socket closes now rather than when the
	// writer wakes up (the peer sees its FIN one goroutine switch sooner).
	closeNow := !flush || (c.out.pending() == 0 && !c.writing)
	if c.stall != nil {
		close(c.stall)
		c.stall = nil
	}
	var subs []sublist.Sub[*subscription]
	var linkSubs map[string]*subscription
	if c.kind == kindLink {
		linkSubs = c.subs
		c.subs = nil
		for _, sub := range linkSubs {
			sub.closed = true
		}
	} else {
		subs = make([]sublist.Sub[*subscription], 0, len(c.subs))
		for _, sub := range c.subs {
			sub.closed = true
			subs = append(subs, sublist.Sub[*subscription]{Subject: sub.subject, Queue: sub.queue, Value: sub})
		}
	}
	if c.pingTimer != nil {
		c.pingTimer.Stop()
	}
	if c.authTimer != nil {
		c.authTimer.Stop()
		c.authTimer = nil
	}
	if c.jwtTimer != nil {
		c.jwtTimer.Stop()
		c.jwtTimer = nil
	}
	acc := c.acc // set under the lock by authentication
	counted := c.accCounted
	c.accCounted = false
	c.mu.Unlock()
	if counted {
		acc.conns.Add(-1)
	}
	if c.kind == kindClient {
		c.removeUnauth()
	}

	s := c.srv
	if c.kind == kindLink {
		if !reason.flushes() && c.nc != nil {
			c.nc.Close()
		}
		close(c.done)
		c.closeLink(linkSubs, reason)
		return
	}
	if len(subs) > 0 {
		s.interestMu.RLock()
		_ = acc.sl.RemoveBatch(subs) // each was in the sublist: c.subs tracks them
		for _, sub := range subs {
			s.notifyFrom(ConnClient, nil, acc, sub.Subject, sub.Queue, false)
		}
		s.interestMu.RUnlock()
		if c.traceOn.Load() {
			for _, sub := range subs {
				c.traceDelSub(sub.Value.sid)
			}
		}
	}
	c.mu.Lock()
	acc, outMsgs, outBytes := c.acc, c.outMsgs, c.outBytes
	c.mu.Unlock()
	s.mu.Lock()
	delete(s.clients, c.cid)
	if c.userConn() && acc != nil {
		// Under s.mu, where accountCounts reads the open clients and
		// these, so that a client counts once.
		cl := &acc.closed
		cl.inMsgs.Add(c.inMsgsTotal.Load())
		cl.inBytes.Add(c.inBytesTotal.Load())
		cl.outMsgs.Add(outMsgs)
		cl.outBytes.Add(outBytes)
	}
	if c.kind == kindSession {
		if _, ok := s.sessions[c.cid]; ok && c.userConn() {
			s.sessClients--
		}
		delete(s.sessions, c.cid)
	}
	s.mu.Unlock()
	if c.sess != nil {
		c.sess.q.close() // a slow consumer or a shutdown ends its goroutine
	}
	// The closed-connection record lists the subscriptions, so they are
	// dropped from the client only after it was taken.
	s.recordClosed(c)
	s.disconnectEvent(c)
	c.mu.Lock()
	c.subs = nil
	c.mu.Unlock()
	if closeNow && c.nc != nil {
		// A blocked writer must not hold the goroutine either: closing
		// the socket ends its write.
		c.nc.Close()
	}
	close(c.done)
	if c.lazyWriter && c.writerOn.CompareAndSwap(false, true) {
		// The writer never started: nothing was signalled. What a batch
		// queued and has not signalled yet is flushed by starting it now.
		if closeNow {
			c.srv.wg.Done()
		} else {
			go c.writeLoop()
		}
	}
	if c.srv.log.Enabled(context.Background(), slog.LevelDebug) {
		c.debugf("Client connection closed: " + reason.String())
	}
}

func (c *client) debugf(msg string) {
	if c.srv.log.Enabled(context.Background(), slog.LevelDebug) {
		c.srv.log.Debug(c.logPrefix() + " - " + msg)
	}
}

func (c *client) traceIn(f *protocol.Frame) {
	var line string
	switch f.Op {
	case protocol.OpPub, protocol.OpHPub:
		line = f.Op.String() + " " + string(f.Subject)
		if len(f.Reply) > 0 {
			line += " " + string(f.Reply)
		}
		if f.HeaderLen >= 0 {
			line += " " + strconv.Itoa(f.HeaderLen)
		}
		line += " " + strconv.Itoa(len(f.Payload))
	case protocol.OpSub:
		line = "SUB " + string(f.Subject)
		if len(f.Queue) > 0 {
			line += " " + string(f.Queue)
		}
		line += " " + string(f.SID)
	case protocol.OpUnsub:
		line = "UNSUB " + string(f.SID)
		if f.Max > 0 {
			line += " " + strconv.FormatInt(f.Max, 10)
		}
	case protocol.OpConnect:
		line = "CONNECT " + redactConnect(f.Arg)
	default:
		line = f.Op.String()
	}
	c.trace("<<- [" + line + "]")
	if f.Op == protocol.OpPub || f.Op == protocol.OpHPub {
		c.tracePayload(true, f.Payload)
	}
}
