package server

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	"natsd.dev/auth"
	"natsd.dev/server/snapshot"
)

// The STATSZ heartbeat and the $SYS requests beyond the monitoring kinds:
// IDZ, the per-account requests ($SYS.REQ.ACCOUNT.<acc>.<KIND>), USER.INFO
// and a client's lame duck (LDM). All of them run on the system goroutine
// (runSystem), like the monitoring requests.

// STATSZ heartbeat timing, as upstream: the first one 250ms after start,
// then at twice the previous interval up to every 10s; two broadcasts are
// at least 1s apart (or the current interval, when shorter), including
// those asked for by a STATSZ request without a reply.
const (
	statszFirst     = 250 * time.Millisecond
	statszInterval  = 10 * time.Second
	statszRateLimit = time.Second
)

// Subjects and kinds of the extra requests.
const (
	sysServerEventPrefix  = "$SYS.SERVER."
	sysAccountReqPrefix   = "$SYS.REQ.ACCOUNT."
	sysUserInfo           = "$SYS.REQ.USER.INFO"
	accountConnsEventType = "io.nats.server.advisory.v1.account_connections"

	// KindIdz asks for a server's name, host and id, answered bare (not in
	// a ServerAPIResponse), as upstream.
	KindIdz = "IDZ"

	kindLDM      = "LDM"
	kindKick     = "KICK"
	kindUserInfo = "USER.INFO"
	// Per-account kinds: "ACC." + the subject's last token.
	kindAccPrefix = "ACC."
)

// accountKinds are the last tokens of $SYS.REQ.ACCOUNT.<acc>.<KIND>.
var accountKinds = []string{KindConnz, KindSubsz, KindLeafz, "INFO", "CONNS", KindAccStatz}

// wildcardKinds are the kinds whose subject carries a token the answer
// needs (the account).
var wildcardKinds = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range accountKinds {
		m[kindAccPrefix+k] = true
	}
	return m
}()

type sysSubject struct{ subject, kind string }

// sysExtraRequests are the subscriptions startSystem adds for the
// requests of this file.
func (s *Server) sysExtraRequests() []sysSubject {
	reqs := []sysSubject{
		{sysServerReqPrefix + s.id + "." + KindIdz, KindIdz},
		{sysServerPing + "." + KindIdz, KindIdz},
		{sysServerReqPrefix + s.id + "." + kindLDM, kindLDM},
		{sysServerReqPrefix + s.id + "." + kindKick, kindKick},
		{sysUserInfo, kindUserInfo},
	}
	for _, k := range accountKinds {
		reqs = append(reqs, sysSubject{sysAccountReqPrefix + "*." + k, kindAccPrefix + k})
	}
	return reqs
}

// extraAnswer returns the function answering req when req is one of the
// kinds of this file.
func (s *Server) extraAnswer(req sysRequest) (func() ([]byte, error), bool) {
	switch {
	case req.kind == KindIdz:
		return s.idz, true
	case req.kind == kindLDM:
		return func() ([]byte, error) { return s.ldmRequest(req.data) }, true
	case req.kind == kindKick:
		return func() ([]byte, error) { return s.kickRequest(req.data) }, true
	case req.kind == kindUserInfo:
		return func() ([]byte, error) { return s.userInfo(req.who) }, true
	case strings.HasPrefix(req.kind, kindAccPrefix):
		acc, ok := accountFromSubject(req.subject)
		if !ok {
			return func() ([]byte, error) { return nil, ErrNotForUs }, true
		}
		return func() ([]byte, error) {
			return s.accountRequest(strings.TrimPrefix(req.kind, kindAccPrefix), acc, req.data)
		}, true
	}
	return nil, false
}

// accountFromSubject takes <acc> out of $SYS.REQ.ACCOUNT.<acc>.<KIND>.
func accountFromSubject(subject string) (string, bool) {
	rest, ok := strings.CutPrefix(subject, sysAccountReqPrefix)
	if !ok {
		return "", false
	}
	acc, _, ok := strings.Cut(rest, ".")
	return acc, ok && acc != ""
}

// statszHeartbeat schedules the periodic STATSZ broadcast. It belongs to
// the system goroutine.
type statszHeartbeat struct {
	interval time.Duration // until the next heartbeat; grows to statszInterval
	last     time.Time     // the last broadcast, zero for none
}

func newStatszHeartbeat() *statszHeartbeat {
	return &statszHeartbeat{interval: statszFirst}
}

