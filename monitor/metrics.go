package monitor

import (
	"bytes"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"natsd.dev/server"
	"natsd.dev/server/snapshot"
)

// Content types of /metrics.
const (
	contentTypeText        = "text/plain; version=0.0.4; charset=utf-8"
	contentTypeOpenMetrics = "application/openmetrics-text; version=1.0.0; charset=utf-8"
)

// metricType is a metric family's TYPE.
type metricType uint8

const (
	gauge metricType = iota
	counter
)

func (t metricType) String() string {
	if t == counter {
		return "counter"
	}
	return "gauge"
}

// family is one metric family: a name, help and its samples. A counter's
// name has no _total suffix; the encoder adds it where each format wants
// it.
type family struct {
	name    string
	help    string
	typ     metricType
	samples []sample
}

type sample struct {
	labels []label
	value  float64
}

type label struct{ name, value string }

// encoder writes metric families in the Prometheus text format (0.0.4) or
// in OpenMetrics 1.0.
type encoder struct {
	buf         bytes.Buffer
	openMetrics bool
}

func (e *encoder) family(f *family) {
	name := f.name
	sampleName := f.name
	if f.typ == counter {
		sampleName += "_total"
		if !e.openMetrics {
			// The text format names the family after its samples.
			name = sampleName
		}
	}
	e.buf.WriteString("# HELP ")
	e.buf.WriteString(name)
	e.buf.WriteByte(' ')
	e.escape(f.help, e.openMetrics)
	e.buf.WriteString("\n# TYPE ")
	e.buf.WriteString(name)
	e.buf.WriteByte(' ')
	e.buf.WriteString(f.typ.String())
	e.buf.WriteByte('\n')
	for _, s := range f.samples {
		e.buf.WriteString(sampleName)
		if len(s.labels) > 0 {
			e.buf.WriteByte('{')
			for i, l := range s.labels {
				if i > 0 {
					e.buf.WriteByte(',')
				}
				e.buf.WriteString(l.name)
				e.buf.WriteString(`="`)
				e.escape(l.value, true)
				e.buf.WriteByte('"')
			}
			e.buf.WriteByte('}')
		}
		e.buf.WriteByte(' ')
		e.buf.WriteString(formatValue(s.value))
		e.buf.WriteByte('\n')
	}
}

func (e *encoder) finish() []byte {
	if e.openMetrics {
		e.buf.WriteString("# EOF\n")
	}
	return e.buf.Bytes()
}

// escape writes s with backslash and newline escaped, and double quotes
// too when quotes is set (label values; HELP text in OpenMetrics).
func (e *encoder) escape(s string, quotes bool) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			e.buf.WriteString(`\\`)
		case c == '\n':
			e.buf.WriteString(`\n`)
		case c == '"' && quotes:
			e.buf.WriteString(`\"`)
		default:
			e.buf.WriteByte(c)
		}
	}
}

// formatValue renders integral values without an exponent, others in the
// shortest form that round-trips.
func formatValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// wantsOpenMetrics reports whether the Accept header asks for OpenMetrics.
func wantsOpenMetrics(accept string) bool {
	for part := range strings.SplitSeq(accept, ",") {
		mt, _, _ := strings.Cut(part, ";")
		if strings.EqualFold(strings.TrimSpace(mt), "application/openmetrics-text") {
			return true
		}
	}
	return false
}

func one(v float64, labels ...label) []sample { return []sample{{labels: labels, value: v}} }

// The options of the snapshots behind /metrics, shared by every scrape:
// providers never change or keep their options (the registry's contract).
var (
	metricsSubsz    = &snapshot.SubszOptions{}
	metricsAccStatz = &snapshot.AccountStatzOptions{IncludeUnused: true}
	metricsHealthz  = &snapshot.HealthzOptions{}
	metricsJsz      = &snapshot.JszOptions{Accounts: true, Streams: true}
)

