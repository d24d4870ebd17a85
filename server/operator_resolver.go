package server

import (
	"fmt"
	"slices"

	"natsd.dev/auth"
)

// The core's side of the account resolvers that live beyond a fixed set
// of JWTs (natsd.dev/server/resolver: the full, cache and URL
// resolvers). They reach the server through the optional capabilities
// below and the exported methods of this file; the core imports none of
// them.

// ResolverStarter is an optional capability of an AccountResolver: New
// calls Start once the system account exists (and the system service is
// attached), so that the resolver can attach its own session and answer
// its $SYS requests. An error fails New.
type ResolverStarter interface {
	Start(s *Server) error
}

// ResolverCloser is an optional capability of an AccountResolver:
// Shutdown calls Close once, after the clients and links are closed; it
// stops what Start started and waits for it.
type ResolverCloser interface {
	Close()
}

// startResolver starts the operator mode resolver when it has the
// ResolverStarter capability.
func (s *Server) startResolver() error {
	if s.op == nil {
		return nil
	}
	if st, ok := s.op.resolver.(ResolverStarter); ok {
		if err := st.Start(s); err != nil {
			return fmt.Errorf("%w: account resolver: %w", ErrBadOptions, err)
		}
	}
	return nil
}

// closeResolver closes the operator mode resolver when it has the
// ResolverCloser capability.
func (s *Server) closeResolver() {
	if s.op == nil {
		return
	}
	if c, ok := s.op.resolver.(ResolverCloser); ok {
		c.Close()
	}
}

// Trust returns the keys that may sign account JWTs in operator mode
// (the trusted operators and their signing keys), nil outside it.
func (s *Server) Trust() *auth.Trust {
	if s.op == nil {
		return nil
	}
	return s.op.trust
}

// AccountClaims returns the decoded JWT of the account pub when the
// server built the account from it (a client or an import needed it),
// nil otherwise: a resolver applies updates only to those (others are
// built from the resolver's latest JWT when first needed).
func (s *Server) AccountClaims(pub string) *auth.Account {
	if s.op == nil {
		return nil
	}
	return s.op.cached(pub)
}

// RemoveAccountClaims forgets the JWT of the account pub, deleted from
// the resolver: its connected clients are closed with 'Account
// Authentication Expired' as upstream does, and new clients of the
// account fail authentication until a JWT for it can be fetched again.
// As upstream, the account stays in the server's list (/accountz), shown
// expired (jwtExpired) until a JWT builds it again.
func (s *Server) RemoveAccountClaims(pub string) {
	if s.op == nil {
		return
	}
	s.reloadMu.Lock()
	s.op.mu.Lock()
	_, had := s.op.claims[pub]
	delete(s.op.claims, pub)
	if had {
		s.op.deleted[pub] = true
	}
	s.op.mu.Unlock()
	if t := s.op.expiry[pub]; t != nil {
		t.Stop()
		delete(s.op.expiry, pub)
	}
	s.reloadMu.Unlock()
	acc := s.LookupAccount(pub)
	if !had || acc == nil {
		return
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

// pinned reports whether clients of the account pub may connect under
// resolver_pinned_accounts: every account may when the list is empty;
// the system account always may.
func (op *operatorState) pinned(pub, sys string) bool {
	return len(op.pinnedAccounts) == 0 || pub == sys || slices.Contains(op.pinnedAccounts, pub)
}
