package monitor

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"

	"natsd.dev/server"
)

// query reads typed query parameters; the first bad one answers 400 with
// upstream's wording and makes ok false.
type query struct {
	w  http.ResponseWriter
	r  *http.Request
	ok bool
}

func newQuery(w http.ResponseWriter, r *http.Request) *query { return &query{w: w, r: r, ok: true} }

func (q *query) str(name string) string { return q.r.URL.Query().Get(name) }

func (q *query) fail(text string) {
	if q.ok {
		badRequest(q.w, text)
		q.ok = false
	}
}

func (q *query) bool(name string) bool {
	v := q.str(name)
	if v == "" || !q.ok {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		q.fail(fmt.Sprintf("Error decoding boolean for '%s': %v", name, err))
	}
	return b
}

func (q *query) int(name string) int {
	v := q.str(name)
	if v == "" || !q.ok {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		q.fail(fmt.Sprintf("Error decoding int for '%s': %v", name, err))
	}
	return n
}

func (q *query) uint64(name string) uint64 {
	v := q.str(name)
	if v == "" || !q.ok {
		return 0
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		q.fail(fmt.Sprintf("Error decoding uint64 for '%s': %v", name, err))
	}
	return n
}

// subs decodes subs=1|true|detail: (list, detail).
func (q *query) subs() (bool, bool) {
	if strings.EqualFold(q.str("subs"), "detail") {
		return false, true
	}
	return q.bool("subs"), false
}

func (q *query) state() server.ConnState {
	switch v := strings.ToLower(q.str("state")); v {
	case "", "open":
		return server.ConnOpen
	case "closed":
		return server.ConnClosed
	case "any", "all":
		return server.ConnAll
	default:
		q.fail("Error decoding state for " + v)
		return server.ConnOpen
	}
}

func (m *Server) handleRoot(w http.ResponseWriter, r *http.Request) {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>natsd monitoring</title>\n")
	b.WriteString("<style>body{font-family:sans-serif;margin:2em}a{display:block;padding:4px 0}</style></head>\n<body>\n")
	fmt.Fprintf(&b, "<h1>natsd %s</h1>\n<p>server %s</p>\n", html.EscapeString(server.Version), html.EscapeString(m.srv.Name()))
	titles := map[string]string{
		VarzPath: "General", ConnzPath: "Connections", RoutezPath: "Routes", GatewayzPath: "Gateways",
		LeafzPath: "Leaf Nodes", SubszPath: "Subscriptions", AccountzPath: "Accounts",
		AccountStatzPath: "Account Stats", HealthzPath: "Health Probe", StackszPath: "Stacks",
		MetricsPath: "Prometheus Metrics", JszPath: "JetStream",
	}
	for _, p := range paths {
		// Relative links keep working behind a proxy that rewrites the
		// base path.
		fmt.Fprintf(&b, "<a href=\".%s\">%s</a>\n", html.EscapeString(p), titles[p])
	}
	b.WriteString("<a href=\"https://docs.nats.io/running-a-nats-service/nats_admin/monitoring\">Help</a>\n</body>\n</html>\n")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// The links are relative: make sure they resolve under the base path.
	if m.base != "" && !strings.HasSuffix(r.URL.Path, "/") {
		http.Redirect(w, r, m.base+"/", http.StatusMovedPermanently)
		return
	}
	io.WriteString(w, b.String())
}

func (m *Server) handleVarz(w http.ResponseWriter, r *http.Request) {
	v, err := m.Varz()
	if err != nil {
		writeErr(w, err)
		return
	}
	m.writeJSON(w, r, v)
}

// connzOptions decodes the /connz query parameters (sort, auth, subs,
// offset, limit, cid, state, user, acc, mqtt_client, filter_subject).
func connzOptions(q *query) *server.ConnzOptions {
	o := &server.ConnzOptions{Sort: server.SortOpt(q.str("sort"))}
	o.Username = q.bool("auth")
	o.Subscriptions, o.SubscriptionsDetail = q.subs()
	o.Offset = q.int("offset")
	o.Limit = q.int("limit")
	o.CID = q.uint64("cid")
	o.State = q.state()
	o.User = q.str("user")
	o.Account = q.str("acc")
	o.MQTTClient = q.str("mqtt_client")
	o.FilterSubject = q.str("filter_subject")
	return o
}

