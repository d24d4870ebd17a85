package server

import (
	"encoding/json"
	"errors"
	"time"

	"natsd.dev/server/snapshot"
)

// Subjects of the requests the system account answers, as upstream names
// them. A server answers $SYS.REQ.SERVER.<its id>.<KIND> alone and
// $SYS.REQ.SERVER.PING.<KIND> with every other server, unless the request's
// filter (server_name, cluster, host, tags, domain) leaves it out.
const (
	sysServerReqPrefix  = "$SYS.REQ.SERVER."
	sysServerPing       = "$SYS.REQ.SERVER.PING"
	sysAccountPingStatz = "$SYS.REQ.ACCOUNT.PING.STATZ"
)

// KindStatsz is the server statistics request, answered on
// $SYS.REQ.SERVER.PING, $SYS.REQ.SERVER.PING.STATSZ and
// $SYS.REQ.SERVER.<id>.STATSZ with a ServerStatsMsg (not wrapped in a
// ServerAPIResponse, as upstream).
const KindStatsz = "STATSZ"

// sysKinds are the kinds the system account answers by server id and by
// PING.
var sysKinds = []string{
	KindVarz, KindConnz, KindSubsz, KindRoutez, KindGatewayz, KindLeafz,
	KindAccountz, "ACCSTATZ", KindHealthz, KindStatsz, KindJsz,
}

// sysQueueLen bounds the requests waiting for the system service; more are
// dropped, and their requesters time out, rather than stall a publisher.
const sysQueueLen = 256

// ServerStatsMsg is the answer to a STATSZ request.
type ServerStatsMsg struct {
	Server *snapshot.ServerInfo `json:"server"`
	Stats  *ServerStats         `json:"statsz"`
}

// ServerStats are the server's statistics in a ServerStatsMsg, with
// upstream's field names.
type ServerStats struct {
	Start            time.Time          `json:"start"`
	Mem              int64              `json:"mem"`
	Cores            int                `json:"cores"`
	CPU              float64            `json:"cpu"`
	Connections      int                `json:"connections"`
	TotalConnections uint64             `json:"total_connections"`
	ActiveAccounts   int                `json:"active_accounts"`
	NumSubs          uint32             `json:"subscriptions"`
	Sent             snapshot.DataStats `json:"sent"`
	Received         snapshot.DataStats `json:"received"`
	SlowConsumers    int64              `json:"slow_consumers"`
	Routes           []*RouteStat       `json:"routes,omitempty"`
	ActiveServers    int                `json:"active_servers"`
}

// RouteStat is one route connection in ServerStats, as upstream's.
type RouteStat struct {
	ID       uint64             `json:"rid"`
	Name     string             `json:"name,omitempty"`
	Sent     snapshot.DataStats `json:"sent"`
	Received snapshot.DataStats `json:"received"`
	Pending  int                `json:"pending"`
}

// sysRequest is a request copied out of the publisher's buffers.
type sysRequest struct {
	kind    string
	subject string // set for the requests that take a token from it
	reply   string
	data    []byte
	who     Requester // for USER.INFO
}

// systemService answers the $SYS requests through an internal client of
// the system account. Handlers only queue requests: building a CONNZ locks
// every client, which must not happen on a publisher's goroutine.
type systemService struct {
	ic     *InternalClient
	reqs   chan sysRequest
	events chan sysEvent
}

// startSystem subscribes the system account's internal client to the
// request subjects. It runs in New; Start starts the goroutine that
// answers.
func (s *Server) startSystem() error {
	if s.sysAcc == nil {
		return nil
	}
	ic, err := s.NewInternalClient(s.sysAcc.Name)
	if err != nil {
		return err
	}
	sys := &systemService{ic: ic, reqs: make(chan sysRequest, sysQueueLen), events: make(chan sysEvent, sysEventQueueLen)}
	sub := func(subject, kind string) error {
		_, err := ic.Subscribe(subject, "", func(m *Msg) {
			// A STATSZ request without a reply asks for a broadcast on
			// $SYS.SERVER.<id>.STATSZ, as upstream.
			if len(m.Reply) == 0 && kind != KindStatsz {
				return
			}
			req := sysRequest{kind: kind, reply: string(m.Reply), data: append([]byte(nil), m.Data...)}
			if wildcardKinds[kind] {
				req.subject = string(m.Subject)
			}
			if kind == kindUserInfo {
				req.who = m.Requester()
			}
			select {
			case sys.reqs <- req:
			default:
			}
		})
		return err
	}
	for _, kind := range sysKinds {
		if err := sub(sysServerReqPrefix+s.id+"."+kind, kind); err != nil {
			return err
		}
		if err := sub(sysServerPing+"."+kind, kind); err != nil {
			return err
		}
	}
	if err := sub(sysServerPing, KindStatsz); err != nil {
		return err
	}
	if err := sub(sysAccountPingStatz, KindAccStatz); err != nil {
		return err
	}
	for _, r := range s.sysExtraRequests() {
		if err := sub(r.subject, r.kind); err != nil {
			return err
		}
	}
	s.sys = sys
	return nil
}

