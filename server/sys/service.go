package sys

import (
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"natsd.dev/server"
	"natsd.dev/server/snapshot"
)

// Subjects of the requests the system account answers, as upstream names
// them. A server answers $SYS.REQ.SERVER.<its id>.<KIND> alone and
// $SYS.REQ.SERVER.PING.<KIND> with every other server, unless the request's
// filter (server_name, cluster, host, tags, domain) leaves it out.
const (
	serverReqPrefix  = "$SYS.REQ.SERVER."
	serverPing       = "$SYS.REQ.SERVER.PING"
	accountPingStatz = "$SYS.REQ.ACCOUNT.PING.STATZ"
)

// KindStatsz is the server statistics request, answered on
// $SYS.REQ.SERVER.PING, $SYS.REQ.SERVER.PING.STATSZ and
// $SYS.REQ.SERVER.<id>.STATSZ with a ServerStatsMsg (not wrapped in a
// ServerAPIResponse, as upstream).
const KindStatsz = "STATSZ"

// monitorKinds are the kinds the system account answers by server id and
// by PING.
var monitorKinds = []string{
	server.KindVarz, server.KindConnz, server.KindSubsz, server.KindRoutez, server.KindGatewayz, server.KindLeafz,
	server.KindAccountz, "ACCSTATZ", server.KindHealthz, KindStatsz, server.KindJsz,
}

// queueLen bounds the requests waiting for the service; more are dropped
// (the service's session is best-effort), and their requesters time out,
// rather than stall a publisher.
const queueLen = 256

// eventQueueLen bounds the advisories waiting to be published; more are
// dropped rather than hold up a connecting or closing client.
const eventQueueLen = 1024

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

// request is a request copied out of the session's queue slot.
type request struct {
	kind    string
	subject string // set for the requests that take a token from it
	reply   string
	data    []byte
	who     server.Requester // for USER.INFO
}

// event is an advisory waiting for the service's goroutine, which adds the
// server info and publishes it.
type event struct {
	subject    string
	connect    *snapshot.ConnectEventMsg
	disconnect *snapshot.DisconnectEventMsg
	authErr    bool // disconnect is a CLIENT.AUTH.ERR advisory
}

// Service answers the $SYS requests of one server through a session of
// its system account, and publishes its advisories and heartbeats.
type Service struct {
	srv    *server.Server
	sess   *server.Session
	reqs   chan request
	events chan event
	// gathered counts the STATSZ messages built (tests: nothing is
	// gathered when nobody listens).
	gathered atomic.Int64
	// profiling admits one PROFILEZ at a time; wg waits for it.
	profiling chan struct{}
	wg        sync.WaitGroup
	// removeLDM removes the lame duck listener.
	removeLDM func()
}

func init() {
	server.RegisterSystemService(func(s *server.Server) (server.SystemService, error) { return Attach(s) })
}

// Attach attaches the system service to s, which must have a system
// account, and subscribes it to the request subjects. Importing this
// package registers Attach with the server package (see
// server.RegisterSystemService), so that New calls it and Start runs the
// service; call it directly only for a server New did not give a service.
func Attach(s *server.Server) (*Service, error) {
	acc := s.SystemAccount()
	if acc == nil {
		return nil, errors.New("sys: server without a system account")
	}
	// Best-effort: a request that finds the queue full is dropped and its
	// requester times out, as upstream's; the requests' publishers are
	// never slowed.
	sess, err := s.Attach(server.SessionOptions{
		Kind: server.SessionSystem, Name: "$SYS", Account: acc.Name, QueueLen: queueLen, Drop: true,
	})
	if err != nil {
		return nil, err
	}
	svc := &Service{srv: s, sess: sess, reqs: make(chan request, queueLen), events: make(chan event, eventQueueLen),
		profiling: make(chan struct{}, 1)}
	sub := func(subject, kind string) error {
		_, err := sess.Subscribe(subject, "", func(m *server.Msg) { svc.take(m, kind) })
		return err
	}
	var subs []subject
	for _, kind := range monitorKinds {
		subs = append(subs, subject{serverReqPrefix + s.ID() + "." + kind, kind}, subject{serverPing + "." + kind, kind})
	}
	subs = append(subs, subject{serverPing, KindStatsz}, subject{accountPingStatz, server.KindAccStatz},
		subject{serverReqPrefix + s.ID() + "." + KindProfilez, KindProfilez}, subject{serverPing + "." + KindProfilez, KindProfilez})
	subs = append(subs, extraRequests(s.ID())...)
	for _, r := range subs {
		if err := sub(r.subject, r.kind); err != nil {
			sess.Close()
			return nil, err
		}
	}
	svc.removeLDM = s.AddLameDuckListener(svc.lameDuck)
	return svc, nil
}

