package server

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"natsd.dev/auth"
	"natsd.dev/protocol"
	"natsd.dev/sublist"
)

// Operator mode (decentralized authentication), as upstream's:
//
//  1. Options.Operator names the trusted operators (their decoded JWTs,
//     see auth.ReadOperator) or trusted keys, and an AccountResolver.
//     New refuses users and accounts configured directly, with
//     upstream's texts, and takes the system account from the operator
//     when the options name none.
//  2. Clients authenticate with a user JWT (auth.JWTAuth). The account a
//     user JWT names is asked of the resolver the first time (Fetch, by
//     public key), decoded and checked by auth (auth.Trust.DecodeAccount),
//     and built: an Account named by its public key with the JWT's
//     limits, exports, imports (private exports need a valid activation
//     token) and mappings. The server keeps what it built: later
//     clients of the account find it without asking the resolver.
//  3. UpdateAccountClaims applies a new account JWT to a built account
//     live (limits, links, revocations, signing keys), closing the users
//     it revokes with 'User Authentication Revoked'. A resolver that
//     learns of updates (the full and cache resolvers, over $SYS) calls
//     it; the memory resolver has no updates of its own.
//
// Accounts are built under Server.reloadMu, the lock that serializes
// every change of the accounts' links; lookups of accounts already
// built take only operatorState.mu.

// OperatorOptions turn operator mode on (Options.Operator).
type OperatorOptions struct {
	// Operators are the trusted operators (operator, operators, root...).
	Operators []*auth.Operator
	// TrustedKeys are trusted operator public keys (trusted_keys,
	// trusted); not with Operators.
	TrustedKeys []string
	// Resolver gives account JWTs by account public key (resolver).
	Resolver AccountResolver
	// DefaultSentinel is the bearer user JWT of clients without
	// credentials (default_sentinel); "" for none.
	DefaultSentinel string
	// PinnedAccounts, when not empty, are the only accounts whose users
	// may connect (resolver_pinned_accounts); the system account always
	// may.
	PinnedAccounts []string
}

// AccountResolver is where the server finds account JWTs in operator
// mode. Fetch returns the encoded JWT of the account with public key
// pub, or an error wrapping ErrAccountNotFound when it has none. The
// server calls it the first time a client (or an import) needs the
// account, never on a hot path, and caches what it builds; it must be
// safe for concurrent use. Resolvers that learn of new account JWTs
// later hand them to Server.UpdateAccountClaims.
type AccountResolver interface {
	Fetch(pub string) (string, error)
}

// ErrAccountNotFound is wrapped by AccountResolver.Fetch errors for an
// account the resolver has no JWT for.
var ErrAccountNotFound = errors.New("server: account not found")

// MemoryResolver is the MEMORY resolver: a fixed set of account JWTs
// (resolver_preload), by account public key. Safe for concurrent use.
type MemoryResolver struct {
	mu   sync.RWMutex
	jwts map[string]string
}

// NewMemoryResolver returns a memory resolver holding preload (account
// public key to JWT); preload is copied.
func NewMemoryResolver(preload map[string]string) *MemoryResolver {
	return &MemoryResolver{jwts: maps.Clone(preload)}
}

// Fetch implements AccountResolver.
func (r *MemoryResolver) Fetch(pub string) (string, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if j, ok := r.jwts[pub]; ok {
		return j, nil
	}
	return "", fmt.Errorf("%w: %s", ErrAccountNotFound, pub)
}

// Store sets the JWT of the account pub (for tests and for callers that
// then call Server.UpdateAccountClaims).
func (r *MemoryResolver) Store(pub, jwt string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.jwts == nil {
		r.jwts = map[string]string{}
	}
	r.jwts[pub] = jwt
}

// Errors of operator mode options, with upstream's texts.
var (
	errOperatorConflict  = errors.New("conflicting options for 'TrustedKeys' and 'TrustedOperators'")
	errOperatorResolver  = errors.New("operators require an account resolver to be configured")
	errOperatorAccounts  = errors.New("operators do not allow Accounts to be configured directly")
	errOperatorUsers     = errors.New("operators do not allow users to be configured directly")
	errOperatorCallout   = errors.New("operators do not allow authorization callouts to be configured directly")
	errTextAuthExpired   = "User Authentication Expired"
	errTextAuthRevoked   = "User Authentication Revoked"
	maxImportFetchDepth  = 8
	operatorLogAccountIn = "Operator mode: "
)

