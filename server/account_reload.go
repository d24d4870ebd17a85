package server

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
)

// Reloading accounts, as upstream reloads its accounts {} block: Reload
// takes the accounts, their limits, exports, imports and mappings (and
// the top-level mappings of the global account) of the new options.
//
//  1. planAccounts builds everything on the side, under Server.reloadMu
//     (the only writer of Server.accounts after New): the new accounts
//     (not yet listed), the limits of every account and all links,
//     validated as New validates them. Nothing changes when it fails.
//  2. Reload lists the new accounts and unlists the removed ones under
//     Server.mu, with the new serverAuth, then gives every account its
//     limits and links by swapping pointers: a message being delivered
//     keeps the links it loaded, the next one takes the new ones, so
//     connected clients see new imports, exports and mappings at once;
//     interest through stream imports (hasInterest) reads the new links
//     too.
//  3. Clients of a removed account are closed, as upstream does: those
//     whose user went with the account by the authorization check
//     (auth_reload.go), any other client or session bound to it by
//     closeRemovedAccounts (Client Closed).
//
// The global account and the system account stay; system_account itself
// is not reloadable (the command refuses it). An account max_connections
// set or lowered below the account's clients closes the excess client
// connections, newest first, as upstream: each gets -ERR 'maximum account
// active connections exceeded' (close reason Maximum Account Connections
// Exceeded); sessions count but are not closed. max_subscriptions
// applies to the next SUB, max_payload to the client's next read.

// accountsReload is what a reload does to the accounts.
type accountsReload struct {
	accs    map[string]*Account // the accounts after the reload
	added   []*Account
	removed map[*Account]bool
	limits  map[*Account]*AccountLimits
	links   linkSet
}

// changed reports whether accounts come or go.
func (r *accountsReload) changed() bool { return len(r.added) > 0 || len(r.removed) > 0 }

// planAccounts builds the accounts of o (see above). s.reloadMu is held.
func (s *Server) planAccounts(o *Options) (*accountsReload, error) {
	o = s.withJWT(o) // operator mode: the accounts built from JWTs stay
	r := &accountsReload{accs: maps.Clone(s.accounts), removed: map[*Account]bool{}}
	keep := map[string]bool{GlobalAccountName: true}
	if s.sysAcc != nil {
		keep[s.sysAcc.Name] = true
	}
	for _, name := range o.Accounts {
		switch {
		case name == "":
			return nil, fmt.Errorf("%w: account with an empty name", ErrBadOptions)
		case keep[name] && name != GlobalAccountName && (s.sysAcc == nil || name != s.sysAcc.Name):
			return nil, fmt.Errorf("%w: duplicate account %q", ErrBadOptions, name)
		}
		keep[name] = true
		if r.accs[name] == nil {
			a := unlistedAccount(s, name)
			r.accs[name] = a
			r.added = append(r.added, a)
		}
	}
	for name, a := range r.accs {
		if !keep[name] {
			delete(r.accs, name)
			r.removed[a] = true
		}
	}
	var err error
	if r.limits, err = accountLimits(o, r.accs); err != nil {
		return nil, err
	}
	if r.links, err = s.buildLinks(o, r.accs); err != nil {
		return nil, err
	}
	for _, a := range r.added {
		if err := s.systemImports(a); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// applyAccountsLocked lists the accounts of r and gives them their limits
// and links. s.mu and s.reloadMu are held.
func (s *Server) applyAccountsLocked(r *accountsReload) {
	for _, a := range r.added {
		s.accounts[a.Name] = a
	}
	for a := range r.removed {
		a.removed.Store(true)
		delete(s.accounts, a.Name)
	}
	for a, l := range r.limits {
		if *a.lim() != *l {
			a.limits.Store(l)
		}
	}
	s.publishLinks(r.links, r.accs)
}

// closeRemovedAccounts closes the clients and sessions in cs still bound
// to an account r removed.
func (s *Server) closeRemovedAccounts(r *accountsReload, cs []*client) {
	if len(r.removed) == 0 {
		return
	}
	for _, c := range cs {
		if c.kind != kindClient && c.kind != kindSession {
			continue
		}
		c.mu.Lock()
		acc, closed := c.acc, c.closed
		c.mu.Unlock()
		if !closed && r.removed[acc] {
			c.debugf("Closing connection: account " + acc.Name + " removed by configuration reload")
			c.closeConnection(reasonClientClosed)
		}
	}
}

// closeAccountExcess closes, for each account of r whose connection limit
// its clients exceed, the newest client connections of cs over it. No
// lock is held.
func (s *Server) closeAccountExcess(r *accountsReload, cs []*client) {
	over := map[*Account]int{}
	for a := range r.limits {
		if max, ok := a.lim().limit(a.lim().MaxConnections); ok {
			if n := int(a.conns.Load()) - max; n > 0 {
				over[a] = n
			}
		}
	}
	if len(over) == 0 {
		return
	}
	slices.SortFunc(cs, func(a, b *client) int { return cmp.Compare(b.cid, a.cid) })
	for _, c := range cs {
		if c.kind != kindClient {
			continue
		}
		c.mu.Lock()
		acc, counted, closed := c.acc, c.accCounted, c.closed
		c.mu.Unlock()
		if closed || !counted || over[acc] == 0 {
			continue
		}
		over[acc]--
		s.log.Error(c.logPrefix() + " - " + errTextMaxAccountConns + " - Account: " + acc.Name)
		c.sendErrAndClose(errTextMaxAccountConns, reasonMaxAccountConnections)
	}
}
