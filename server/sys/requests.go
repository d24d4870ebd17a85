package sys

import (
	"encoding/json"
	"strings"
	"time"

	"natsd.dev/auth"
	"natsd.dev/server"
	"natsd.dev/server/snapshot"
)

// The STATSZ heartbeat and the $SYS requests beyond the monitoring kinds:
// IDZ, the per-account requests ($SYS.REQ.ACCOUNT.<acc>.<KIND>), USER.INFO,
// a client's lame duck (LDM), KICK and RELOAD (Server.ReloadConfig). All of them run on the system goroutine
// (Service.Run), like the monitoring requests.

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
	serverEventPrefix     = "$SYS.SERVER."
	accountReqPrefix      = "$SYS.REQ.ACCOUNT."
	userInfoSubject       = "$SYS.REQ.USER.INFO"
	accountConnsEventType = "io.nats.server.advisory.v1.account_connections"

	// KindIdz asks for a server's name, host and id, answered bare (not in
	// a ServerAPIResponse), as upstream.
	KindIdz = "IDZ"

	kindLDM      = "LDM"
	kindKick     = "KICK"
	kindReload   = "RELOAD"
	kindUserInfo = "USER.INFO"
	// Per-account kinds: "ACC." + the subject's last token.
	kindAccPrefix = "ACC."
)

// accountKinds are the last tokens of $SYS.REQ.ACCOUNT.<acc>.<KIND>.
var accountKinds = []string{server.KindConnz, server.KindSubsz, server.KindLeafz, "INFO", "CONNS", server.KindAccStatz}

// wildcardKinds are the kinds whose subject carries a token the answer
// needs (the account).
var wildcardKinds = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range accountKinds {
		m[kindAccPrefix+k] = true
	}
	return m
}()

// extraRequests are the subscriptions Attach adds for the requests of
// this file, for the server with the given id.
func extraRequests(id string) []subject {
	reqs := []subject{
		{serverReqPrefix + id + "." + KindIdz, KindIdz},
		{serverPing + "." + KindIdz, KindIdz},
		{serverReqPrefix + id + "." + kindLDM, kindLDM},
		{serverReqPrefix + id + "." + kindKick, kindKick},
		{serverReqPrefix + id + "." + kindReload, kindReload},
		{userInfoSubject, kindUserInfo},
	}
	for _, k := range accountKinds {
		reqs = append(reqs, subject{accountReqPrefix + "*." + k, kindAccPrefix + k})
	}
	return reqs
}

// extraAnswer returns the function answering req when req is one of the
// kinds of this file.
func (svc *Service) extraAnswer(req request) (func() ([]byte, error), bool) {
	s := svc.srv
	switch {
	case req.kind == KindIdz:
		return func() ([]byte, error) { return idz(s) }, true
	case req.kind == kindLDM:
		return func() ([]byte, error) { return clientRequest(s, req.data, s.LameDuckClient) }, true
	case req.kind == kindKick:
		return func() ([]byte, error) { return clientRequest(s, req.data, s.KickClient) }, true
	case req.kind == kindReload:
		// As upstream: an empty answer on success, the reload's error
		// (code 500) otherwise; there is no PING form.
		return func() ([]byte, error) { return reload(s) }, true
	case req.kind == kindUserInfo:
		return func() ([]byte, error) { return userInfo(s, req.who) }, true
	case strings.HasPrefix(req.kind, kindAccPrefix):
		acc, ok := accountFromSubject(req.subject)
		if !ok {
			return func() ([]byte, error) { return nil, server.ErrNotForUs }, true
		}
		return func() ([]byte, error) {
			return accountRequest(s, strings.TrimPrefix(req.kind, kindAccPrefix), acc, req.data)
		}, true
	}
	return nil, false
}

// reload answers $SYS.REQ.SERVER.<id>.RELOAD: the body is ignored; the
// answer has no data, and the reload's error as a 500, as upstream's.
func reload(s *server.Server) ([]byte, error) {
	resp := snapshot.ServerAPIResponse{Server: s.ServerInfo()}
	if err := s.ReloadConfig(); err != nil {
		resp.Error = &snapshot.ServerAPIError{Code: 500, Description: err.Error()}
	}
	return json.Marshal(&resp)
}

