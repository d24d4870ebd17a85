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
	"sync"

	"natsd.dev/server"
	"natsd.dev/server/snapshot"
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

func (q *query) state() snapshot.ConnState {
	switch v := strings.ToLower(q.str("state")); v {
	case "", "open":
		return snapshot.ConnOpen
	case "closed":
		return snapshot.ConnClosed
	case "any", "all":
		return snapshot.ConnAll
	default:
		q.fail("Error decoding state for " + v)
		return snapshot.ConnOpen
	}
}

func (m *Server) handleRoot(w http.ResponseWriter, r *http.Request) {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>natsd monitoring</title>\n")
	b.WriteString("<style>body{font-family:sans-serif;margin:2em}a{display:block;padding:4px 0}</style></head>\n<body>\n")
	name := ""
	if v, err := m.Varz(); err == nil {
		name = v.Name
	}
	fmt.Fprintf(&b, "<h1>natsd %s</h1>\n<p>server %s</p>\n", html.EscapeString(server.Version), html.EscapeString(name))
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

// optsPool recycles the options of the endpoints polled hardest: passed
// to Source.Snapshot as an interface they escape, and a provider keeps
// none after it returns (the registry's contract), so a request allocates
// none in steady state.
type optsPool[T any] struct{ p sync.Pool }

func (p *optsPool[T]) get() *T {
	if v, _ := p.p.Get().(*T); v != nil {
		return v
	}
	return new(T)
}

func (p *optsPool[T]) put(v *T) {
	var zero T
	*v = zero
	p.p.Put(v)
}

var (
	connzOpts    optsPool[snapshot.ConnzOptions]
	subszOpts    optsPool[snapshot.SubszOptions]
	accStatzOpts optsPool[snapshot.AccountStatzOptions]
)

// connzOptions decodes the /connz query parameters (sort, auth, subs,
// offset, limit, cid, state, user, acc, mqtt_client, filter_subject) into
// o.
func connzOptions(q *query, o *snapshot.ConnzOptions) {
	o.Sort = snapshot.SortOpt(q.str("sort"))
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
}

func (m *Server) handleConnz(w http.ResponseWriter, r *http.Request) {
	q := newQuery(w, r)
	o := connzOpts.get()
	defer connzOpts.put(o)
	connzOptions(q, o)
	if !q.ok {
		return
	}
	d, err := m.src.Snapshot(server.KindConnz, o)
	if err != nil {
		writeErr(w, err)
		return
	}
	cz, ok := d.(*snapshot.Connz)
	if !ok { // a provider of its own: render whatever it answers
		m.writeJSON(w, r, d)
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
	m.render(w, r, server.KindRoutez, &snapshot.RoutezOptions{Subscriptions: subs, SubscriptionsDetail: detail})
}

func (m *Server) handleGatewayz(w http.ResponseWriter, r *http.Request) {
	q := newQuery(w, r)
	o := &snapshot.GatewayzOptions{Accounts: q.bool("accs"), Name: q.str("gw_name"), AccountName: q.str("acc_name")}
	o.AccountSubscriptions, o.AccountSubscriptionsDetail = q.subs()
	if !q.ok {
		return
	}
	if o.AccountName != "" {
		o.Accounts = true
	}
	m.render(w, r, server.KindGatewayz, o)
}

func (m *Server) handleLeafz(w http.ResponseWriter, r *http.Request) {
	q := newQuery(w, r)
	o := &snapshot.LeafzOptions{Subscriptions: q.bool("subs"), Account: q.str("acc")}
	if !q.ok {
		return
	}
	m.render(w, r, server.KindLeafz, o)
}

func (m *Server) handleSubsz(w http.ResponseWriter, r *http.Request) {
	q := newQuery(w, r)
	o := subszOpts.get()
	defer subszOpts.put(o)
	*o = snapshot.SubszOptions{
		Subscriptions: q.bool("subs"),
		Offset:        q.int("offset"),
		Limit:         q.int("limit"),
		Test:          q.str("test"),
		Account:       q.str("acc"),
	}
	if !q.ok {
		return
	}
	sz, err := snap[snapshot.Subsz](m, server.KindSubsz, o)
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
	m.render(w, r, server.KindAccountz, &snapshot.AccountzOptions{Account: r.URL.Query().Get("acc")})
}

func (m *Server) handleAccountStatz(w http.ResponseWriter, r *http.Request) {
	q := newQuery(w, r)
	o := accStatzOpts.get()
	defer accStatzOpts.put(o)
	o.IncludeUnused = q.bool("unused")
	if accs := q.str("accs"); accs != "" {
		o.Accounts = strings.Split(accs, ",")
	}
	if !q.ok {
		return
	}
	m.render(w, r, server.KindAccStatz, o)
}

func (m *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	q := newQuery(w, r)
	// js-enabled is upstream's deprecated spelling of js-enabled-only.
	enabled := q.bool("js-enabled")
	o := &snapshot.HealthzOptions{
		JSEnabled:     enabled,
		JSEnabledOnly: q.bool("js-enabled-only") || enabled,
		JSServerOnly:  q.bool("js-server-only"),
		JSMetaOnly:    q.bool("js-meta-only"),
		Account:       q.str("account"),
		Stream:        q.str("stream"),
		Consumer:      q.str("consumer"),
		Details:       q.bool("details"),
	}
	if !q.ok {
		return
	}
	hs, err := snap[snapshot.HealthStatus](m, server.KindHealthz, o)
	if err != nil {
		writeErr(w, err)
		return
	}
	code := http.StatusOK
	if hs.StatusCode != 0 {
		code = hs.StatusCode
	} else if hs.Error != "" {
		code = http.StatusServiceUnavailable
	}
	// Upstream renders the health status compactly, with the code only
	// in the HTTP status ($SYS HEALTHZ answers keep status_code).
	body := *hs
	body.StatusCode = 0
	b, err := json.Marshal(&body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	m.writeBody(w, r, code, b)
}

// render answers with the document of kind for opts, as JSON.
func (m *Server) render(w http.ResponseWriter, r *http.Request, kind string, opts any) {
	d, err := m.src.Snapshot(kind, opts)
	if err != nil {
		writeErr(w, err)
		return
	}
	m.writeJSON(w, r, d)
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
