package resolver

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"natsd.dev/auth"
	"natsd.dev/server"
	"natsd.dev/server/snapshot"
)

// Subjects of the resolvers' $SYS requests, as upstream names them.
const (
	// SubjectClaimsUpdate takes an account JWT in the body.
	SubjectClaimsUpdate = "$SYS.REQ.CLAIMS.UPDATE"
	// SubjectClaimsList answers the public keys of the stored accounts.
	SubjectClaimsList = "$SYS.REQ.CLAIMS.LIST"
	// SubjectClaimsDelete takes a JWT signed by an operator key listing
	// the accounts to delete.
	SubjectClaimsDelete = "$SYS.REQ.CLAIMS.DELETE"
	// SubjectClaimsPack is the full resolvers' synchronization request.
	SubjectClaimsPack = "$SYS.REQ.CLAIMS.PACK"

	accReqPrefix    = "$SYS.REQ.ACCOUNT."
	accEventPrefix  = "$SYS.ACCOUNT."
	claimsUpdate    = ".CLAIMS.UPDATE"
	claimsLookup    = ".CLAIMS.LOOKUP"
	inboxPrefix     = "$SYS._INBOX_RES."
	sessionQueueLen = 1024
)

// DefaultFetchTimeout is how long a fetch from the other servers waits
// (timeout), as upstream's.
const DefaultFetchTimeout = 1900 * time.Millisecond

// DefaultInterval is how often a full resolver compares its JWTs with
// the other servers' (interval).
const DefaultInterval = time.Minute

// DefaultCacheLimit is the cache resolver's limit when none is given.
const DefaultCacheLimit = 1000

// UpdateSubject returns $SYS.REQ.ACCOUNT.<pub>.CLAIMS.UPDATE.
func UpdateSubject(pub string) string { return accReqPrefix + pub + claimsUpdate }

// UpdateEventSubject returns $SYS.ACCOUNT.<pub>.CLAIMS.UPDATE, the older
// subject of account updates, still honoured.
func UpdateEventSubject(pub string) string { return accEventPrefix + pub + claimsUpdate }

// LookupSubject returns $SYS.REQ.ACCOUNT.<pub>.CLAIMS.LOOKUP.
func LookupSubject(pub string) string { return accReqPrefix + pub + claimsLookup }

// Options configure a directory resolver (the resolver {} block).
type Options struct {
	// Dir is where the JWTs are kept (dir).
	Dir string
	// Limit is the most JWTs kept (limit): 0 is no limit for the full
	// resolver and DefaultCacheLimit for the cache.
	Limit int64
	// Interval is how often a full resolver synchronizes with the
	// other servers (interval); DefaultInterval when 0.
	Interval time.Duration
	// Delete is what a CLAIMS.DELETE request does (allow_delete,
	// hard_delete); the cache always deletes for good.
	Delete DeleteMode
	// Timeout bounds a fetch from the other servers (timeout);
	// DefaultFetchTimeout when 0.
	Timeout time.Duration
	// TTL is how long the cache keeps a JWT after its last use (ttl);
	// 0 keeps it until evicted.
	TTL time.Duration
}

// Resolver is the full (type: full) or cache (type: cache) resolver: the
// account JWTs kept in a directory (see Store), updated through the
// $SYS requests of the system account and shared with the other servers
// of the cluster. It implements server.AccountResolver with the
// server.ResolverStarter and server.ResolverCloser capabilities. Safe
// for concurrent use.
type Resolver struct {
	cache   bool
	store   *Store
	opts    Options
	damaged []error

	// mu guards srv and the sessions, set by Start.
	mu    sync.Mutex
	srv   *server.Server
	trust *auth.Trust
	log   *slog.Logger
	sess  *server.Session // the handlers of the requests
	fsess *server.Session // the replies to this server's own requests
	inbox string

	pmu     sync.Mutex
	pending map[string]chan []byte
	seq     atomic.Uint64

	quit   chan struct{}
	wg     sync.WaitGroup
	closed bool
}

