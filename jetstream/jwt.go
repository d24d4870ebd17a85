package jetstream

import (
	"fmt"
	"maps"
	"slices"

	"natsd.dev/jetstream/api"
	"natsd.dev/server"
)

// jwtAccount gives an account the server built from its JWT (operator
// mode) its JetStream, as upstream: enabled when the JWT's limits enable
// it, with those limits (a tiered JWT's "R1" tier, the replication this
// server's streams have), and otherwise an API that answers "jetstream
// not enabled for account". It runs before the first client of the
// account is admitted. A new JWT of an account served already replaces
// its limits at once (new streams, consumers and stored messages are
// held to them); turning JetStream on or off for it takes a restart.
func (js *JetStream) jwtAccount(name string, tiers map[string]server.AccountJetStreamLimits) {
	js.addMu.Lock()
	defer js.addMu.Unlock()
	js.mu.Lock()
	closed, have := js.closed, js.accounts[name]
	js.mu.Unlock()
	if closed {
		return
	}
	lim, on := jwtLimits(tiers)
	if have != nil {
		if have.enabled && on && *have.lim() != lim {
			have.limits.Store(&lim)
			js.log.Info(fmt.Sprintf("Updated JetStream limits for account %q", name))
		}
		return
	}
	if a := js.srv.SystemAccount(); a != nil && a.Name == name {
		on = false
	}
	if _, err := js.addAccount(name, lim, on); err != nil {
		js.log.Error(fmt.Sprintf("Error configuring jetstream for account [%s]: %v", name, err))
		return
	}
	if on {
		js.log.Info(fmt.Sprintf("  Started JetStream for account %q", name))
	}
}

// jwtLimits picks the limits of an account JWT's JetStream tiers: the
// untiered limits, else the R1 tier, else the first tier by name.
func jwtLimits(tiers map[string]server.AccountJetStreamLimits) (api.AccountLimits, bool) {
	if len(tiers) == 0 {
		return api.AccountLimits{}, false
	}
	l, ok := tiers[""]
	if !ok {
		if l, ok = tiers["R1"]; !ok {
			l = tiers[slices.Sorted(maps.Keys(tiers))[0]]
		}
	}
	clamp := func(v int64) int {
		if v > 1<<31-1 {
			return 1<<31 - 1
		}
		return int(v)
	}
	return api.AccountLimits{
		MaxMemory: l.MaxMemory, MaxStore: l.MaxStore,
		MaxStreams: clamp(l.MaxStreams), MaxConsumers: clamp(l.MaxConsumers), MaxAckPending: clamp(l.MaxAckPending),
		MemoryMaxStreamBytes: l.MemoryMaxStreamBytes, StoreMaxStreamBytes: l.StoreMaxStreamBytes,
		MaxBytesRequired: l.MaxBytesRequired,
	}, true
}

// storageOff reports whether the account's JWT allows no storage of type
// t: its limit is 0, which upstream applies as "none" (mem_storage 0 on
// an account with only disk_storage, say). For accounts configured in
// the file 0 is no limit.
func (a *account) storageOff(t api.StorageType) bool {
	l := a.lim()
	limit := l.MaxStore
	if t == api.MemoryStorage {
		limit = l.MaxMemory
	}
	if limit != 0 {
		return false
	}
	_, fromJWT := a.js.srv.JWTAccountJetStream(a.name)
	return fromJWT
}