func (m *Server) handleConnz(w http.ResponseWriter, r *http.Request) {
	q := newQuery(w, r)
	o := connzOptions(q)
	if !q.ok {
		return
	}
	cz, err := m.srv.Connz(o)
	if err != nil {
		writeErr(w, err)
		return
	}
	m.writeBody(w, r, http.StatusOK, appendConnz(make([]byte, 0, 256+600*len(cz.Conns)), cz))
}

func (m *Server) handleRoutez(w http.ResponseWriter, r *http.Request) {
	q := newQuery(w, r)
	subs, detail := q.subs()
	if !q.ok {
		return
	}
	rz, err := m.srv.Routez(&server.RoutezOptions{Subscriptions: subs, SubscriptionsDetail: detail})
	if err != nil {
		writeErr(w, err)
		return
	}
	m.writeJSON(w, r, rz)
}

func (m *Server) handleGatewayz(w http.ResponseWriter, r *http.Request) {
	q := newQuery(w, r)
	o := &server.GatewayzOptions{Accounts: q.bool("accs"), Name: q.str("gw_name"), AccountName: q.str("acc_name")}
	if !q.ok {
		return
	}
	if o.AccountName != "" {
		o.Accounts = true
	}
	gz, err := m.srv.Gatewayz(o)
	if err != nil {
		writeErr(w, err)
		return
	}
	m.writeJSON(w, r, gz)
}

func (m *Server) handleLeafz(w http.ResponseWriter, r *http.Request) {
	q := newQuery(w, r)
	o := &server.LeafzOptions{Subscriptions: q.bool("subs"), Account: q.str("acc")}
	if !q.ok {
		return
	}
	lz, err := m.srv.Leafz(o)
	if err != nil {
		writeErr(w, err)
		return
	}
	m.writeJSON(w, r, lz)
}

func (m *Server) handleSubsz(w http.ResponseWriter, r *http.Request) {
	q := newQuery(w, r)
	o := &server.SubszOptions{
		Subscriptions: q.bool("subs"),
		Offset:        q.int("offset"),
		Limit:         q.int("limit"),
		Test:          q.str("test"),
		Account:       q.str("acc"),
	}
	if !q.ok {
		return
	}
	sz, err := m.srv.Subsz(o)
	if err != nil {
		writeErr(w, err)
		return
	}
	// As upstream: without a list the document is just the statistics.
	if len(sz.Subs) == 0 {
		m.writeJSON(w, r, sz.Stats)
		return
	}
	m.writeJSON(w, r, sz)
}

func (m *Server) handleAccountz(w http.ResponseWriter, r *http.Request) {
	az, err := m.srv.Accountz(&server.AccountzOptions{Account: r.URL.Query().Get("acc")})
	if err != nil {
		writeErr(w, err)
		return
	}
	m.writeJSON(w, r, az)
}

func (m *Server) handleAccountStatz(w http.ResponseWriter, r *http.Request) {
	q := newQuery(w, r)
	o := &server.AccountStatzOptions{IncludeUnused: q.bool("unused")}
	if accs := q.str("accs"); accs != "" {
		o.Accounts = strings.Split(accs, ",")
	}
	if !q.ok {
		return
	}
	az, err := m.srv.AccountStatz(o)
	if err != nil {
		writeErr(w, err)
		return
	}
	m.writeJSON(w, r, az)
}

func (m *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	q := newQuery(w, r)
	// js-enabled is upstream's deprecated spelling of js-enabled-only.
	o := &server.HealthzOptions{
		JSEnabledOnly: q.bool("js-enabled-only") || q.bool("js-enabled"),
		JSServerOnly:  q.bool("js-server-only"),
	}
	if !q.ok {
		return
	}
	hs := m.srv.Healthz(o)
	if jh, ok := m.opts.JetStream.(JetStreamHealth); ok && hs.Status == "ok" {
		if err := jh.JetStreamHealth(o); err != nil {
			hs = &server.HealthStatus{Status: "unavailable", StatusCode: http.StatusServiceUnavailable, Error: err.Error()}
		}
	}
	code := http.StatusOK
	if hs.StatusCode != 0 {
		code = hs.StatusCode
	} else if hs.Error != "" {
		code = http.StatusServiceUnavailable
	}
	// Upstream renders the health status compactly.
	b, err := json.Marshal(hs)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	m.writeBody(w, r, code, b)
}

func (m *Server) handleStacksz(w http.ResponseWriter, _ *http.Request) {
	// No lock here: the dump must work even when the server is deadlocked.
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write(buf)
}