// NewFull returns the full resolver over o.Dir: it keeps every account
// JWT pushed to it and answers the other servers' lookups.
func NewFull(o Options) (*Resolver, error) {
	if o.TTL != 0 {
		return nil, errors.New("FULL does not accept ttl")
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	return newResolver(false, o, StoreOptions{Limit: o.Limit, Delete: o.Delete})
}

// NewCache returns the cache resolver over o.Dir: it keeps the JWTs it
// fetched from the full resolvers of the cluster, up to o.Limit (least
// recently used evicted), each for o.TTL after its last use.
func NewCache(o Options) (*Resolver, error) {
	if o.Limit <= 0 {
		o.Limit = DefaultCacheLimit
	}
	return newResolver(true, o, StoreOptions{Limit: o.Limit, Evict: true, TTL: o.TTL, Delete: HardDelete})
}

func newResolver(cache bool, o Options, so StoreOptions) (*Resolver, error) {
	if o.Timeout <= 0 {
		o.Timeout = DefaultFetchTimeout
	}
	st, damaged, err := OpenStore(o.Dir, so)
	if err != nil {
		return nil, err
	}
	return &Resolver{cache: cache, store: st, opts: o, damaged: damaged,
		pending: map[string]chan []byte{}, quit: make(chan struct{})}, nil
}

// Store returns the resolver's directory store.
func (r *Resolver) Store() *Store { return r.store }

// Damaged returns the files of the directory left out when it was
// opened (see OpenStore).
func (r *Resolver) Damaged() []error { return r.damaged }

// Fetch implements server.AccountResolver: the stored JWT, else the
// first one another server of the cluster answers a LOOKUP with (stored
// then). The error wraps server.ErrAccountNotFound when nobody has it.
func (r *Resolver) Fetch(pub string) (string, error) {
	tok, err := r.store.Load(pub)
	if err == nil {
		return tok, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	r.mu.Lock()
	started := r.fsess != nil
	r.mu.Unlock()
	if !started {
		return "", fmt.Errorf("%w: %s", server.ErrAccountNotFound, pub)
	}
	tok, err = r.lookup(pub)
	if err != nil {
		return "", err
	}
	if _, err := r.store.SaveIfNewer(pub, tok); err != nil {
		return "", err
	}
	return tok, nil
}

// Start implements server.ResolverStarter: it attaches the resolver's
// sessions to the system account and subscribes to its requests.
func (r *Resolver) Start(s *server.Server) error {
	sys := s.SystemAccount()
	if sys == nil {
		return errors.New("resolver needs a system account")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.srv != nil {
		return errors.New("resolver already started")
	}
	r.srv, r.trust, r.log = s, s.Trust(), s.Logger()
	for _, d := range r.damaged {
		r.log.Warn("DirResolver - " + d.Error())
	}
	sess, err := s.Attach(server.SessionOptions{Kind: server.SessionSystem, Name: "$SYS resolver",
		Account: sys.Name, QueueLen: sessionQueueLen, Drop: true})
	if err != nil {
		return err
	}
	fsess, err := s.Attach(server.SessionOptions{Kind: server.SessionSystem, Name: "$SYS resolver fetch",
		Account: sys.Name, QueueLen: sessionQueueLen, Drop: true})
	if err != nil {
		sess.Close()
		return err
	}
	r.inbox = inboxPrefix + newToken() + "."
	subs := []struct {
		subject, queue string
		h              func(*server.Msg)
	}{
		{UpdateSubject("*"), "", r.handleAccountUpdate},
		{UpdateEventSubject("*"), "", r.handleAccountUpdate},
		{SubjectClaimsUpdate, "", r.handleClaimsUpdate},
		{SubjectClaimsList, "", r.handleList},
		{SubjectClaimsDelete, "", r.handleDelete},
	}
	if !r.cache {
		subs = append(subs, struct {
			subject, queue string
			h              func(*server.Msg)
		}{LookupSubject("*"), "", r.handleLookup}, struct {
			subject, queue string
			h              func(*server.Msg)
		}{SubjectClaimsPack, "", r.handlePack})
	}
	for _, sb := range subs {
		if _, err := sess.Subscribe(sb.subject, sb.queue, sb.h); err != nil {
			sess.Close()
			fsess.Close()
			return err
		}
	}
	if _, err := fsess.Subscribe(r.inbox+">", "", r.handleReply); err != nil {
		sess.Close()
		fsess.Close()
		return err
	}
	r.sess, r.fsess = sess, fsess
	if r.cache {
		r.log.Info("Managing some jwt in exclusive directory " + r.store.Dir())
	} else {
		r.log.Info("Managing all jwt in exclusive directory " + r.store.Dir())
	}
	r.wg.Add(1)
	go r.loop()
	return nil
}

// Close implements server.ResolverCloser: it stops the synchronization
// and closes the sessions.
func (r *Resolver) Close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	close(r.quit)
	sess, fsess := r.sess, r.fsess
	r.mu.Unlock()
	r.wg.Wait()
	if sess != nil {
		sess.Close()
		fsess.Close()
	}
}

// loop runs the periodic work: the full resolver's synchronization, the
// cache's expiry.
func (r *Resolver) loop() {
	defer r.wg.Done()
	every := r.opts.Interval
	if r.cache {
		every = time.Minute
		if r.opts.TTL > 0 {
			every = min(max(r.opts.TTL/2, 100*time.Millisecond), time.Minute)
		}
	}
	t := time.NewTicker(every)
	defer t.Stop()
	if !r.cache {
		r.sync() // a server that starts catches up at once
	}
	for {
		select {
		case <-r.quit:
			return
		case <-t.C:
		}
		if r.cache {
			for _, pub := range r.store.Expire(time.Now()) {
				r.log.Debug("DirResolver - evicted expired jwt of " + pub)
			}
			continue
		}
		r.sync()
	}
}

// newToken returns a random token for inbox subjects.
func newToken() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// request publishes a request whose replies go to ch until the returned
// function is called.
func (r *Resolver) request(subject string, body []byte, ch chan []byte) (func(), error) {
	reply := r.inbox + strconv.FormatUint(r.seq.Add(1), 10)
	r.pmu.Lock()
	r.pending[reply] = ch
	r.pmu.Unlock()
	done := func() {
		r.pmu.Lock()
		delete(r.pending, reply)
		r.pmu.Unlock()
	}
	if err := r.fsess.Publish(subject, reply, nil, body); err != nil {
		done()
		return nil, err
	}
	return done, nil
}

// handleReply hands a reply to the request waiting for it.
func (r *Resolver) handleReply(m *server.Msg) {
	r.pmu.Lock()
	ch := r.pending[string(m.Subject)]
	r.pmu.Unlock()
	if ch == nil {
		return
	}
	select {
	case ch <- bytes.Clone(m.Data):
	default:
	}
}

// servers counts the servers of the cluster this one knows of, itself
// included: the lookups wait for that many "not found" answers.
func (r *Resolver) servers() int {
	rz, err := r.srv.Routez(&snapshot.RoutezOptions{})
	if err != nil {
		return 1
	}
	ids := map[string]bool{}
	for _, rt := range rz.Routes {
		ids[rt.RemoteID] = true
	}
	return len(ids) + 1
}

// lookup asks the other servers for the JWT of pub: the first answer
// with one wins; empty answers say "not found".
func (r *Resolver) lookup(pub string) (string, error) {
	expect := r.servers()
	if r.cache {
		expect-- // a cache answers no lookups, its own included
	}
	if expect == 0 {
		return "", fmt.Errorf("%w: %s: account jwt not found", server.ErrAccountNotFound, pub)
	}
	ch := make(chan []byte, 64)
	done, err := r.request(LookupSubject(pub), nil, ch)
	if err != nil {
		return "", err
	}
	defer done()
	timer := time.NewTimer(r.opts.Timeout)
	defer timer.Stop()
	empty := 0
	for {
		select {
		case <-r.quit:
			return "", errors.New("fetching jwt failed due to shutdown")
		case <-timer.C:
			if empty > 0 {
				return "", fmt.Errorf("%w: %s: account jwt not found", server.ErrAccountNotFound, pub)
			}
			return "", errors.New("fetching jwt timed out")
		case b := <-ch:
			if len(b) == 0 {
				if empty++; empty >= expect {
					return "", fmt.Errorf("%w: %s: account jwt not found", server.ErrAccountNotFound, pub)
				}
				continue
			}
			return string(b), nil
		}
	}
}

// claimStatus is the "data" or "error" of a claims response.
type claimStatus struct {
	Account     string `json:"account,omitempty"`
	Code        int    `json:"code"`
	Message     string `json:"message,omitempty"`
	Description string `json:"description,omitempty"`
}

// ClaimsResponse is the answer to the claims requests, as upstream's:
// Data on success, Error otherwise (CLAIMS.LIST: Data is the list of
// account public keys).
type ClaimsResponse struct {
	Server *snapshot.ServerInfo `json:"server"`
	Data   any                  `json:"data,omitempty"`
	Error  any                  `json:"error,omitempty"`
}

// respond answers an update or delete request: message (and err) as
// upstream words them, logged at debug (error) level.
func (r *Resolver) respond(reply, acc, message string, err error) {
	if err != nil {
		err = plainErr(err)
		line := message + " - "
		if acc != "" {
			line += acc + " - "
		}
		r.log.Error(line + err.Error())
	} else if acc != "" {
		r.log.Debug(message + " - " + acc)
	} else {
		r.log.Debug(message)
	}
	if reply == "" {
		return
	}
	resp := ClaimsResponse{Server: r.srv.ServerInfo()}
	if err == nil {
		resp.Data = &claimStatus{Account: acc, Code: 200, Message: message}
	} else {
		resp.Error = &claimStatus{Account: acc, Code: 500, Description: message + " - " + err.Error()}
	}
	r.publishJSON(reply, &resp)
}

func (r *Resolver) publishJSON(reply string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	_ = r.sess.Publish(reply, "", nil, b)
}

// plainErr drops the "auth: invalid JWT: " of the JWT decoders' errors:
// clients get the JWT library's own text, as upstream's answers carry it.
func plainErr(err error) error {
	if msg, ok := strings.CutPrefix(err.Error(), auth.ErrBadJWT.Error()+": "); ok {
		return errors.New(msg)
	}
	return err
}

// accountFromSubject takes <pub> out of $SYS.REQ.ACCOUNT.<pub>.CLAIMS.X
// or $SYS.ACCOUNT.<pub>.CLAIMS.UPDATE.
func accountFromSubject(subject string) string {
	rest, ok := strings.CutPrefix(subject, accReqPrefix)
	if !ok {
		rest, ok = strings.CutPrefix(subject, accEventPrefix)
	}
	if !ok {
		return ""
	}
	pub, _, _ := strings.Cut(rest, ".")
	return pub
}

func (r *Resolver) handleAccountUpdate(m *server.Msg) {
	pub := accountFromSubject(string(m.Subject))
	if pub == "" {
		return
	}
	r.update(string(m.Reply), pub, string(m.Data))
}

func (r *Resolver) handleClaimsUpdate(m *server.Msg) {
	r.update(string(m.Reply), "", string(m.Data))
}

// update stores an account JWT pushed to the resolver and applies it to
// the account when the server built it; pub is "" when the subject does
// not name the account.
func (r *Resolver) update(reply, pub, token string) {
	token = strings.TrimSpace(token)
	failed := "jwt update resulted in error"
	invalid := "jwt validation failed"
	done := "jwt updated"
	if r.cache {
		failed, invalid, done = "jwt update cache resulted in error", "jwt update cache validation failed", "jwt updated cache"
	}
	c, err := auth.DecodeClaims(token)
	if err != nil {
		r.respond(reply, "n/a", failed, err)
		return
	}
	ac, err := r.trust.DecodeAccount(token)
	if err != nil {
		r.respond(reply, c.Subject, invalid, err)
		return
	}
	if pub != "" && ac.PublicKey != pub {
		r.respond(reply, pub, failed, errors.New("subject does not match jwt content"))
		return
	}
	pub = ac.PublicKey
	if r.cache && r.srv.AccountClaims(pub) == nil {
		if _, err := r.store.Load(pub); err != nil {
			r.respond(reply, pub, "jwt update cache skipped", nil)
			return
		}
	}
	changed, err := r.store.Save(pub, token)
	if err != nil {
		r.respond(reply, pub, failed, err)
		return
	}
	if changed {
		r.apply(pub, token)
	}
	r.respond(reply, pub, done, nil)
}

// apply hands a new JWT of pub to the server, which applies it to the
// account if it built it (a deleted one included) and else ignores it.
func (r *Resolver) apply(pub, token string) {
	if err := r.srv.UpdateAccountClaims(token); err != nil {
		r.log.Error(fmt.Sprintf("DirResolver - Update for account %q resulted in error %v", pub, err))
	}
}

// handleLookup answers $SYS.REQ.ACCOUNT.<pub>.CLAIMS.LOOKUP with the
// stored JWT, or an empty message when there is none.
func (r *Resolver) handleLookup(m *server.Msg) {
	if len(m.Reply) == 0 {
		return
	}
	pub := accountFromSubject(string(m.Subject))
	tok, err := r.store.Load(pub)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			r.log.Error(fmt.Sprintf("DirResolver - Error looking up account %q: %v", pub, err))
			return
		}
		r.log.Debug(fmt.Sprintf("DirResolver - Could not find account %q", pub))
		tok = ""
	}
	_ = r.sess.Publish(string(m.Reply), "", nil, []byte(tok))
}

