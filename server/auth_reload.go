package server

import (
	"reflect"
	"strconv"

	"natsd.dev/auth"
	"natsd.dev/protocol"
)

// Reloading authorization, as upstream does on a configuration reload:
//
//  1. Reload builds a new serverAuth from the new options and swaps the
//     server's pointer under Server.mu; new connections authenticate
//     against it from then on.
//  2. Every client that authenticated against an older chain is checked
//     again with the credentials it gave (client.authReq), on the
//     reloading goroutine, holding no lock but each client's mu briefly:
//     - a client whose user (name or nkey) is gone, or is now bound to
//     another account, is closed (reason Client Closed: it reconnects
//     and authenticates anew, as upstream);
//     - a client whose credentials no longer authenticate (a changed
//     password or token) gets -ERR 'Authorization Violation' and is
//     closed (Authentication Failure);
//     - a client that stays keeps its account and gets the new
//     permissions: its subscriptions the new permissions refuse are
//     removed with -ERR 'Permissions Violation for Subscription to
//     "subject" (sid "1")', the others get the new delivery filter, and
//     the read loop takes the new publish permissions before its next
//     batch (client.reloaded), so the publish path stays lock-free.
//
// A client still authenticating when the pointer is swapped cannot bind
// to the old chain: bindIdentity compares the chain it used with the
// server's under client.mu and starts again when they differ.
//
// Sessions that Attach authenticated with credentials (session.go) are
// checked the same way, as their users' socket clients: one that fails
// is closed without an -ERR (Session.Done, Session.CloseReason tell its
// owner); one that stays gets the new permissions at once (there is no
// read loop: Subscribe reads the checker under client.mu, Publish the
// publisher under sessInfo.pubMu) and loses the subscriptions they
// refuse, logged as a client's are. Attach lists a session under
// Server.mu only if it authenticated against the current chain, else it
// authenticates anew, so a reload sees every session bound to an old
// chain.

// permsUpdate carries a client's reloaded permissions to its read loop;
// checker nil means none (everything allowed).
type permsUpdate struct {
	checker *auth.Checker
}

// reloadAuth returns the serverAuth for o, or cur when the authorization
// options did not change (so a reload of something else costs no bcrypt
// comparisons) and the accounts stay the same (accsChanged false); the
// users are checked against accs, the accounts after the reload.
// verify_and_map is not reloadable: the running value is kept. s.mu is
// held.
func (s *Server) reloadAuth(o *Options, cur *serverAuth, accs map[string]*Account, accsChanged bool) (*serverAuth, error) {
	if !accsChanged && o.AuthTimeout == s.opts.AuthTimeout && reflect.DeepEqual(o.Authorization, s.opts.Authorization) {
		return cur, nil
	}
	no := *o
	no.TLSMap = s.opts.TLSMap
	sa, err := newServerAuth(&no, accs)
	if err == nil {
		s.operatorChain(sa)
	}
	return sa, err
}

// recheckAuth checks every client in cs against sa (see above).
func (s *Server) recheckAuth(sa *serverAuth, cs []*client) {
	for _, c := range cs {
		if c.kind == kindClient || c.kind == kindSession {
			s.recheckClient(sa, c)
		}
	}
}