type subject struct{ subject, kind string }

// take copies a request out of the session's queue and hands it to the
// service's goroutine. It runs on the session's goroutine.
func (svc *Service) take(m *server.Msg, kind string) {
	// A STATSZ request without a reply asks for a broadcast on
	// $SYS.SERVER.<id>.STATSZ, as upstream.
	if len(m.Reply) == 0 && kind != KindStatsz {
		return
	}
	req := request{kind: kind, reply: string(m.Reply), data: append([]byte(nil), m.Data...)}
	if wildcardKinds[kind] {
		req.subject = string(m.Subject)
	}
	if kind == kindUserInfo {
		req.who = m.Requester()
	}
	select {
	case svc.reqs <- req:
	default:
	}
}

// ClientConnected queues the CONNECT advisory (server.SystemService).
func (svc *Service) ClientConnected(ev *snapshot.ConnectEventMsg) {
	svc.queueEvent(event{subject: accountEventPrefix + ev.Client.Account + ".CONNECT", connect: ev})
}

// ClientDisconnected queues the DISCONNECT advisory (server.SystemService).
func (svc *Service) ClientDisconnected(ev *snapshot.DisconnectEventMsg) {
	svc.queueEvent(event{subject: accountEventPrefix + ev.Client.Account + ".DISCONNECT", disconnect: ev})
}

func (svc *Service) queueEvent(ev event) {
	select {
	case svc.events <- ev:
	default:
	}
}

// Run answers queued requests, publishes queued advisories and sends the
// STATSZ heartbeat until quit closes (server.SystemService).
func (svc *Service) Run(quit <-chan struct{}) {
	defer svc.sess.Close()
	defer svc.wg.Wait()
	defer svc.removeLDM()
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
		case <-quit:
			return
		case now := <-timer.C:
			if hb.due(now) {
				svc.broadcastStatsz()
			}
			timer.Reset(hb.next(now))
		case now := <-connsTimer.C:
			svc.accountConnsBeat(conns, now)
			rearm(now)
		case ev := <-svc.events:
			svc.publishEvent(ev)
			if acc := ev.account(); acc != "" {
				now := time.Now()
				svc.accountConnsChanged(conns, acc, now)
				rearm(now)
			}
		case req := <-svc.reqs:
			if req.kind == KindProfilez {
				svc.runProfilez(req, quit)
				continue
			}
			if req.kind == KindStatsz && req.reply == "" {
				// A broadcast asked for: it also resets the rate limit,
				// as upstream.
				if !svc.statszFiltered(req.data) {
					hb.last = time.Time{}
					svc.broadcastStatsz()
					hb.last = time.Now()
				}
				continue
			}
			body, err := svc.answer(req)
			if err != nil {
				if !errors.Is(err, server.ErrNotForUs) && !errors.Is(err, server.ErrNoAnswer) {
					svc.srv.Logger().Debug("system request " + req.kind + ": " + err.Error())
				}
				continue
			}
			_ = svc.sess.Publish(req.reply, "", nil, body)
		}
	}
}

// answer builds the answer to req.
func (svc *Service) answer(req request) ([]byte, error) {
	if ans, ok := svc.extraAnswer(req); ok {
		return ans()
	}
	if req.kind != KindStatsz {
		return svc.srv.MonitorRequest(req.kind, req.data)
	}
	if svc.statszFiltered(req.data) {
		return nil, server.ErrNotForUs
	}
	return json.Marshal(svc.statsz())
}

// statszFiltered reports whether the filter in a STATSZ request body
// leaves this server out.
func (svc *Service) statszFiltered(req []byte) bool {
	var filter snapshot.EventFilterOptions
	if len(req) > 0 {
		// A malformed filter selects every server, as an empty one does.
		_ = json.Unmarshal(req, &filter)
	}
	return svc.srv.EventFiltered(&filter)
}

// statsz gathers the statistics of a ServerStatsMsg.
func (svc *Service) statsz() *ServerStatsMsg {
	svc.gathered.Add(1)
	s := svc.srv
	v, _ := s.Varz(nil)
	routes, servers := svc.routeStats()
	return &ServerStatsMsg{
		Server: s.ServerInfo(),
		Stats: &ServerStats{
			Start:            v.Start,
			Mem:              v.Mem,
			Cores:            v.Cores,
			CPU:              v.CPU,
			Connections:      v.Connections,
			TotalConnections: v.TotalConnections,
			ActiveAccounts:   s.ActiveAccounts(),
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
func (svc *Service) routeStats() ([]*RouteStat, int) {
	rz, err := svc.srv.Routez(&snapshot.RoutezOptions{})
	if err != nil || len(rz.Routes) == 0 {
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
