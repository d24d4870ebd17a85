package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"natsd.dev/auth"
)

// Auth callout (authorization { auth_callout }): a client that is not
// one of the callout's auth_users is authorized by a service answering
// on $SYS.REQ.USER.AUTH in the callout account. Package auth builds the
// request and checks the response; the server carries them over an
// in-process session of the callout account and binds what comes back.

// calloutTransport is the server's side of callouts: its keys and one
// session per callout account that sends requests and takes replies.
type calloutTransport struct {
	// keys are the server's nkey, whose public key (id) is the server id
	// and signs the requests, and its curve key (public key xpub, in INFO
	// as upstream's "xkey"), which encrypted responses are sealed for.
	// Set at New, never changed.
	keys     auth.CalloutKeys
	id, xpub string

	mu    sync.Mutex
	links map[string]*calloutLink
}

// newCalloutTransport makes the server's keys.
func newCalloutTransport() (*calloutTransport, error) {
	keys, id, xpub, err := auth.NewCalloutKeys()
	if err != nil {
		return nil, errors.New("server: generating id: " + err.Error())
	}
	return &calloutTransport{keys: keys, id: id, xpub: xpub}, nil
}

// calloutLink is the session of one callout account.
type calloutLink struct {
	sess    *Session
	prefix  string // reply subjects are prefix + a sequence number
	mu      sync.Mutex
	seq     uint64
	pending map[string]chan []byte
}

// checkCallout refuses allowed_accounts that name no account of accs, as
// upstream's configuration check does.
func checkCallout(co *auth.Callout, accs map[string]*Account) error {
	if co == nil {
		return nil
	}
	for _, a := range co.AllowedAccounts {
		if accs[a] == nil {
			return fmt.Errorf("%w: auth_callout allowed account %q not found in configured accounts", ErrBadOptions, a)
		}
	}
	return nil
}

// needsCallout reports whether a client that the chain authenticated as
// id (err nil) or refused (err) goes to the callout of sa, as upstream
// decides: everyone but the auth_users, and, with allowed_accounts, only
// users of those accounts or of none.
func needsCallout(sa *serverAuth, id *auth.Identity, err error) bool {
	co := sa.cfg.Callout
	if err != nil {
		return true
	}
	if co.IsAuthUser(id.Name) {
		return false
	}
	return co.Delegates(id.Account)
}

// calloutAuth completes the chain's answer (id or err) for a server
// with auth_callout: the callout decides for everyone but the auth_users,
// and clients of the callout account may not publish requests to it.
// It reports whether the identity came from the callout.
func (c *client) calloutAuth(sa *serverAuth, req *auth.Request, opts *connectOpts, id *auth.Identity, err error) (*auth.Identity, *Account, bool, error) {
	viaCallout := needsCallout(sa, id, err)
	if viaCallout {
		id, err = c.callout(sa, sa.cfg.Callout, req, opts)
	}
	if err != nil {
		return nil, nil, false, err
	}
	acc, err := c.srv.identityAccount(id)
	if err != nil {
		return nil, nil, false, err
	}
	if acc.Name == sa.cfg.Callout.Account {
		if id, err = withCalloutDeny(id); err != nil {
			return nil, nil, false, err
		}
	}
	return id, acc, viaCallout, nil
}

// callout asks the callout service of sa about req and returns the
// identity it grants. It runs on the client's read goroutine, which it
// blocks for at most the auth timeout.
func (c *client) callout(sa *serverAuth, co *auth.Callout, req *auth.Request, opts *connectOpts) (*auth.Identity, error) {
	s := c.srv
	if s.LookupAccount(co.Account) == nil {
		text := "No valid account " + strconv.Quote(co.Account) + " for auth callout request: account missing"
		s.log.Warn(text)
		return nil, &auth.CalloutError{Text: text}
	}
	keys := s.callout.keys
	s.mu.Lock()
	srvInfo := auth.CalloutServer{Name: s.info.Name, Host: s.info.Host, ID: s.info.ID, Version: s.info.Version, Tags: s.opts.Tags}
	s.mu.Unlock()
	if cn := s.clusterName.Load(); cn != nil {
		srvInfo.Cluster = *cn
	}
	ci := auth.CalloutClient{Host: c.host, ID: c.cid, Kind: "Client", Type: "nats"}
	switch {
	case c.sess != nil: // a front end's user (MQTT)
		ci.Kind, ci.Type, ci.MQTT = c.sess.kind, c.sess.typ, c.sess.mqtt
		ci.Name, ci.Lang, ci.Version = c.name, c.lang, c.version
	case c.ws:
		ci.Type = "websocket"
	}
	switch {
	case req.Nkey != "":
		ci.User = req.Nkey
	case req.User != "":
		ci.User = req.User
	}
	if opts != nil {
		ci.Name, ci.Lang, ci.Version, ci.Protocol = opts.Name, opts.Lang, opts.Version, opts.Protocol
	}
	timeout := sa.timeout
	ex, err := co.NewExchange(srvInfo, ci, req, timeout, keys)
	if err != nil {
		s.log.Warn(err.Error())
		return nil, err
	}
	resp, err := s.callout.request(s, co.Account, ex, timeout, c.done)
	if err != nil {
		return nil, err
	}
	var id *auth.Identity
	if s.op != nil {
		id, err = ex.DecideJWT(resp, jwtAccounts{s})
	} else {
		id, err = ex.Decide(resp, func(name string) bool { return s.LookupAccount(name) != nil })
	}
	if err != nil {
		s.log.Warn(err.Error())
		return nil, err
	}
	return id, nil
}