// operatorState is the server's operator mode: its trust, its resolver
// and the accounts it built from JWTs.
type operatorState struct {
	trust    *auth.Trust
	resolver AccountResolver
	sentinel string
	// pinnedAccounts is OperatorOptions.PinnedAccounts.
	pinnedAccounts []string
	// mu guards claims: the decoded JWT of every account built, by
	// public key. Written under Server.reloadMu.
	mu     sync.RWMutex
	claims map[string]*auth.Account
	// deleted are the accounts built from a JWT that the resolver then
	// deleted, by public key, until a JWT builds them again; guarded by
	// mu. As upstream, the account stays listed, shown expired.
	deleted map[string]bool
	// expiry closes the clients of an account when its JWT expires, by
	// public key. Guarded by Server.reloadMu.
	expiry map[string]*time.Timer
	// listeners are the OnJWTAccount functions, guarded by mu.
	listeners []func(string, map[string]AccountJetStreamLimits)
}

// AccountJetStreamLimits are the JetStream limits of an account JWT (or
// of one of its tiers), as upstream applies them: -1 means no limit,
// MaxMemory or MaxStore 0 no storage of that kind.
type AccountJetStreamLimits struct {
	MaxMemory, MaxStore, MaxStreams, MaxConsumers int64
	MaxAckPending                                 int64
	MemoryMaxStreamBytes, StoreMaxStreamBytes     int64
	MaxBytesRequired                              bool
}

// jsTiers converts an account JWT's JetStream limits.
func jsTiers(ac *auth.Account) map[string]AccountJetStreamLimits {
	if ac.Limits.JetStream == nil {
		return nil
	}
	out := make(map[string]AccountJetStreamLimits, len(ac.Limits.JetStream))
	for t, l := range ac.Limits.JetStream {
		out[t] = AccountJetStreamLimits(l)
	}
	return out
}

// OnJWTAccount registers fn (JetStream's) to learn of the accounts built
// from JWTs in operator mode: it is called once for every account built
// before, at once, then for each account the server builds from its JWT
// (before the client that needed it is admitted) and each new JWT
// applied to one (UpdateAccountClaims). tiers are the JWT's JetStream
// limits by tier ("" untiered, "R1"...), nil when the JWT does not enable
// JetStream. Calls are serialized; fn may Attach sessions. Outside
// operator mode fn is never called.
func (s *Server) OnJWTAccount(fn func(account string, tiers map[string]AccountJetStreamLimits)) {
	op := s.op
	if op == nil {
		return
	}
	s.jwtListenMu.Lock()
	defer s.jwtListenMu.Unlock()
	op.mu.Lock()
	op.listeners = append(op.listeners, fn)
	built := maps.Clone(op.claims)
	op.mu.Unlock()
	for _, pub := range slices.Sorted(maps.Keys(built)) {
		fn(pub, jsTiers(built[pub]))
	}
}

// JWTAccountJetStream reports whether the account name was built from a
// JWT (operator mode) and, if so, its JetStream limits by tier (nil when
// its JWT does not enable JetStream).
func (s *Server) JWTAccountJetStream(name string) (map[string]AccountJetStreamLimits, bool) {
	if s.op == nil {
		return nil, false
	}
	ac := s.op.cached(name)
	if ac == nil {
		return nil, false
	}
	return jsTiers(ac), true
}

// notifyJWTAccounts tells the OnJWTAccount listeners of the accounts of
// loaded. s.reloadMu is not held.
func (s *Server) notifyJWTAccounts(loaded map[string]*auth.Account) {
	s.jwtListenMu.Lock()
	defer s.jwtListenMu.Unlock()
	s.op.mu.RLock()
	ls := slices.Clone(s.op.listeners)
	s.op.mu.RUnlock()
	if len(ls) == 0 {
		return
	}
	for _, pub := range slices.Sorted(maps.Keys(loaded)) {
		for _, fn := range ls {
			fn(pub, jsTiers(loaded[pub]))
		}
	}
}

