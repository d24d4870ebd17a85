package sys

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Advisories: the system account publishes one CONNECT advisory when a
// client's CONNECT is accepted and one DISCONNECT advisory when it closes,
// on the subject of the client's account; nothing is published per
// message. The core builds them (snapshot.ConnectEventMsg,
// snapshot.DisconnectEventMsg); the service adds the id, time and server.
const accountEventPrefix = "$SYS.ACCOUNT."

// account is the name of the account whose connection ev reports.
func (ev *event) account() string {
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
