package server

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"

	"natsd.dev/server/snapshot"
)

// Advisory subjects and types, as upstream names them. The system account
// publishes one CONNECT advisory when a client's CONNECT is accepted and
// one DISCONNECT advisory when it closes, on the subject of the client's
// account; nothing is published per message.
const (
	sysAccountEventPrefix = "$SYS.ACCOUNT."
	connectEventType      = "io.nats.server.advisory.v1.client_connect"
	disconnectEventType   = "io.nats.server.advisory.v1.client_disconnect"
)

// sysEventQueueLen bounds the advisories waiting to be published; more are
// dropped rather than hold up a connecting or closing client.
const sysEventQueueLen = 1024

// ClientInfo describes the client of a connect or disconnect advisory, with
// upstream's field names.
type ClientInfo struct {
	Start      *time.Time `json:"start,omitempty"`
	Host       string     `json:"host,omitempty"`
	ID         uint64     `json:"id,omitempty"`
	Account    string     `json:"acc"`
	User       string     `json:"user,omitempty"`
	Name       string     `json:"name,omitempty"`
	Lang       string     `json:"lang,omitempty"`
	Version    string     `json:"ver,omitempty"`
	RTT        string     `json:"rtt,omitempty"`
	Server     string     `json:"server,omitempty"`
	Stop       *time.Time `json:"stop,omitempty"`
	Kind       string     `json:"kind,omitempty"`
	ClientType string     `json:"client_type,omitempty"`
}

// ConnectEventMsg is the advisory published on $SYS.ACCOUNT.<acc>.CONNECT.
type ConnectEventMsg struct {
	Type   string               `json:"type"`
	ID     string               `json:"id"`
	Time   time.Time            `json:"timestamp"`
	Server *snapshot.ServerInfo `json:"server"`
	Client ClientInfo           `json:"client"`
}

// DisconnectEventMsg is the advisory published on
// $SYS.ACCOUNT.<acc>.DISCONNECT.
type DisconnectEventMsg struct {
	Type     string               `json:"type"`
	ID       string               `json:"id"`
	Time     time.Time            `json:"timestamp"`
	Server   *snapshot.ServerInfo `json:"server"`
	Client   ClientInfo           `json:"client"`
	Sent     snapshot.DataStats   `json:"sent"`
	Received snapshot.DataStats   `json:"received"`
	Reason   string               `json:"reason"`
}

// sysEvent is an advisory waiting for the system goroutine, which adds the
// server info and publishes it.
type sysEvent struct {
	subject    string
	connect    *ConnectEventMsg
	disconnect *DisconnectEventMsg
}

// clientInfoLocked describes c for an advisory; c.mu is held.
func (c *client) clientInfoLocked(server string) ClientInfo {
	start := c.start.UTC()
	ci := ClientInfo{
		Start:      &start,
		Host:       c.host,
		ID:         c.cid,
		Account:    c.acc.Name,
		User:       c.authUser,
		Name:       c.name,
		Lang:       c.lang,
		Version:    c.version,
		Server:     server,
		Kind:       "Client",
		ClientType: "nats",
	}
	if c.ws {
		ci.ClientType = "websocket"
	}
	if c.rtt > 0 {
		ci.RTT = c.rtt.String()
	}
	return ci
}

// connectEvent queues the CONNECT advisory of c, whose CONNECT was just
// accepted. It runs on c's read goroutine.
func (s *Server) connectEvent(c *client) {
	if s.sys == nil || c.kind != kindClient {
		return
	}
	c.mu.Lock()
	ci := c.clientInfoLocked(s.Name())
	c.mu.Unlock()
	ev := &ConnectEventMsg{Type: connectEventType, Client: ci}
	s.sys.queueEvent(sysEvent{subject: sysAccountEventPrefix + ci.Account + ".CONNECT", connect: ev})
}

// disconnectEvent queues the DISCONNECT advisory of c, which closed after
// its CONNECT was accepted.
func (s *Server) disconnectEvent(c *client) {
	if s.sys == nil || c.kind != kindClient {
		return
	}
	c.mu.Lock()
	if !c.connectSeen {
		c.mu.Unlock()
		return
	}
	ci := c.clientInfoLocked(s.Name())
	stop := c.stop.UTC()
	ci.Stop = &stop
	ev := &DisconnectEventMsg{
		Type:     disconnectEventType,
		Client:   ci,
		Sent:     snapshot.DataStats{Msgs: c.outMsgs, Bytes: c.outBytes},
		Received: snapshot.DataStats{Msgs: c.inMsgsTotal.Load(), Bytes: c.inBytesTotal.Load()},
		Reason:   c.reason.String(),
	}
	c.mu.Unlock()
	s.sys.queueEvent(sysEvent{subject: sysAccountEventPrefix + ci.Account + ".DISCONNECT", disconnect: ev})
}

// account is the name of the account whose connection ev reports.
func (ev *sysEvent) account() string {
	switch {
	case ev.connect != nil:
		return ev.connect.Client.Account
	case ev.disconnect != nil:
		return ev.disconnect.Client.Account
	}
	return ""
}

func (sys *systemService) queueEvent(ev sysEvent) {
	select {
	case sys.events <- ev:
	default:
	}
}

// publishEvent completes ev and publishes it through the system client.
func (s *Server) publishEvent(ev sysEvent) {
	var msg any
	id, now, info := eventID(), time.Now().UTC(), s.serverInfo()
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
	_ = s.sys.ic.Publish(ev.subject, "", nil, b)
}

// eventID returns a unique id for an advisory.
func eventID() string {
	var b [11]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