// metrics gathers the families from the same snapshots the JSON endpoints
// render.
func (m *Server) metrics() ([]family, error) {
	v, err := m.Varz()
	if err != nil {
		return nil, err
	}
	sz, err := snap[snapshot.Subsz](m, server.KindSubsz, metricsSubsz)
	if err != nil {
		return nil, err
	}
	as, err := snap[snapshot.AccountStatz](m, server.KindAccStatz, metricsAccStatz)
	if err != nil {
		return nil, err
	}
	hs, err := snap[snapshot.HealthStatus](m, server.KindHealthz, metricsHealthz)
	if err != nil {
		return nil, err
	}

	g := func(name, help string, val float64) family {
		return family{name: name, help: help, typ: gauge, samples: one(val)}
	}
	c := func(name, help string, val float64) family {
		return family{name: name, help: help, typ: counter, samples: one(val)}
	}
	fams := []family{
		{name: "natsd_varz_info", help: "Server identity; the value is always 1.", typ: gauge, samples: one(1,
			label{"server_id", v.ID}, label{"server_name", v.Name}, label{"version", v.Version}, label{"go", v.GoVersion})},
		g("natsd_varz_start_time_seconds", "Unix time the server started.", float64(v.Start.UnixNano())/1e9),
		g("natsd_varz_uptime_seconds", "Seconds since the server started.", v.Now.Sub(v.Start).Seconds()),
		g("natsd_varz_mem_bytes", "Resident set size of the process.", float64(v.Mem)),
		g("natsd_varz_cpu_percent", "Process CPU use in percent of one core.", v.CPU),
		g("natsd_varz_cores", "Logical CPUs of the host.", float64(v.Cores)),
		g("natsd_varz_gomaxprocs", "GOMAXPROCS of the process.", float64(v.MaxProcs)),
		g("natsd_varz_connections", "Open client connections.", float64(v.Connections)),
		c("natsd_varz_connections_accepted", "Client connections accepted since start (total_connections).", float64(v.TotalConnections)),
		g("natsd_varz_max_connections", "Configured maximum of client connections.", float64(v.MaxConn)),
		g("natsd_varz_routes", "Open route connections.", float64(v.Routes)),
		g("natsd_varz_remotes", "Configured remote servers.", float64(v.Remotes)),
		g("natsd_varz_leafnodes", "Open leaf node connections.", float64(v.Leafs)),
		g("natsd_varz_subscriptions", "Subscriptions in all accounts.", float64(v.Subscriptions)),
		c("natsd_varz_in_msgs", "Messages received from clients.", float64(v.InMsgs)),
		c("natsd_varz_out_msgs", "Messages delivered to clients.", float64(v.OutMsgs)),
		c("natsd_varz_in_bytes", "Payload bytes received from clients.", float64(v.InBytes)),
		c("natsd_varz_out_bytes", "Payload bytes delivered to clients.", float64(v.OutBytes)),
		c("natsd_varz_slow_consumers", "Clients disconnected as slow consumers.", float64(v.SlowConsumers)),
		g("natsd_varz_max_payload_bytes", "Configured maximum message payload.", float64(v.MaxPayload)),
		g("natsd_varz_max_pending_bytes", "Configured maximum of pending outbound bytes per client.", float64(v.MaxPending)),
		g("natsd_varz_ping_interval_seconds", "Configured keepalive ping interval.", v.PingInterval.Seconds()),
		g("natsd_varz_write_deadline_seconds", "Configured write deadline.", v.WriteDeadline.Seconds()),
		g("natsd_varz_config_load_time_seconds", "Unix time the configuration was loaded.", float64(v.ConfigLoadTime.UnixNano())/1e9),
	}
	reqs := family{name: "natsd_varz_http_requests", help: "Monitoring HTTP requests per endpoint (http_req_stats).", typ: counter}
	for _, p := range sortedKeys(v.HTTPReqStats) {
		reqs.samples = append(reqs.samples, sample{labels: []label{{"path", p}}, value: float64(v.HTTPReqStats[p])})
	}
	fams = append(fams, reqs,
		g("natsd_subsz_num_subscriptions", "Subscriptions in all subscription lists.", float64(sz.NumSubs)),
		g("natsd_subsz_num_cache", "Cached match results.", float64(sz.NumCache)),
		c("natsd_subsz_inserts", "Subscriptions inserted.", float64(sz.NumInserts)),
		c("natsd_subsz_removes", "Subscriptions removed.", float64(sz.NumRemoves)),
		c("natsd_subsz_matches", "Subject match lookups.", float64(sz.NumMatches)),
		g("natsd_subsz_cache_hit_rate", "Fraction of match lookups answered from the cache.", sz.CacheHitRate),
		g("natsd_subsz_max_fanout", "Largest fanout of a cached match result.", float64(sz.MaxFanout)),
		g("natsd_subsz_avg_fanout", "Average fanout of cached match results.", sz.AvgFanout),
	)
	accSubs := family{name: "natsd_account_subscriptions", help: "Subscriptions per account.", typ: gauge}
	accConns := family{name: "natsd_account_connections", help: "Open client connections per account.", typ: gauge}
	accInMsgs := family{name: "natsd_account_received_msgs", help: "Messages received from the account's open connections.", typ: counter}
	accOutMsgs := family{name: "natsd_account_sent_msgs", help: "Messages delivered to the account's open connections.", typ: counter}
	accInBytes := family{name: "natsd_account_received_bytes", help: "Payload bytes received from the account's open connections.", typ: counter}
	accOutBytes := family{name: "natsd_account_sent_bytes", help: "Payload bytes delivered to the account's open connections.", typ: counter}
	for _, a := range as.Accounts {
		l := []label{{"account", a.Account}}
		accSubs.samples = append(accSubs.samples, sample{l, float64(a.NumSubs)})
		accConns.samples = append(accConns.samples, sample{l, float64(a.Conns)})
		accInMsgs.samples = append(accInMsgs.samples, sample{l, float64(a.Received.Msgs)})
		accOutMsgs.samples = append(accOutMsgs.samples, sample{l, float64(a.Sent.Msgs)})
		accInBytes.samples = append(accInBytes.samples, sample{l, float64(a.Received.Bytes)})
		accOutBytes.samples = append(accOutBytes.samples, sample{l, float64(a.Sent.Bytes)})
	}
	healthy := 0.0
	if hs.Status == "ok" {
		healthy = 1
	}
	fams = append(fams, accSubs, accConns, accInMsgs, accOutMsgs, accInBytes, accOutBytes,
		g("natsd_healthz_ok", "1 when /healthz answers ok, else 0.", healthy))
	js, err := m.src.Snapshot(server.KindJsz, metricsJsz)
	if err != nil {
		return nil, err
	}
	// A JSZ provider of another document type has no metrics here.
	if ji, ok := js.(*snapshot.JSInfo); ok && !ji.Disabled {
		fams = append(fams, jetStreamFamilies(ji)...)
	}
	return fams, nil
}