// due reports whether a heartbeat may go out at now under the rate limit.
func (h *statszHeartbeat) due(now time.Time) bool {
	return h.last.IsZero() || now.Sub(h.last) >= min(statszRateLimit, h.interval)
}

// next records a heartbeat tick at now and returns the wait until the
// next one.
func (h *statszHeartbeat) next(now time.Time) time.Duration {
	if !h.due(now) {
		// An on-demand broadcast went out just before: wait out the limit.
		return h.last.Add(min(statszRateLimit, h.interval)).Sub(now)
	}
	h.last = now
	h.interval = min(2*h.interval, statszInterval)
	return h.interval
}

// broadcastStatsz publishes the server's statistics on
// $SYS.SERVER.<id>.STATSZ when anyone is listening: without a subscriber
// it does not even gather them.
func (s *Server) broadcastStatsz() {
	subj := sysServerEventPrefix + s.id + "." + KindStatsz
	acc := s.sysAcc
	if !acc.hasInterest(subj) {
		return
	}
	b, err := json.Marshal(s.statsz())
	if err != nil {
		return
	}
	_ = s.sys.ic.Publish(subj, "", nil, b)
}

// ServerID is the answer to an IDZ request.
type ServerID struct {
	Name string `json:"name"`
	Host string `json:"host"`
	ID   string `json:"id"`
}

func (s *Server) idz() ([]byte, error) {
	s.mu.Lock()
	id := ServerID{Name: s.info.Name, Host: s.info.Host, ID: s.info.ID}
	s.mu.Unlock()
	return json.Marshal(&id)
}

// AccountNumConns answers $SYS.REQ.ACCOUNT.<acc>.CONNS: the account's
// connections on this server, as upstream's account_connections event
// (not wrapped in a ServerAPIResponse).
type AccountNumConns struct {
	Type   string               `json:"type"`
	ID     string               `json:"id"`
	Time   time.Time            `json:"timestamp"`
	Server *snapshot.ServerInfo `json:"server"`
	snapshot.AccountStat
}

// accountRequest answers $SYS.REQ.ACCOUNT.<acc>.<kind>. CONNZ, SUBSZ and
// LEAFZ are the monitoring requests limited to the account; INFO is the
// account's details; STATZ its statistics, silent when it has no
// connections here (unless include_unused); CONNS its connection count,
// silent without connections.
func (s *Server) accountRequest(kind, acc string, req []byte) ([]byte, error) {
	switch kind {
	case KindConnz:
		o := new(snapshot.ConnzOptions)
		return s.zRequest(req, o, func() (any, error) {
			o.Account = acc
			return s.Connz(o)
		})
	case KindSubsz:
		o := new(snapshot.SubszOptions)
		return s.zRequest(req, o, func() (any, error) {
			o.Account, o.Subscriptions = acc, true
			return s.Subsz(o)
		})
	case KindLeafz:
		o := new(snapshot.LeafzOptions)
		return s.zRequest(req, o, func() (any, error) {
			o.Account = acc
			return s.Snapshot(KindLeafz, o)
		})
	case "INFO":
		return s.zRequest(req, nil, func() (any, error) {
			az, err := s.Accountz(&snapshot.AccountzOptions{Account: acc})
			if err != nil {
				return nil, err
			}
			return az.Account, nil
		})
	case KindAccStatz:
		if acc == "PING" {
			return nil, ErrNotForUs // $SYS.REQ.ACCOUNT.PING.STATZ has its own subscription
		}
		o := new(snapshot.AccountStatzOptions)
		return s.zRequest(req, o, func() (any, error) {
			o.Accounts = []string{acc}
			st, err := s.AccountStatz(o)
			if err == nil && len(st.Accounts) == 0 && !o.IncludeUnused {
				return nil, errSilent
			}
			return st, err
		})
	case "CONNS":
		return s.accountConns(acc, req)
	}
	return nil, ErrUnknownKind
}

