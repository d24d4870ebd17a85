package server

import (
	"natsd.dev/sublist"
)

// Account is an isolated subject namespace with its own subscription list.
// Without configured accounts every client is in the global account "$G".
type Account struct {
	// Name is the account's name.
	Name string
	srv  *Server
	sl   *sublist.Sublist[*subscription]
}

// NumSubscriptions returns the number of subscriptions in the account.
func (a *Account) NumSubscriptions() int { return a.sl.Count() }

// SublistStats returns the statistics of the account's subscription list.
func (a *Account) SublistStats() sublist.Stats { return a.sl.Stats() }

// GlobalAccount returns the default account "$G".
func (s *Server) GlobalAccount() *Account { return s.gAcc }

// LookupAccount returns the named account, or nil.
func (s *Server) LookupAccount(name string) *Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accounts[name]
}
