package sys

import (
	"encoding/json"
	"time"

	"natsd.dev/server"
	"natsd.dev/server/snapshot"
)

// Account connection events, as upstream: when the number of connections
// of an account (other than $G) changes, and every 30s while it has any,
// the system account publishes an io.nats.server.advisory.v1.account_connections
// event (AccountNumConns) on $SYS.ACCOUNT.<acc>.SERVER.CONNS and on the
// older $SYS.SERVER.ACCOUNT.<acc>.CONNS. Counting an account's connections
// walks the clients, so nothing is counted unless someone listens.

// accConnsInterval is upstream's heartbeat of the account connection
// events (eventsHBInterval).
const accConnsInterval = 30 * time.Second

func accConnsSubjects(acc string) [2]string {
	return [2]string{accountEventPrefix + acc + ".SERVER.CONNS", "$SYS.SERVER.ACCOUNT." + acc + ".CONNS"}
}

// accConnsHeartbeat tracks the accounts that had connections, with the
// time each is next due. It belongs to the system goroutine.
type accConnsHeartbeat struct {
	due map[string]time.Time
}

// wait returns how long until the earliest due account, and false when
// none is tracked.
func (h *accConnsHeartbeat) wait(now time.Time) (time.Duration, bool) {
	var first time.Time
	for _, t := range h.due {
		if first.IsZero() || t.Before(first) {
			first = t
		}
	}
	if first.IsZero() {
		return 0, false
	}
	return max(first.Sub(now), 0), true
}

// accountConnsChanged publishes the event of acc after a client of it
// connected or disconnected, and (re)arms its heartbeat.
func (svc *Service) accountConnsChanged(h *accConnsHeartbeat, acc string, now time.Time) {
	if acc == "" || acc == server.GlobalAccountName {
		return
	}
	h.due[acc] = now.Add(accConnsInterval)
	if n, ok := svc.publishAccountConns(acc); ok && n == 0 {
		delete(h.due, acc)
	}
}

// accountConnsBeat publishes the events of the accounts that are due.
func (svc *Service) accountConnsBeat(h *accConnsHeartbeat, now time.Time) {
	for acc, t := range h.due {
		if t.After(now) {
			continue
		}
		h.due[acc] = now.Add(accConnsInterval)
		if n, ok := svc.publishAccountConns(acc); ok && n == 0 {
			delete(h.due, acc) // the last one said 0; nothing more until a connect
		}
	}
}

// publishAccountConns publishes acc's AccountNumConns if anyone listens.
// It returns the number of connections and whether it counted them.
func (svc *Service) publishAccountConns(acc string) (int, bool) {
	subjects := accConnsSubjects(acc)
	sys := svc.srv.SystemAccount()
	var send [2]bool
	listening := false
	for i, subj := range subjects {
		send[i] = sys.HasInterest(subj)
		listening = listening || send[i]
	}
	if !listening {
		return 0, false
	}
	st, err := svc.srv.AccountStatz(&snapshot.AccountStatzOptions{Accounts: []string{acc}, IncludeUnused: true})
	if err != nil || len(st.Accounts) == 0 {
		return 0, false // the account is gone
	}
	m := AccountNumConns{
		Type:        accountConnsEventType,
		ID:          eventID(),
		Time:        time.Now().UTC(),
		Server:      svc.srv.ServerInfo(),
		AccountStat: *st.Accounts[0],
	}
	b, err := json.Marshal(&m)
	if err != nil {
		return 0, false
	}
	for i, subj := range subjects {
		if send[i] {
			_ = svc.sess.Publish(subj, "", nil, b)
		}
	}
	return m.Conns, true
}