// accountConns answers $SYS.REQ.ACCOUNT.<acc>.CONNS. The optional body
// {"acc": "<acc>"} must name the same account.
func (s *Server) accountConns(acc string, req []byte) ([]byte, error) {
	if len(req) > 0 {
		var body struct {
			Account string `json:"acc"`
		}
		if err := json.Unmarshal(req, &body); err != nil || body.Account != acc {
			return nil, ErrNotForUs
		}
	}
	if s.LookupAccount(acc) == nil {
		return nil, ErrNotForUs
	}
	st, err := s.AccountStatz(&snapshot.AccountStatzOptions{Accounts: []string{acc}})
	if err != nil || len(st.Accounts) == 0 || st.Accounts[0].Conns == 0 {
		return nil, ErrNotForUs
	}
	m := AccountNumConns{
		Type:        accountConnsEventType,
		ID:          eventID(),
		Time:        time.Now().UTC(),
		Server:      s.serverInfo(),
		AccountStat: *st.Accounts[0],
	}
	return json.Marshal(&m)
}

// LDMClientReq is the body of $SYS.REQ.SERVER.<id>.LDM: the connection
// to tell that this server is going away (INFO with ldm true), so that it
// reconnects elsewhere.
type LDMClientReq struct {
	CID uint64 `json:"cid"`
}

// errNoClient is the error of an LDM request for an unknown connection,
// with upstream's text.
var errNoClient = errors.New("no such client id")

func (s *Server) ldmRequest(req []byte) ([]byte, error) {
	return s.clientRequest(req, func(c *client, info Info) {
		info.LameDuckMode = true
		c.sendLameDuckInfo(info)
	})
}

// kickRequest answers $SYS.REQ.SERVER.<id>.KICK: the connection named by
// {"cid": N} is closed (reason Kicked), as upstream.
func (s *Server) kickRequest(req []byte) ([]byte, error) {
	return s.clientRequest(req, func(c *client, _ Info) {
		c.srv.log.Info(c.logPrefix + " - Kicked by a system request")
		c.closeConnection(reasonKicked)
	})
}

// clientRequest runs do on the client connection a request body
// {"cid": N} names, or answers "no such client id".
func (s *Server) clientRequest(req []byte, do func(*client, Info)) ([]byte, error) {
	var r LDMClientReq
	if err := json.Unmarshal(req, &r); err != nil {
		return nil, ErrNotForUs // upstream logs it and does not answer
	}
	return s.zRequest(req, nil, func() (any, error) {
		s.mu.Lock()
		c := s.clients[r.CID]
		info := s.info
		s.mu.Unlock()
		if c == nil || c.kind != kindClient {
			return nil, errNoClient
		}
		do(c, info)
		return nil, nil
	})
}

// UserInfo answers $SYS.REQ.USER.INFO: the requesting user, its account
// and its permissions (nil when unrestricted).
type UserInfo struct {
	UserID      string           `json:"user"`
	Account     string           `json:"account"`
	Permissions *UserPermissions `json:"permissions,omitempty"`
}

// UserPermissions are a user's permissions with upstream's JSON names.
type UserPermissions struct {
	Publish   *UserSubjectPermission  `json:"publish"`
	Subscribe *UserSubjectPermission  `json:"subscribe"`
	Response  *UserResponsePermission `json:"responses,omitempty"`
}

// UserSubjectPermission is an allow and a deny list.
type UserSubjectPermission struct {
	Allow []string `json:"allow,omitempty"`
	Deny  []string `json:"deny,omitempty"`
}

// UserResponsePermission is allow_responses; TTL is in nanoseconds, as
// upstream encodes a time.Duration.
type UserResponsePermission struct {
	MaxMsgs int           `json:"max"`
	TTL     time.Duration `json:"ttl"`
}

func userPermissions(p *auth.Permissions) *UserPermissions {
	if p == nil {
		return nil
	}
	sp := func(x *auth.SubjectPermission) *UserSubjectPermission {
		if x == nil {
			return nil
		}
		return &UserSubjectPermission{Allow: x.Allow, Deny: x.Deny}
	}
	up := &UserPermissions{Publish: sp(p.Publish), Subscribe: sp(p.Subscribe)}
	if r := p.Response; r != nil {
		up.Response = &UserResponsePermission{MaxMsgs: r.MaxMsgs, TTL: r.Expires}
	}
	return up
}

// userInfo answers $SYS.REQ.USER.INFO with the requester's user, account
// and permissions. Users of other accounts reach it through the service
// import every account has (see systemImports).
func (s *Server) userInfo(who Requester) ([]byte, error) {
	return s.zRequest(nil, nil, func() (any, error) {
		if !who.Client {
			return nil, errSilent
		}
		return &UserInfo{UserID: who.User, Account: who.Account, Permissions: userPermissions(who.Permissions)}, nil
	})
}