// setupOperator validates o's operator mode and sets it up; it runs in
// New before the accounts are created, and names the operator's system
// account in o when o keeps the default.
func (s *Server) setupOperator(o *Options) error {
	op := o.Operator
	if op == nil {
		return nil
	}
	if len(op.Operators) > 0 && len(op.TrustedKeys) > 0 {
		return fmt.Errorf("%w: %w", ErrBadOptions, errOperatorConflict)
	}
	if op.Resolver == nil {
		return fmt.Errorf("%w: %w", ErrBadOptions, errOperatorResolver)
	}
	for _, name := range o.Accounts {
		if name != GlobalAccountName && name != o.SystemAccount {
			return fmt.Errorf("%w: %w", ErrBadOptions, errOperatorAccounts)
		}
	}
	if a := o.Authorization; a != nil && (a.User != "" || len(a.Users) > 0 || a.Token != "") {
		return fmt.Errorf("%w: %w", ErrBadOptions, errOperatorUsers)
	}
	if a := o.Authorization; a != nil && a.Callout != nil {
		return fmt.Errorf("%w: %w", ErrBadOptions, errOperatorCallout)
	}
	trust, err := auth.NewTrust(op.Operators, op.TrustedKeys)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadOptions, err)
	}
	if (o.SystemAccount == "" || o.SystemAccount == DefaultSystemAccountName) && trust.SystemAccount != "" {
		o.SystemAccount = trust.SystemAccount
		s.opts.SystemAccount = o.SystemAccount
	}
	s.op = &operatorState{trust: trust, resolver: op.Resolver, sentinel: op.DefaultSentinel,
		pinnedAccounts: slices.Clone(op.PinnedAccounts),
		claims:         map[string]*auth.Account{}, expiry: map[string]*time.Timer{}, deleted: map[string]bool{}}
	return nil
}

// operatorChain makes sa authenticate with user JWTs in operator mode.
func (s *Server) operatorChain(sa *serverAuth) {
	if s.op == nil {
		return
	}
	sa.chain = auth.Chain{auth.NewJWTAuth(jwtAccounts{s}, s.op.sentinel)}
	sa.nonce = true
	sa.users = false
}

// loadSystemAccountJWT applies the system account's JWT, when the
// resolver has one, once the server is set up.
func (s *Server) loadSystemAccountJWT() {
	if s.op == nil || s.sysAcc == nil {
		return
	}
	if _, err := s.jwtAccount(s.sysAcc.Name); err != nil {
		s.log.Warn(operatorLogAccountIn + "system account " + s.sysAcc.Name + ": " + err.Error())
	}
}

// jwtAccounts is the server as the auth.AccountSource of its JWTAuth.
type jwtAccounts struct{ s *Server }

func (j jwtAccounts) Account(pub string) (*auth.Account, error) {
	sys := ""
	if j.s.sysAcc != nil {
		sys = j.s.sysAcc.Name
	}
	if !j.s.op.pinned(pub, sys) {
		return nil, fmt.Errorf("Account %s not listed as operator pinned account", pub)
	}
	return j.s.jwtAccount(pub)
}

// cached returns the claims of a built account, or nil.
func (op *operatorState) cached(pub string) *auth.Account {
	op.mu.RLock()
	defer op.mu.RUnlock()
	return op.claims[pub]
}

// jwtAccount returns the claims of the account pub, building the account
// from its JWT the first time (see the top of this file).
func (s *Server) jwtAccount(pub string) (*auth.Account, error) {
	op := s.op
	if op == nil {
		return nil, errors.New("not in operator mode")
	}
	if ac := op.cached(pub); ac != nil {
		return ac, nil
	}
	s.reloadMu.Lock()
	if ac := op.cached(pub); ac != nil {
		s.reloadMu.Unlock()
		return ac, nil
	}
	loaded := map[string]*auth.Account{}
	if err := s.fetchAccount(pub, loaded, 0); err != nil {
		s.reloadMu.Unlock()
		return nil, err
	}
	s.installAccounts(loaded)
	s.reloadMu.Unlock()
	s.notifyJWTAccounts(loaded)
	return loaded[pub], nil
}

