package server

import (
	"fmt"
	"sync/atomic"

	"natsd.dev/server/internal/replies"
	"natsd.dev/sublist"
)

// Account is an isolated subject namespace with its own subscription list.
// Without configured accounts every client is in the global account "$G".
type Account struct {
	// Name is the account's name.
	Name  string
	nameb []byte // Name, for RMSG lines
	srv   *Server
	sl    *sublist.Sublist[*subscription]
	// gwSubs counts the entries of sl that are gateways' interest
	// (remote subscriptions of ConnGateway links): upstream keeps a
	// gateway's interest apart from the account's sublist, so the
	// monitoring counts and lists leave them out.
	gwSubs atomic.Int64
	// limits are the account's limits, never nil; a reload swaps them.
	// conns counts the clients bound to the account.
	limits atomic.Pointer[AccountLimits]
	conns  atomic.Int32
	// leafs counts the leaf node connections bound to the account
	// (AddLeafNode, RemoveLeafNode).
	leafs atomic.Int32
	// links are the account's mappings, imports and exports; nil
	// without any. Built in New and again by a reload, which swaps the
	// pointer: a delivery uses the links it loaded, old or new, whole.
	links atomic.Pointer[accountLinks]
	// resp holds the pending responses of the account's service exports;
	// it outlives a reload's new links so that requests in flight get
	// their answers.
	resp replies.Table[*pendingResponse]
	// respIC holds the account's internal subscription to this server's
	// response subjects (subscribeResponses), nil without; a reload that
	// removes the account closes it. Guarded by Server.reloadMu after
	// New.
	respIC *InternalClient
	// removed: a reload took the account away (a link's cached account
	// is looked up again; the name may belong to a new account).
	removed atomic.Bool
	// sysImports are the service imports of the system account's
	// services every account has, apart from links so that they cost
	// other subjects nothing (see systemImports).
	sysImports *sublist.Sublist[*serviceImport]
	// trace is the account's msg_trace setting (msgtrace.go); nil
	// without one. Set up in New, replaced by Reload; read at each
	// publish, so the connections already bound follow a reload.
	trace atomic.Pointer[AccountMsgTrace]
	// closed sums what the account's closed client connections sent and
	// were sent, so that its statistics keep them, as upstream's do;
	// added when a client is removed from the server's list.
	closed struct{ inMsgs, inBytes, outMsgs, outBytes atomic.Int64 }
	// traffic counts what the account received and sent over routes,
	// gateways and leaf node connections (account_traffic.go).
	traffic [numTraffic]linkTraffic
}

// NumSubscriptions returns the number of subscriptions in the account,
// without the interest of gateways (as upstream counts them).
func (a *Account) NumSubscriptions() int { return a.sl.Count() - int(a.gwSubs.Load()) }

// visibleStats returns the statistics of the account's subscription list
// as monitoring shows them: without the interest of gateways.
func (a *Account) visibleStats() sublist.Stats {
	st := a.sl.Stats()
	st.NumSubs -= int(max(a.gwSubs.Load(), 0))
	return st
}

// numSubscriptionsUpstream counts the account's subscriptions as
// upstream's account statistics do: upstream's service imports are
// subscriptions in the importer's sublist, natsd's are kept apart, so
// they are added (the system imports every account has, and the
// configured ones).
func (a *Account) numSubscriptionsUpstream() int {
	n := a.NumSubscriptions()
	if a.sysImports != nil {
		n += a.sysImports.Count()
	}
	if l := a.links.Load(); l != nil && l.services != nil {
		n += l.services.Count()
	}
	return n
}

// SublistStats returns the statistics of the account's subscription list,
// every entry counted (gateways' interest included).
func (a *Account) SublistStats() sublist.Stats { return a.sl.Stats() }

// GlobalAccount returns the default account "$G".
func (s *Server) GlobalAccount() *Account { return s.gAcc }

// LookupAccount returns the named account, or nil.
func (s *Server) LookupAccount(name string) *Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accounts[name]
}

// DefaultSystemAccountName is upstream's name for the system account, which
// DefaultConfig sets in Options.SystemAccount.
const DefaultSystemAccountName = "$SYS"

// SystemAccount returns the system account, or nil when there is none.
func (s *Server) SystemAccount() *Account { return s.sysAcc }

// systemAccountName is the system account's name, "" without one.
func (s *Server) systemAccountName() string {
	if s.sysAcc == nil {
		return ""
	}
	return s.sysAcc.Name
}