// handleList answers $SYS.REQ.CLAIMS.LIST with the stored accounts.
func (r *Resolver) handleList(m *server.Msg) {
	if len(m.Reply) == 0 {
		return
	}
	r.publishJSON(string(m.Reply), &ClaimsResponse{Server: r.srv.ServerInfo(), Data: r.store.List()})
}

// handleDelete runs $SYS.REQ.CLAIMS.DELETE: a JWT self-signed by an
// operator key whose data lists the accounts to delete.
func (r *Resolver) handleDelete(m *server.Msg) {
	reply := string(m.Reply)
	var accounts []string
	subj := ""
	err := func() error {
		c, err := auth.DecodeClaims(strings.TrimSpace(string(m.Data)))
		if err != nil {
			return err
		}
		subj = c.Subject
		if r.store.opts.Delete == NoDelete {
			return ErrDeleteDisabled
		}
		if c.Subject != c.Issuer {
			return errors.New("not self signed")
		}
		if !r.trust.Trusts(c.Issuer) {
			return errors.New("not trusted")
		}
		list, ok := c.Data["accounts"].([]any)
		if !ok {
			return errors.New("malformed request")
		}
		sys := r.srv.SystemAccount().Name
		for _, v := range list {
			pub, ok := v.(string)
			if !ok || !auth.IsAccountKey(pub) {
				return errors.New("malformed request")
			}
			if pub == sys {
				return errors.New("not allowed to delete system account")
			}
			accounts = append(accounts, pub)
		}
		return nil
	}()
	if err != nil {
		r.respond(reply, "", fmt.Sprintf("delete accounts request by %s failed", subj), err)
		return
	}
	var errs []string
	n := 0
	for _, pub := range accounts {
		if err := r.store.Delete(pub); err != nil {
			errs = append(errs, err.Error())
			continue
		}
		n++
		r.srv.RemoveAccountClaims(pub)
	}
	if len(errs) == 0 {
		r.respond(reply, "", fmt.Sprintf("deleted %d accounts", n), nil)
	} else {
		r.respond(reply, "", fmt.Sprintf("deleted %d accounts, failed for %d", n, len(errs)), errors.New(strings.Join(errs, "\n")))
	}
}

