package resolver

import (
	"errors"
	"log/slog"
	"strings"
	"sync"

	"natsd.dev/auth"
	"natsd.dev/server"
)

// updater applies the account JWTs pushed to
// $SYS.REQ.ACCOUNT.<pub>.CLAIMS.UPDATE and $SYS.ACCOUNT.<pub>.CLAIMS.UPDATE
// to the accounts the server built, for the resolvers that keep no JWTs
// of their own (URL, MEMORY), as upstream's server does for them. The
// zero value is ready; Start attaches it.
type updater struct {
	mu   sync.Mutex
	srv  *server.Server
	log  *slog.Logger
	sess *server.Session
}

// Start implements server.ResolverStarter: it subscribes to the account
// update subjects (nothing without a system account).
func (u *updater) Start(s *server.Server) error {
	sys := s.SystemAccount()
	if sys == nil {
		return nil
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.srv, u.log = s, s.Logger()
	sess, err := s.Attach(server.SessionOptions{Kind: server.SessionSystem, Name: "$SYS resolver",
		Account: sys.Name, QueueLen: sessionQueueLen, Drop: true})
	if err != nil {
		return err
	}
	for _, subj := range []string{UpdateSubject("*"), UpdateEventSubject("*")} {
		if _, err := sess.Subscribe(subj, "", u.handleUpdate); err != nil {
			sess.Close()
			return err
		}
	}
	u.sess = sess
	return nil
}

// Close implements server.ResolverCloser.
func (u *updater) Close() {
	u.mu.Lock()
	sess := u.sess
	u.sess = nil
	u.mu.Unlock()
	if sess != nil {
		sess.Close()
	}
}

// handleUpdate applies a pushed account JWT, answering as upstream's
// server does for resolvers that do not track updates.
func (u *updater) handleUpdate(m *server.Msg) {
	pub := accountFromSubject(string(m.Subject))
	if pub == "" {
		return
	}
	u.mu.Lock()
	rr := &Resolver{srv: u.srv, log: u.log, sess: u.sess}
	u.mu.Unlock()
	if rr.sess == nil {
		return
	}
	reply := string(m.Reply)
	tok := strings.TrimSpace(string(m.Data))
	switch c, err := auth.DecodeClaims(tok); {
	case len(tok) == 0:
		rr.respond(reply, pub, "jwt update error", errors.New("request body is empty"))
	case err != nil:
		rr.respond(reply, pub, "jwt update error", err)
	case c.Subject != pub:
		rr.respond(reply, pub, "jwt update error", errors.New("subject does not match jwt content"))
	case rr.srv.AccountClaims(pub) == nil:
		rr.respond(reply, pub, "jwt update skipped", nil)
	default:
		if err := rr.srv.UpdateAccountClaims(tok); err != nil {
			rr.respond(reply, pub, "jwt update error", err)
			return
		}
		rr.respond(reply, pub, "jwt updated", nil)
	}
}

// Memory is the MEMORY resolver (server.MemoryResolver: the
// resolver_preload JWTs) with the pushed updates applied to the accounts
// the server built, as upstream's. Safe for concurrent use.
type Memory struct {
	*server.MemoryResolver
	updater
}

// NewMemory returns the MEMORY resolver of preload (account public key
// to JWT; copied).
func NewMemory(preload map[string]string) *Memory {
	return &Memory{MemoryResolver: server.NewMemoryResolver(preload)}
}