// newAccounts creates the accounts of o next to the global one, and the
// system account unless o turns it off. It runs in New, before the server
// is shared.
func (s *Server) newAccounts(o *Options) error {
	for _, name := range o.Accounts {
		switch {
		case name == "":
			return fmt.Errorf("%w: account with an empty name", ErrBadOptions)
		case name == GlobalAccountName:
			continue
		case s.accounts[name] != nil:
			return fmt.Errorf("%w: duplicate account %q", ErrBadOptions, name)
		}
		s.newAccount(name)
	}
	name := o.SystemAccount
	if o.NoSystemAccount || name == "" {
		return nil
	}
	if name == GlobalAccountName {
		return fmt.Errorf("%w: system account cannot be the global account %q", ErrBadOptions, name)
	}
	s.sysAcc = s.accounts[name]
	if s.sysAcc == nil {
		s.sysAcc = s.newAccount(name)
	}
	return nil
}

// AccountLimits are an account's limits (its limits {} block); zero means
// no limit of the account's own. MaxSubscriptions and MaxPayload apply per
// connection, as upstream's, and only where lower than the server's.
type AccountLimits struct {
	// MaxConnections bounds the account's clients at once; one more gets
	// -ERR 'maximum account active connections exceeded'.
	MaxConnections   int
	MaxSubscriptions int
	MaxPayload       int
	// MaxLeafNodes bounds the leaf node connections bound to the account
	// on this server (an account JWT's "leaf" limit); one more is refused
	// with the same error.
	MaxLeafNodes int
	// JWT: the limits come from an account JWT (operator mode), where, as
	// upstream, 0 is a limit of zero and a negative value no limit.
	JWT bool
}

// limit reads one limit v of l: its value and whether it limits at all.
func (l *AccountLimits) limit(v int) (int, bool) {
	if l.JWT {
		return v, v >= 0
	}
	return v, v > 0
}

// AddLeafNode counts one more leaf node connection bound to a; it
// reports false, counting nothing, when the account has MaxLeafNodes
// already (the leaf node module then refuses the connection with
// upstream's "maximum account active connections exceeded").
func (a *Account) AddLeafNode() bool {
	l := a.lim()
	max, limited := l.limit(l.MaxLeafNodes)
	if a.leafs.Add(1) > int32(max) && limited {
		a.leafs.Add(-1)
		return false
	}
	return true
}

// RemoveLeafNode counts one leaf node connection fewer; once per
// successful AddLeafNode.
func (a *Account) RemoveLeafNode() { a.leafs.Add(-1) }

// NumLeafNodes is the number of leaf node connections bound to a.
func (a *Account) NumLeafNodes() int { return int(a.leafs.Load()) }

// lim returns the account's current limits.
func (a *Account) lim() *AccountLimits { return a.limits.Load() }

// addConn counts one more client of a; it reports false, counting
// nothing, when the account is full. Every client is counted, so that a
// reload that sets a limit finds the clients already there.
func (a *Account) addConn() bool {
	l := a.lim()
	max, ok := l.limit(l.MaxConnections)
	if !ok {
		a.conns.Add(1)
		return true
	}
	if a.conns.Add(1) > int32(max) {
		a.conns.Add(-1)
		return false
	}
	return true
}

// setAccountLimits gives the accounts of o their limits; it runs in New.
func (s *Server) setAccountLimits(o *Options) error {
	lims, err := accountLimits(o, s.accounts)
	if err != nil {
		return err
	}
	for acc, l := range lims {
		acc.limits.Store(l)
	}
	return nil
}

// accountLimits checks the limits of o against the accounts accs and
// returns each account's limits (zero where o sets none).
func accountLimits(o *Options, accs map[string]*Account) (map[*Account]*AccountLimits, error) {
	out := make(map[*Account]*AccountLimits, len(accs))
	for _, acc := range accs {
		out[acc] = &AccountLimits{}
	}
	for name, l := range o.AccountLimits {
		acc := accs[name]
		if acc == nil {
			return nil, fmt.Errorf("%w: limits for undefined account %q", ErrBadOptions, name)
		}
		if !l.JWT && (l.MaxConnections < 0 || l.MaxSubscriptions < 0 || l.MaxPayload < 0 || l.MaxLeafNodes < 0) {
			return nil, fmt.Errorf("%w: account %s: negative limit", ErrBadOptions, name)
		}
		out[acc] = &l
	}
	return out, nil
}