// runSystem answers queued requests, publishes queued advisories and sends
// the STATSZ heartbeat until the server shuts down.
func (s *Server) runSystem() {
	defer s.wg.Done()
	sys := s.sys
	defer sys.ic.Close()
	hb := newStatszHeartbeat()
	timer := time.NewTimer(hb.interval)
	defer timer.Stop()
	conns := &accConnsHeartbeat{due: map[string]time.Time{}}
	connsTimer := time.NewTimer(time.Hour)
	connsTimer.Stop()
	defer connsTimer.Stop()
	rearm := func(now time.Time) {
		if d, ok := conns.wait(now); ok {
			connsTimer.Reset(d)
		} else {
			connsTimer.Stop()
		}
	}
	for {
		select {
		case <-s.quit:
			return
		case now := <-timer.C:
			if hb.due(now) {
				s.broadcastStatsz()
			}
			timer.Reset(hb.next(now))
		case now := <-connsTimer.C:
			s.accountConnsBeat(conns, now)
			rearm(now)
		case ev := <-sys.events:
			s.publishEvent(ev)
			if acc := ev.account(); acc != "" {
				now := time.Now()
				s.accountConnsChanged(conns, acc, now)
				rearm(now)
			}
		case req := <-sys.reqs:
			if req.kind == KindStatsz && req.reply == "" {
				// A broadcast asked for: it also resets the rate limit,
				// as upstream.
				if !s.statszFiltered(req.data) {
					hb.last = time.Time{}
					s.broadcastStatsz()
					hb.last = time.Now()
				}
				continue
			}
			body, err := s.systemAnswer(req)
			if err != nil {
				if !errors.Is(err, ErrNotForUs) {
					s.log.Debug("system request " + req.kind + ": " + err.Error())
				}
				continue
			}
			_ = sys.ic.Publish(req.reply, "", nil, body)
		}
	}
}

// systemAnswer builds the answer to req.
func (s *Server) systemAnswer(req sysRequest) ([]byte, error) {
	if ans, ok := s.extraAnswer(req); ok {
		return ans()
	}
	if req.kind != KindStatsz {
		return s.MonitorRequest(req.kind, req.data)
	}
	if s.statszFiltered(req.data) {
		return nil, ErrNotForUs
	}
	return json.Marshal(s.statsz())
}

// statszFiltered reports whether the filter in a STATSZ request body
// leaves this server out.
func (s *Server) statszFiltered(req []byte) bool {
	var filter snapshot.EventFilterOptions
	if len(req) > 0 {
		// A malformed filter selects every server, as an empty one does.
		_ = json.Unmarshal(req, &filter)
	}
	return s.filtered(&filter)
}

// statsz gathers the statistics of a ServerStatsMsg.
func (s *Server) statsz() *ServerStatsMsg {
	v, _ := s.Varz(nil)
	active := 0
	for range s.accountCounts() {
		active++
	}
	routes, servers := s.routeStats()
	return &ServerStatsMsg{
		Server: s.serverInfo(),
		Stats: &ServerStats{
			Start:            v.Start,
			Mem:              v.Mem,
			Cores:            v.Cores,
			CPU:              v.CPU,
			Connections:      v.Connections,
			TotalConnections: v.TotalConnections,
			ActiveAccounts:   active,
			NumSubs:          v.Subscriptions,
			Sent:             snapshot.DataStats{Msgs: v.OutMsgs, Bytes: v.OutBytes},
			Received:         snapshot.DataStats{Msgs: v.InMsgs, Bytes: v.InBytes},
			SlowConsumers:    v.SlowConsumers,
			Routes:           routes,
			ActiveServers:    servers,
		},
	}
}

// routeStats lists the route connections for STATSZ and counts the servers
// of the cluster this one is connected to, itself included.
func (s *Server) routeStats() ([]*RouteStat, int) {
	rz, err := s.Routez(&snapshot.RoutezOptions{})
	if err != nil {
		return nil, 1
	}
	peers := make(map[string]bool)
	var routes []*RouteStat
	for _, r := range rz.Routes {
		peers[r.RemoteID] = true
		routes = append(routes, &RouteStat{
			ID: r.Rid, Name: r.RemoteName, Pending: r.Pending,
			Sent:     snapshot.DataStats{Msgs: r.OutMsgs, Bytes: r.OutBytes},
			Received: snapshot.DataStats{Msgs: r.InMsgs, Bytes: r.InBytes},
		})
	}
	return routes, len(peers) + 1
}