func (s *Server) recheckClient(sa *serverAuth, c *client) {
	c.mu.Lock()
	b, acc, closed := c.bound, c.acc, c.closed
	c.mu.Unlock()
	if closed || b == nil || b.sa == sa {
		// Not authenticated yet (it will use sa), or already against sa.
		return
	}
	req := b.req
	if b.callout && (s.op != nil || (sa.cfg != nil && sa.cfg.Callout != nil)) {
		return // granted by the callout service, which a reload does not ask again
	}
	if !sa.tlsMap && (req.User != "" || req.Nkey != "") && !sa.cfg.HasUser(req) {
		c.debugf("Closing connection: user removed by configuration reload")
		c.closeConnection(reasonClientClosed)
		return
	}
	id := &auth.Identity{}
	var err error
	if sa.chain != nil {
		id, err = sa.chain.Authenticate(req)
	}
	if err != nil {
		_ = c.authViolation(sa, req, err) // logs like a failed login
		if c.kind == kindSession {
			c.closeConnection(reasonAuthViolation) // no NATS protocol to tell
			return
		}
		c.sendErrAndClose(errTextAuthViolation, reasonAuthViolation)
		return
	}
	if nacc, err := s.identityAccount(id); err != nil || nacc != acc {
		c.debugf("Closing connection: user moved to another account by configuration reload")
		c.closeConnection(reasonClientClosed)
		return
	}
	// The allow_responses tracker changes here, not on the read loop, so
	// that replies delivered before the client's next read are tracked
	// with the new setting; an unchanged setting keeps what it tracks.
	nr := id.Checker.Response()
	c.mu.Lock()
	if c.bound == b {
		c.bound = &authBinding{req: req, sa: sa, id: id}
		c.authUser = id.Name
		if or := b.id.Checker.Response(); nr == nil || or == nil || *nr != *or {
			c.replies = auth.NewReplies(nr)
		}
	}
	replies := c.replies
	c.mu.Unlock()
	if c.kind == kindSession {
		c.sess.setPerms(c, id.Checker, replies)
		c.reloadSubs(id.Checker, req)
		return
	}
	// Publish permissions first, then the subscriptions: the read loop
	// checks them again when it takes the update, which catches a SUB it
	// was processing with the old permissions meanwhile.
	c.reloaded.Store(&permsUpdate{checker: id.Checker})
	c.reloadSubs(id.Checker, req)
}

// applyReloadedPerms takes permissions a reload stored for the client.
// It runs on the read loop, which owns checker and publisher, between
// two batches.
func (c *client) applyReloadedPerms() {
	u := c.reloaded.Swap(nil)
	if u == nil {
		return
	}
	c.checker = u.checker
	c.publisher = nil
	if p := u.checker.Permissions(); p != nil && p.Publish != nil {
		c.publisher = u.checker.NewPublisher()
	}
	var req *auth.Request
	c.mu.Lock()
	if c.bound != nil {
		req = c.bound.req
	}
	c.mu.Unlock()
	c.reloadSubs(u.checker, req)
}

// reloadSubs applies new permissions to the client's subscriptions: the
// ones they refuse are removed (with upstream's -ERR and log line), the
// others get their delivery filter. It runs on the reloading goroutine
// and again on the read loop when it takes the update; whichever comes
// second finds nothing left to remove. Checker methods take no lock, so
// they are called under c.mu.
func (c *client) reloadSubs(ch *auth.Checker, req *auth.Request) {
	var removed []*subscription
	c.mu.Lock()
	acc := c.acc
	for sid, sub := range c.subs {
		if ch != nil && !ch.CanSubscribe(sub.subject, sub.queue) {
			sub.closed = true
			delete(c.subs, sid)
			removed = append(removed, sub)
			continue
		}
		var f *auth.Checker
		if ch != nil && ch.NeedsDeliveryFilter(sub.subject) {
			f = ch
		}
		if sub.filter.Load() != f {
			sub.filter.Store(f)
		}
	}
	c.mu.Unlock()
	if len(removed) == 0 {
		return
	}
	s := c.srv
	who := logName("", "")
	if req != nil {
		who = logName(req.Nkey, req.User)
	}
	for _, sub := range removed {
		s.removeLocalSub(acc, sub)
		qs, qsid := strconv.Quote(sub.subject), strconv.Quote(string(sub.sid))
		if c.kind != kindSession { // a session's Conn speaks no NATS -ERR
			c.mu.Lock()
			c.out.write(protocol.AppendErr(nil, errTextSubViolation+qs+" (sid "+qsid+")"))
			c.mu.Unlock()
		}
		s.log.Info("Removed sub " + qs + " (sid " + qsid + ") for " + who + " - not authorized")
	}
	if c.kind != kindSession {
		c.signal()
	}
}
