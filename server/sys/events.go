package sys

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"

	"natsd.dev/server"
	"natsd.dev/server/snapshot"
)

// Advisories: the system account publishes one CONNECT advisory when a
// client's CONNECT is accepted and one DISCONNECT advisory when it closes,
// on the subject of the client's account; nothing is published per
// message. The core builds them (snapshot.ConnectEventMsg,
// snapshot.DisconnectEventMsg); the service adds the id, time and server.
const accountEventPrefix = "$SYS.ACCOUNT."

// Server events, as upstream: the server's ServerInfo alone on
// $SYS.SERVER.<id>.LAMEDUCK when it enters lame duck mode and on
// $SYS.SERVER.<id>.SHUTDOWN when it shuts down (before its clients and
// routes close, so that they still carry it); a client_disconnect
// advisory with reason "Authentication Failure" on
// $SYS.SERVER.<id>.CLIENT.AUTH.ERR for every failed authentication, and
// again on $SYS.ACCOUNT.$G.DISCONNECT.
const (
	lameDuckEvent  = "LAMEDUCK"
	shutdownEvent  = "SHUTDOWN"
	authErrorEvent = "CLIENT.AUTH.ERR"
)

// lameDuck publishes the LAMEDUCK event; the server calls it (a lame duck
// listener) before it tells its clients.
func (svc *Service) lameDuck() { svc.publishServerEvent(lameDuckEvent) }

// ServerShutdown publishes the SHUTDOWN event (server.ShutdownListener).
func (svc *Service) ServerShutdown() { svc.publishServerEvent(shutdownEvent) }

// ClientAuthFailed queues the CLIENT.AUTH.ERR advisory and, as upstream
// does, the same advisory (with its own id) as a disconnect of the global
// account on $SYS.ACCOUNT.$G.DISCONNECT (server.AuthErrorListener).
func (svc *Service) ClientAuthFailed(ev *snapshot.DisconnectEventMsg) {
	acc := *ev
	svc.queueEvent(event{subject: serverEventPrefix + svc.srv.ID() + "." + authErrorEvent, disconnect: ev, authErr: true})
	svc.queueEvent(event{subject: accountEventPrefix + server.GlobalAccountName + ".DISCONNECT", disconnect: &acc, authErr: true})
}

// publishServerEvent publishes the server's info on
// $SYS.SERVER.<id>.<kind>, when anyone listens. It runs on the caller's
// goroutine: the session is safe for concurrent use.
func (svc *Service) publishServerEvent(kind string) {
	subj := serverEventPrefix + svc.srv.ID() + "." + kind
	if acc := svc.srv.SystemAccount(); acc == nil || !acc.HasInterest(subj) {
		return
	}
	b, err := json.Marshal(svc.srv.ServerInfo())
	if err != nil {
		return
	}
	_ = svc.sess.Publish(subj, "", nil, b)
}

// account is the name of the account whose connection ev reports; none
// for a failed authentication (no account was bound).
func (ev *event) account() string {
	if ev.authErr {
		return ""
	}
	switch {
	case ev.connect != nil:
		return ev.connect.Client.Account
	case ev.disconnect != nil:
		return ev.disconnect.Client.Account
	}
	return ""
}

// publishEvent completes ev and publishes it through the service's
// session, when anyone listens.
func (svc *Service) publishEvent(ev event) {
	if acc := svc.srv.LookupAccount(svc.sess.Account()); acc != nil && !acc.HasInterest(ev.subject) {
		return // nobody listens: no JSON to build (a connect costs less)
	}
	var msg any
	id, now, info := eventID(), time.Now().UTC(), svc.srv.ServerInfo()
	switch {
	case ev.connect != nil:
		ev.connect.ID, ev.connect.Time, ev.connect.Server = id, now, info
		msg = ev.connect
	case ev.disconnect != nil:
		ev.disconnect.ID, ev.disconnect.Time, ev.disconnect.Server = id, now, info
		msg = ev.disconnect
	default:
		return
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return
	}
	_ = svc.sess.Publish(ev.subject, "", nil, b)
}

// eventID returns a unique id for an advisory.
func eventID() string {
	var b [11]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