// accountFromSubject takes <acc> out of $SYS.REQ.ACCOUNT.<acc>.<KIND>.
func accountFromSubject(subject string) (string, bool) {
	rest, ok := strings.CutPrefix(subject, accountReqPrefix)
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
func (svc *Service) broadcastStatsz() {
	subj := serverEventPrefix + svc.srv.ID() + "." + KindStatsz
	if !svc.srv.SystemAccount().HasInterest(subj) {
		return
	}
	b, err := json.Marshal(svc.statsz())
	if err != nil {
		return
	}
	_ = svc.sess.Publish(subj, "", nil, b)
}

// ServerID is the answer to an IDZ request.
type ServerID struct {
	Name string `json:"name"`
	Host string `json:"host"`
	ID   string `json:"id"`
}

func idz(s *server.Server) ([]byte, error) {
	info := s.ServerInfo()
	return json.Marshal(&ServerID{Name: info.Name, Host: info.Host, ID: info.ID})
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
func accountRequest(s *server.Server, kind, acc string, req []byte) ([]byte, error) {
	switch kind {
	case server.KindConnz:
		o := new(snapshot.ConnzOptions)
		return s.SystemResponse(req, o, func() (any, error) {
			o.Account = acc
			return s.Connz(o)
		})
	case server.KindSubsz:
		o := new(snapshot.SubszOptions)
		return s.SystemResponse(req, o, func() (any, error) {
			o.Account, o.Subscriptions = acc, true
			return s.Subsz(o)
		})
	case server.KindLeafz:
		o := new(snapshot.LeafzOptions)
		return s.SystemResponse(req, o, func() (any, error) {
			o.Account = acc
			return s.Snapshot(server.KindLeafz, o)
		})
	case "INFO":
		return s.SystemResponse(req, nil, func() (any, error) {
			az, err := s.Accountz(&snapshot.AccountzOptions{Account: acc})
			if err != nil {
				return nil, err
			}
			return az.Account, nil
		})
	case server.KindAccStatz:
		if acc == "PING" {
			return nil, server.ErrNotForUs // $SYS.REQ.ACCOUNT.PING.STATZ has its own subscription
		}
		o := new(snapshot.AccountStatzOptions)
		return s.SystemResponse(req, o, func() (any, error) {
			o.Accounts = []string{acc}
			st, err := s.AccountStatz(o)
			if err == nil && len(st.Accounts) == 0 && !o.IncludeUnused {
				return nil, server.ErrNoAnswer
			}
			return st, err
		})
	case "CONNS":
		return accountConns(s, acc, req)
	}
	return nil, server.ErrUnknownKind
}

// accountConns answers $SYS.REQ.ACCOUNT.<acc>.CONNS. The optional body
// {"acc": "<acc>"} must name the same account.
func accountConns(s *server.Server, acc string, req []byte) ([]byte, error) {
	if len(req) > 0 {
		var body struct {
			Account string `json:"acc"`
		}
		if err := json.Unmarshal(req, &body); err != nil || body.Account != acc {
			return nil, server.ErrNotForUs
		}
	}
	if s.LookupAccount(acc) == nil {
		return nil, server.ErrNotForUs
	}
	st, err := s.AccountStatz(&snapshot.AccountStatzOptions{Accounts: []string{acc}})
	if err != nil || len(st.Accounts) == 0 || st.Accounts[0].Conns == 0 {
		return nil, server.ErrNotForUs
	}
	m := AccountNumConns{
		Type:        accountConnsEventType,
		ID:          eventID(),
		Time:        time.Now().UTC(),
		Server:      s.ServerInfo(),
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

// clientRequest runs do on the client connection a request body
// {"cid": N} names, or answers "no such client id". LDM tells the client
// to reconnect elsewhere (server.LameDuckClient), KICK closes it
// (server.KickClient), as upstream.
func clientRequest(s *server.Server, req []byte, do func(cid uint64) error) ([]byte, error) {
	var r LDMClientReq
	if err := json.Unmarshal(req, &r); err != nil {
		return nil, server.ErrNotForUs // upstream logs it and does not answer
	}
	return s.SystemResponse(req, nil, func() (any, error) { return nil, do(r.CID) })
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
func userInfo(s *server.Server, who server.Requester) ([]byte, error) {
	return s.SystemResponse(nil, nil, func() (any, error) {
		if !who.Client {
			return nil, server.ErrNoAnswer
		}
		return &UserInfo{UserID: who.User, Account: who.Account, Permissions: userPermissions(who.Permissions)}, nil
	})
}