// fetchAccount asks the resolver for pub and, recursively, for the
// exporters its imports name, into loaded. An exporter that cannot be
// had only costs the imports from it.
func (s *Server) fetchAccount(pub string, loaded map[string]*auth.Account, depth int) error {
	token, err := s.op.resolver.Fetch(pub)
	if err != nil {
		return err
	}
	ac, err := s.op.trust.DecodeAccount(token)
	if err != nil {
		return err
	}
	if ac.PublicKey != pub {
		return fmt.Errorf("account JWT is for %s, not %s", ac.PublicKey, pub)
	}
	if ac.Expired(time.Now()) {
		return fmt.Errorf("account %s JWT expired", pub)
	}
	loaded[pub] = ac
	if depth >= maxImportFetchDepth {
		return nil
	}
	for _, im := range ac.Imports {
		if loaded[im.Account] != nil || s.op.cached(im.Account) != nil {
			continue
		}
		if err := s.fetchAccount(im.Account, loaded, depth+1); err != nil {
			s.log.Warn(operatorLogAccountIn + "account " + pub + ": import from " + im.Account + ": " + err.Error())
		}
	}
	return nil
}

// installAccounts lists the accounts of loaded (creating them, or taking
// over an account of that name the server made at start, the system
// account), records their claims and gives every JWT account its limits
// and links anew. s.reloadMu is held.
func (s *Server) installAccounts(loaded map[string]*auth.Account) {
	var added []*Account
	s.mu.Lock()
	for pub := range loaded {
		if s.accounts[pub] == nil {
			a := unlistedAccount(s, pub)
			s.accounts[pub] = a
			added = append(added, a)
		}
	}
	accs := maps.Clone(s.accounts)
	base := s.opts
	s.mu.Unlock()
	s.op.mu.Lock()
	maps.Copy(s.op.claims, loaded)
	for pub := range loaded {
		delete(s.op.deleted, pub)
	}
	s.op.mu.Unlock()
	for pub, ac := range loaded {
		if t := s.op.expiry[pub]; t != nil {
			t.Stop()
			delete(s.op.expiry, pub)
		}
		if !ac.Expires.IsZero() {
			s.op.expiry[pub] = time.AfterFunc(time.Until(ac.Expires), func() { s.accountExpired(pub) })
		}
	}
	for _, a := range added {
		if err := s.systemImports(a); err != nil {
			s.log.Error(operatorLogAccountIn + "account " + a.Name + ": " + err.Error())
		}
	}
	s.relinkJWT(&base, accs)
}

// relinkJWT gives every account of accs its limits and links from the
// options o plus the JWT accounts. s.reloadMu is held.
func (s *Server) relinkJWT(base *Options, accs map[string]*Account) {
	o := s.withJWT(base)
	lims, err := accountLimits(o, accs)
	if err != nil {
		s.log.Error(operatorLogAccountIn + err.Error())
		return
	}
	ls, err := s.buildLinks(o, accs)
	if err != nil {
		s.log.Error(operatorLogAccountIn + err.Error())
		return
	}
	for a, l := range lims {
		if *a.lim() != *l {
			a.limits.Store(l)
		}
	}
	s.publishLinks(ls, accs)
	if err := s.subscribeResponses(accs); err != nil {
		s.log.Error(operatorLogAccountIn + err.Error())
	}
}