// jetStreamFamilies are the JetStream metrics of a JSZ document: the
// server's totals (natsd_jsz_*) and gauges per stream
// (natsd_stream_*{account,stream}).
func jetStreamFamilies(ji *snapshot.JSInfo) []family {
	g := func(name, help string, val float64) family {
		return family{name: name, help: help, typ: gauge, samples: one(val)}
	}
	c := func(name, help string, val float64) family {
		return family{name: name, help: help, typ: counter, samples: one(val)}
	}
	fams := []family{
		g("natsd_jsz_memory_bytes", "Bytes held by memory streams.", float64(ji.Memory)),
		g("natsd_jsz_storage_bytes", "Bytes held by file streams.", float64(ji.Store)),
		g("natsd_jsz_reserved_memory_bytes", "Bytes reserved by the max_bytes of memory streams.", float64(ji.ReservedMemory)),
		g("natsd_jsz_reserved_storage_bytes", "Bytes reserved by the max_bytes of file streams.", float64(ji.ReservedStore)),
		g("natsd_jsz_max_memory_bytes", "Configured maximum of memory stream bytes.", float64(ji.Config.MaxMemory)),
		g("natsd_jsz_max_storage_bytes", "Configured maximum of file stream bytes.", float64(ji.Config.MaxStore)),
		g("natsd_jsz_accounts", "Accounts with JetStream.", float64(ji.Accounts)),
		g("natsd_jsz_ha_assets", "Replicated streams and consumers.", float64(ji.HAAssets)),
		g("natsd_jsz_streams", "Streams in all accounts.", float64(ji.Streams)),
		g("natsd_jsz_consumers", "Consumers in all accounts.", float64(ji.Consumers)),
		g("natsd_jsz_messages", "Messages in all streams.", float64(ji.Messages)),
		g("natsd_jsz_bytes", "Bytes in all streams.", float64(ji.Bytes)),
		c("natsd_jsz_api_requests", "JetStream API requests.", float64(ji.API.Total)),
		c("natsd_jsz_api_errors", "JetStream API requests answered with an error.", float64(ji.API.Errors)),
	}
	msgs := family{name: "natsd_stream_messages", help: "Messages in the stream.", typ: gauge}
	bytes := family{name: "natsd_stream_bytes", help: "Bytes in the stream.", typ: gauge}
	cons := family{name: "natsd_stream_consumers", help: "Consumers of the stream.", typ: gauge}
	first := family{name: "natsd_stream_first_seq", help: "Sequence of the stream's first message.", typ: gauge}
	last := family{name: "natsd_stream_last_seq", help: "Sequence of the stream's last message.", typ: gauge}
	for _, a := range ji.AccountDetails {
		for i := range a.Streams {
			sd := &a.Streams[i]
			l := []label{{"account", a.Name}, {"stream", sd.Name}}
			msgs.samples = append(msgs.samples, sample{l, float64(sd.State.Msgs)})
			bytes.samples = append(bytes.samples, sample{l, float64(sd.State.Bytes)})
			cons.samples = append(cons.samples, sample{l, float64(sd.State.Consumers)})
			first.samples = append(first.samples, sample{l, float64(sd.State.FirstSeq)})
			last.samples = append(last.samples, sample{l, float64(sd.State.LastSeq)})
		}
	}
	return append(fams, msgs, bytes, cons, first, last)
}

func sortedKeys(m map[string]uint64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (m *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	fams, err := m.metrics()
	if err != nil {
		writeErr(w, err)
		return
	}
	e := &encoder{openMetrics: wantsOpenMetrics(r.Header.Get("Accept"))}
	fams = append(fams, family{name: "natsd_metrics_scrape_duration_seconds", help: "Time spent gathering these metrics.",
		typ: gauge, samples: one(time.Since(start).Seconds())})
	for i := range fams {
		e.family(&fams[i])
	}
	ct := contentTypeText
	if e.openMetrics {
		ct = contentTypeOpenMetrics
	}
	w.Header().Set("Content-Type", ct)
	w.Write(e.finish())
}