// request sends ex's request in account and waits up to timeout for the
// reply's payload, or until cancel closes (the client went away: its
// auth timer, which started earlier, fires first).
func (t *calloutTransport) request(s *Server, account string, ex *auth.CalloutExchange, timeout time.Duration, cancel <-chan struct{}) ([]byte, error) {
	l, err := t.link(s, account)
	if err != nil {
		text := "Error setting up reply subscription for auth request: " + err.Error()
		s.log.Warn(text)
		return nil, &auth.CalloutError{Text: text}
	}
	ch := make(chan []byte, 1)
	l.mu.Lock()
	l.seq++
	reply := l.prefix + strconv.FormatUint(l.seq, 10)
	l.pending[reply] = ch
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		delete(l.pending, reply)
		l.mu.Unlock()
	}()
	var hdr []byte
	if k := ex.XKeyHeader(); k != "" {
		hdr = []byte("NATS/1.0\r\n" + auth.CalloutXKeyHeader + ": " + k + "\r\n\r\n")
	}
	if err := l.sess.Publish(auth.CalloutSubject, reply, hdr, ex.Payload()); err != nil {
		text := "Error sending authorization request: " + err.Error()
		s.log.Debug(text)
		return nil, &auth.CalloutError{Text: text}
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case resp := <-ch:
		return resp, nil
	case <-timer.C:
	case <-l.sess.Done():
	case <-s.quit:
	case <-cancel:
	}
	text := "Authorization callout response not received in time on account " + strconv.Quote(account)
	s.log.Debug(text)
	return nil, &auth.CalloutError{Text: text}
}

// link returns the session of account, attaching it (again, if the
// server closed it) as needed.
func (t *calloutTransport) link(s *Server, account string) (*calloutLink, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if l := t.links[account]; l != nil {
		select {
		case <-l.sess.Done():
		default:
			return l, nil
		}
	}
	sess, err := s.Attach(SessionOptions{Account: account, Kind: SessionSystem, Name: "auth callout", Drop: true})
	if err != nil {
		return nil, err
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	l := &calloutLink{sess: sess, prefix: "$SYS._INBOX." + hex.EncodeToString(b[:]) + ".", pending: make(map[string]chan []byte)}
	if _, err := sess.Subscribe(l.prefix+"*", "", l.deliver); err != nil {
		_ = sess.Close()
		return nil, err
	}
	if t.links == nil {
		t.links = make(map[string]*calloutLink)
	}
	t.links[account] = l
	return l, nil
}

// deliver hands a reply to the request waiting for it; a reply nobody
// waits for (late, or a second one) is dropped.
func (l *calloutLink) deliver(m *Msg) {
	l.mu.Lock()
	ch := l.pending[string(m.Subject)]
	l.mu.Unlock()
	if ch == nil {
		return
	}
	select {
	case ch <- append([]byte(nil), m.Data...):
	default:
	}
}

// operatorCallout completes a user JWT's authentication (id, into acc)
// in operator mode: when acc's JWT has an authorization section and the
// user is not one of its auth_users, the callout service of acc decides,
// as upstream. It reports whether the identity came from the callout.
func (c *client) operatorCallout(sa *serverAuth, req *auth.Request, opts *connectOpts, id *auth.Identity, acc *Account) (*auth.Identity, *Account, bool, error) {
	s := c.srv
	ac := s.op.cached(acc.Name)
	if ac == nil || ac.Callout == nil {
		return id, acc, false, nil
	}
	co := ac.Callout
	via := !co.IsAuthUser(id.Name)
	if via {
		nid, err := c.callout(sa, co, req, opts)
		if err != nil {
			return nil, nil, false, err
		}
		nacc, err := s.identityAccount(nid)
		if err != nil {
			return nil, nil, false, err
		}
		id, acc = nid, nacc
		if acc.Name != co.Account {
			return id, acc, true, nil
		}
	}
	id, err := withCalloutDeny(id)
	if err != nil {
		return nil, nil, false, err
	}
	return id, acc, via, nil
}

// withCalloutDeny returns id with publishing to $SYS.REQ.USER.AUTH
// denied, as upstream does for every client of the callout account.
func withCalloutDeny(id *auth.Identity) (*auth.Identity, error) {
	p := &auth.Permissions{}
	if id.Permissions != nil {
		*p = *id.Permissions
	}
	pub := &auth.SubjectPermission{}
	if p.Publish != nil {
		*pub = *p.Publish
	}
	pub.Deny = append(append([]string(nil), pub.Deny...), auth.CalloutSubject)
	p.Publish = pub
	ch, err := auth.NewChecker(p)
	if err != nil {
		return nil, err
	}
	nid := *id
	nid.Permissions, nid.Checker = p, ch
	return &nid, nil
}