// withJWT returns o (a copy when in operator mode) with the accounts,
// limits, exports, imports and mappings of the accounts built from JWTs
// added: what New and Reload validate and build links from. Imports and
// exports the JWTs hold that the server cannot honour (an untrusted
// activation, an exporter it could not fetch, a limit exceeded) are left
// out with a warning, as upstream leaves them out.
func (s *Server) withJWT(o *Options) *Options {
	if s.op == nil {
		return o
	}
	s.op.mu.RLock()
	claims := maps.Clone(s.op.claims)
	s.op.mu.RUnlock()
	if len(claims) == 0 {
		return o
	}
	c := *o
	c.Accounts = slices.Clone(o.Accounts)
	c.Exports = slices.Clone(o.Exports)
	c.Imports = slices.Clone(o.Imports)
	c.Mappings = slices.Clone(o.Mappings)
	c.AccountLimits = maps.Clone(o.AccountLimits)
	if c.AccountLimits == nil {
		c.AccountLimits = map[string]AccountLimits{}
	}
	pubs := slices.Sorted(maps.Keys(claims))
	warn := func(pub, what string) { s.log.Warn(operatorLogAccountIn + "account " + pub + ": " + what) }
	// Exports first, by exporter; private ones get their importers from
	// the imports' activation tokens below.
	type exportRef struct {
		ex  *auth.AccountExport
		idx int // in c.Exports
	}
	exports := map[string][]exportRef{}
	inBase := make(map[string]bool, len(c.Accounts))
	for _, n := range c.Accounts {
		inBase[n] = true
	}
	for _, pub := range pubs {
		ac := claims[pub]
		if !inBase[pub] {
			inBase[pub] = true
			c.Accounts = append(c.Accounts, pub)
		}
		c.AccountLimits[pub] = jwtLimits(&ac.Limits)
		n := 0
		for i := range ac.Exports {
			e := &ac.Exports[i]
			if ac.Limits.Exports >= 0 && int64(n) >= ac.Limits.Exports {
				warn(pub, "export "+e.Subject+" over the account's exports limit")
				continue
			}
			if !ac.Limits.WildcardExports && sublist.ValidFilter(e.Subject) && !sublist.IsLiteral(e.Subject) {
				warn(pub, "wildcard export "+e.Subject+" not allowed by the account's limits")
				continue
			}
			ex := Export{Account: pub, Subject: e.Subject, Service: e.Service, AllowTrace: e.AllowTrace}
			if e.Service {
				ex.ResponseThreshold = e.ResponseThreshold
				if e.ResponseType != "" {
					rt, err := ParseResponseType(strings.ToLower(e.ResponseType))
					if err != nil {
						warn(pub, "export "+e.Subject+": "+err.Error())
						continue
					}
					ex.ResponseType = rt
				}
			}
			if e.TokenReq {
				// No importer until an activation admits one; "" is no
				// account's name.
				ex.Accounts = []string{""}
			}
			if err := CheckExport(&ex); err != nil {
				warn(pub, err.Error())
				continue
			}
			n++
			c.Exports = append(c.Exports, ex)
			exports[pub] = append(exports[pub], exportRef{e, len(c.Exports) - 1})
		}
	}
	names := make(map[string]bool, len(c.Accounts))
	for _, n := range c.Accounts {
		names[n] = true
	}
	known := func(name string) bool { return names[name] || name == GlobalAccountName || name == c.SystemAccount }
	for _, pub := range pubs {
		ac := claims[pub]
		n := 0
		for i := range ac.Imports {
			ji := &ac.Imports[i]
			if ac.Limits.Imports >= 0 && int64(n) >= ac.Limits.Imports {
				warn(pub, "import "+ji.Subject+" over the account's imports limit")
				continue
			}
			exp := claims[ji.Account]
			if exp == nil {
				warn(pub, "import "+ji.Subject+": account "+ji.Account+" not found")
				continue
			}
			im := Import{Account: pub, From: ji.Account, Service: ji.Service, AllowTrace: ji.AllowTrace}
			if ji.Service {
				if ji.LocalSubject != "" {
					im.Subject, im.To = ji.Subject, ji.LocalSubject
				} else {
					im.Subject, im.To = cmpOr(ji.To, ji.Subject), ji.Subject
				}
				if im.To == im.Subject {
					im.To = ""
				}
			} else {
				im.Subject, im.To = ji.Subject, ji.LocalSubject
				if im.To == "" && ji.To != "" {
					im.Prefix = strings.TrimSuffix(ji.To, ".")
				}
			}
			// A private export admits the importer through the token.
			for _, ref := range exports[ji.Account] {
				e := ref.ex
				if !e.TokenReq || e.Service != im.Service || !sublist.IsSubsetMatch(im.Subject, e.Subject) {
					continue
				}
				if ji.Token == "" {
					continue
				}
				if err := exp.CheckActivation(ji.Token, pub, im.Subject, im.Service); err != nil {
					warn(pub, "import "+ji.Subject+": "+err.Error())
					continue
				}
				ex := &c.Exports[ref.idx]
				if !slices.Contains(ex.Accounts, pub) {
					ex.Accounts = append(ex.Accounts, pub)
				}
			}
			if err := CheckImport(&im, c.Exports, known); err != nil {
				warn(pub, err.Error())
				continue
			}
			n++
			c.Imports = append(c.Imports, im)
		}
		for _, m := range ac.Mappings {
			mp := Mapping{Account: pub, Source: m.Source}
			for _, d := range m.Destinations {
				mp.Destinations = append(mp.Destinations, MapDestination{Subject: d.Subject, Weight: d.Weight, Cluster: d.Cluster})
			}
			if err := CheckMapping(&mp); err != nil {
				warn(pub, "mapping "+m.Source+": "+err.Error())
				continue
			}
			c.Mappings = append(c.Mappings, mp)
		}
	}
	return &c
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// jwtLimits are the server's limits for an account JWT's: as upstream,
// -1 is no limit and 0 a limit of zero (connections, subscriptions,
// payload, leaf nodes); a payload limit of 0 lets the account's clients
// publish empty messages only (see client.payloadLimit). The JWT's data
// limit is not enforced, as upstream does not.
func jwtLimits(l *auth.AccountLimits) AccountLimits {
	lim := func(v int64) int {
		if v < 0 || v > 1<<31-1 {
			return -1
		}
		return int(v)
	}
	return AccountLimits{MaxConnections: lim(l.Conn), MaxSubscriptions: lim(l.Subs), MaxPayload: lim(l.Payload),
		MaxLeafNodes: lim(l.LeafNodeConn), JWT: true}
}

// payloadLimit is c's payload limit for its parser, as upstream computes
// a client's: the lowest of the server's max_payload, its account's limit
// and its user JWT's, where a JWT limit of 0 is a limit of zero bytes
// (protocol.MaxPayloadZero: empty messages only). It is also what the
// INFO after CONNECT tells the client (see infoMaxPayload).
func (c *client) payloadLimit() int {
	max := int(c.srv.maxPayload.Load())
	if l := c.acc.lim(); l != nil {
		if n, ok := l.limit(l.MaxPayload); ok && n < max {
			max = n
		}
	}
	switch p := c.jwtMaxPayload; {
	case p < 0:
		max = 0
	case p > 0 && p < max:
		max = p
	}
	if max <= 0 {
		return protocol.MaxPayloadZero
	}
	return max
}

// infoMaxPayload is the max_payload of the INFO c gets after CONNECT:
// its payload limit, 0 for a limit of zero.
func (c *client) infoMaxPayload() int32 {
	if p := c.payloadLimit(); p > 0 {
		return int32(p)
	}
	return 0
}

// UpdateAccountClaims applies a new JWT to an account built from its JWT
// earlier: the new limits, exports, imports, mappings, signing keys and
// revocations take effect for connected clients at once. Clients of the
// account whose user the new JWT revokes, or whose signing key it no
// longer lists, are closed with 'User Authentication Revoked'; clients
// over a lower connection limit are closed, newest first. An account the
// server has not built yet is left to be built on first use; one whose
// JWT the resolver deleted (RemoveAccountClaims) is built again at once,
// as upstream. It returns an error for a JWT that does not decode or is
// not trusted, and leaves everything as it was then.
func (s *Server) UpdateAccountClaims(token string) error {
	if s.op == nil {
		return errors.New("server: not in operator mode")
	}
	ac, err := s.op.trust.DecodeAccount(token)
	if err != nil {
		return err
	}
	s.reloadMu.Lock()
	old := s.op.cached(ac.PublicKey)
	s.op.mu.RLock()
	deleted := s.op.deleted[ac.PublicKey]
	s.op.mu.RUnlock()
	if old == nil && !deleted {
		s.reloadMu.Unlock()
		return nil
	}
	if old != nil && ac.IssuedAt.Before(old.IssuedAt) {
		s.reloadMu.Unlock()
		return fmt.Errorf("server: account %s: JWT older than the one in use", ac.PublicKey)
	}
	loaded := map[string]*auth.Account{ac.PublicKey: ac}
	for _, im := range ac.Imports {
		if loaded[im.Account] == nil && s.op.cached(im.Account) == nil {
			if err := s.fetchAccount(im.Account, loaded, 1); err != nil {
				s.log.Warn(operatorLogAccountIn + "account " + ac.PublicKey + ": import from " + im.Account + ": " + err.Error())
			}
		}
	}
	s.installAccounts(loaded)
	acc := s.LookupAccount(ac.PublicKey)
	s.reloadMu.Unlock()
	s.notifyJWTAccounts(loaded)
	if acc == nil {
		return nil
	}
	s.mu.Lock()
	cs := s.clientsLocked()
	s.mu.Unlock()
	s.closeRevoked(acc, ac, cs)
	r := &accountsReload{limits: map[*Account]*AccountLimits{acc: acc.lim()}}
	s.closeAccountExcess(r, cs)
	return nil
}

// closeRevoked closes the clients of acc whose user JWT ac revokes or
// whose signer it no longer lists.
func (s *Server) closeRevoked(acc *Account, ac *auth.Account, cs []*client) {
	for _, c := range cs {
		c.mu.Lock()
		cacc, closed, b := c.acc, c.closed, c.bound
		c.mu.Unlock()
		if closed || cacc != acc || b == nil || b.id.JWT == nil {
			continue
		}
		u := b.id.JWT
		if ac.UserRevoked(u.PublicKey, u.IssuedAt) || !ac.IsSigner(u.Issuer) {
			s.log.Debug(c.logPrefix() + " - " + errTextAuthRevoked)
			c.sendErrAndClose(errTextAuthRevoked, reasonAuthRevoked)
		}
	}
}

// bindJWTUser applies what a user JWT says to the connection: its limits
// and, for a JWT that expires, a timer that closes the connection then
// with 'User Authentication Expired'. It runs on the read goroutine
// while binding.
func (c *client) bindJWTUser(u *auth.JWTUser) {
	if u == nil {
		return
	}
	c.jwtMaxSubs = 0
	switch {
	case u.MaxSubs == 0: // as upstream, 0 allows none (-1 is no limit)
		c.jwtMaxSubs = -1
	case u.MaxSubs > 0 && u.MaxSubs < 1<<31:
		c.jwtMaxSubs = int(u.MaxSubs)
	}
	c.jwtMaxPayload = 0
	switch p := u.MaxPayload; {
	case p == 0: // as upstream, 0 allows empty messages only
		c.jwtMaxPayload = -1
	case p > 0 && p < 1<<31:
		c.jwtMaxPayload = int(p)
	}
	c.parser.MaxPayload = c.payloadLimit()
	if !u.Expires.IsZero() {
		d := time.Until(u.Expires)
		c.mu.Lock()
		if c.jwtTimer != nil {
			c.jwtTimer.Stop()
		}
		c.jwtTimer = time.AfterFunc(d, c.authExpired)
		c.mu.Unlock()
	}
}

// authExpired closes a client whose user JWT expired.
func (c *client) authExpired() {
	c.srv.log.Debug(c.logPrefix() + " - " + errTextAuthExpired)
	c.sendErrAndClose(errTextAuthExpired, reasonAuthExpired)
}

// logTrustedOperators writes upstream's start banner lines of operator
// mode.
func (s *Server) logTrustedOperators() {
	o := s.opts.Operator
	if o == nil || len(o.Operators) == 0 {
		return
	}
	s.log.Info("Trusted Operators")
	for _, op := range o.Operators {
		exp := "Never"
		if !op.Expires.IsZero() {
			exp = op.Expires.String()
		}
		s.log.Info("  System  : " + strconv.Quote(op.Audience))
		s.log.Info("  Operator: " + strconv.Quote(op.Name))
		s.log.Info("  Issued  : " + op.IssuedAt.String())
		s.log.Info("  Expires : " + exp)
	}
}

// jwtExpired reports whether the account pub lost its JWT: its JWT
// expired, or the resolver deleted it (see RemoveAccountClaims) and no
// JWT built it again. It is /accountz's "expired", as upstream's: such
// an account stays listed, its clients closed and new ones refused.
func (s *Server) jwtExpired(pub string) bool {
	if s.op == nil {
		return false
	}
	s.op.mu.RLock()
	defer s.op.mu.RUnlock()
	if s.op.deleted[pub] {
		return true
	}
	ac := s.op.claims[pub]
	return ac != nil && ac.Expired(time.Now())
}

// jwtDeleted reports whether the resolver deleted the JWT of the account
// pub, built from it before, and no JWT built it again.
func (s *Server) jwtDeleted(pub string) bool {
	if s.op == nil {
		return false
	}
	s.op.mu.RLock()
	defer s.op.mu.RUnlock()
	return s.op.deleted[pub]
}

// errTextAccountExpired is upstream's text to the clients of an account
// whose JWT expired.
const errTextAccountExpired = "Account Authentication Expired"

// accountExpired closes the clients of the account pub, whose JWT has
// expired (new clients are refused by auth.JWTAuth).
func (s *Server) accountExpired(pub string) {
	acc := s.LookupAccount(pub)
	ac := s.op.cached(pub)
	if acc == nil || ac == nil || !ac.Expired(time.Now()) {
		return // a newer JWT replaced it
	}
	s.mu.Lock()
	cs := s.clientsLocked()
	s.mu.Unlock()
	for _, c := range cs {
		c.mu.Lock()
		cacc, closed := c.acc, c.closed
		c.mu.Unlock()
		if !closed && cacc == acc && c.kind == kindClient {
			s.log.Debug(c.logPrefix() + " - " + errTextAccountExpired)
			c.sendErrAndClose(errTextAccountExpired, reasonAuthExpired)
		}
	}
}

// ResolveAccount returns the account with public key pub in operator
// mode, building it from its JWT (through the account resolver) if no
// client has needed it yet. It is for modules and services that reach an
// account by name before any of its clients does (a $SYS request about
// it, JetStream). Outside operator mode it is LookupAccount, with an
// error wrapping ErrAccountNotFound when there is no such account.
func (s *Server) ResolveAccount(pub string) (*Account, error) {
	if s.op != nil {
		if _, err := s.jwtAccount(pub); err != nil {
			return nil, err
		}
	}
	if acc := s.LookupAccount(pub); acc != nil {
		return acc, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrAccountNotFound, pub)
}

// checkOperatorReload refuses a reload that turns operator mode on or off
// or changes the trusted operators or keys, as upstream ("config reload
// not supported for TrustedOperators"). The rest of the operator options
// keep their values from the start.
func (s *Server) checkOperatorReload(o *Options) error {
	var oldOps, newOps, oldKeys, newKeys []string
	keys := func(op *OperatorOptions) (ops, trusted []string) {
		if op == nil {
			return nil, nil
		}
		for _, x := range op.Operators {
			ops = append(ops, x.PublicKey)
		}
		return ops, op.TrustedKeys
	}
	oldOps, oldKeys = keys(s.opts.Operator)
	newOps, newKeys = keys(o.Operator)
	if (s.opts.Operator == nil) != (o.Operator == nil) || !slices.Equal(oldOps, newOps) {
		return fmt.Errorf("config reload not supported for TrustedOperators: old=%v, new=%v", oldOps, newOps)
	}
	if !slices.Equal(oldKeys, newKeys) {
		return fmt.Errorf("config reload not supported for TrustedKeys: old=%v, new=%v", oldKeys, newKeys)
	}
	return nil
}