// handlePack answers a full resolver's synchronization request: an
// empty message when its hash is ours, else our JWTs ("<pub>|<jwt>",
// one a message) and an empty message to end.
func (r *Resolver) handlePack(m *server.Msg) {
	if len(m.Reply) == 0 {
		return
	}
	reply := string(m.Reply)
	if strings.HasPrefix(reply, r.inbox) {
		return // our own request
	}
	ours := r.store.Hash()
	if !bytes.Equal(m.Data, ours[:]) {
		for _, pub := range r.store.List() {
			tok, err := r.store.Load(pub)
			if err != nil {
				continue
			}
			_ = r.sess.Publish(reply, "", nil, []byte(pub+"|"+tok))
		}
	}
	_ = r.sess.Publish(reply, "", nil, nil)
}

// sync sends a pack request and merges what comes back (newer JWTs
// only), applying the changed ones to the server. Every other server
// answers (upstream's answer in a queue group, one of them); the
// request ends when each server known has ended its answer, or at the
// timeout.
func (r *Resolver) sync() {
	others := r.servers() - 1
	if others == 0 {
		return
	}
	ours := r.store.Hash()
	ch := make(chan []byte, sessionQueueLen)
	done, err := r.request(SubjectClaimsPack, ours[:], ch)
	if err != nil {
		return
	}
	defer done()
	timer := time.NewTimer(r.opts.Timeout)
	defer timer.Stop()
	for {
		select {
		case <-r.quit:
			return
		case <-timer.C:
			return
		case b := <-ch:
			if len(b) == 0 {
				if others--; others == 0 {
					return
				}
				continue
			}
			pub, tok, ok := strings.Cut(string(b), "|")
			if !ok {
				continue
			}
			if _, err := r.trust.DecodeAccount(tok); err != nil {
				continue
			}
			changed, err := r.store.SaveIfNewer(pub, tok)
			if err != nil {
				r.log.Error("DirResolver - Merging resulted in error: " + err.Error())
				continue
			}
			if changed {
				r.apply(pub, tok)
			}
		}
	}
}
