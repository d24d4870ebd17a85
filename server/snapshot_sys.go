package server

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"natsd.dev/server/internal/mondoc"
	"natsd.dev/server/snapshot"
)

// Monitoring over NATS.
//
// Upstream answers $SYS.REQ.SERVER.<id>.<KIND> and $SYS.REQ.SERVER.PING.<KIND>
// with the same snapshots as its HTTP endpoints, wrapped in an envelope
// that names the server. MonitorRequest builds those answers; the system
// account's responder only has to subscribe and publish them.

// Monitoring request kinds: the last token of the $SYS request subjects,
// and the keys of the monitoring registry (RegisterProvider).
const (
	KindVarz     = "VARZ"
	KindConnz    = "CONNZ"
	KindSubsz    = "SUBSZ"
	KindRoutez   = "ROUTEZ"
	KindGatewayz = "GATEWAYZ"
	KindLeafz    = "LEAFZ"
	KindAccountz = "ACCOUNTZ"
	KindAccStatz = "STATZ" // $SYS.REQ.ACCOUNT.PING.STATZ and SERVER.<id>.ACCSTATZ share it
	KindHealthz  = "HEALTHZ"
	KindJsz      = "JSZ" // JetStream's document; "disabled" until a provider registers
)

// ErrNotForUs is returned by MonitorRequest when the request's filter
// (server_name, host, cluster, tags, domain) does not select this server:
// upstream stays silent then, and so must the responder.
var ErrNotForUs = errors.New("server: monitoring request filtered out")

// ErrUnknownKind is returned by MonitorRequest for a kind it does not
// answer.
var ErrUnknownKind = errors.New("server: unknown monitoring request kind")

// filtered reports whether f leaves this server out.
func (s *Server) filtered(f *snapshot.EventFilterOptions) bool {
	s.mu.Lock()
	si := snapshot.ServerInfo{Name: s.info.Name, Host: s.info.Host, Cluster: s.info.Cluster, Domain: s.info.Domain, Tags: s.opts.Tags}
	s.mu.Unlock()
	return mondoc.Excludes(f, &si)
}

// MonitorRequest answers a monitoring request of the given kind (KindVarz,
// KindConnz, ..., any kind the registry answers; see RegisterProvider)
// whose body is req: empty, or the JSON of the kind's options
// (ConnzOptions, SubszOptions, ...) with the filter fields of
// EventFilterOptions alongside, as upstream's requests carry them. It
// returns the JSON response, ErrNotForUs when the filter excludes this
// server, or ErrUnknownKind. A bad request is answered, with Error set.
func (s *Server) MonitorRequest(kind string, req []byte) ([]byte, error) {
	p := s.Provider(kind)
	if p == nil {
		return nil, ErrUnknownKind
	}
	opts := p.NewOptions()
	return s.zRequest(req, opts, func() (any, error) { return p.Snapshot(opts) })
}

// zRequest answers a request as mondoc.Answer does, about this server;
// a request that is not for it (filtered out, or run returned
// ErrNoAnswer) gives ErrNotForUs.
func (s *Server) zRequest(req []byte, opts any, run func() (any, error)) ([]byte, error) {
	b, err := mondoc.Answer(req, opts, s.filtered, s.serverInfo, run)
	if errors.Is(err, mondoc.ErrSilent) {
		return nil, ErrNotForUs
	}
	return b, err
}

func (s *Server) serverInfo() *snapshot.ServerInfo {
	s.mu.Lock()
	info, tags, ff := s.info, slices.Clone(s.opts.Tags), featureFlags(s.opts.FeatureFlags)
	s.mu.Unlock()
	var flags uint64
	if info.JetStream {
		flags |= capJetStream
	}
	return &snapshot.ServerInfo{
		FeatureFlags: ff,
		Flags:        flags,
		Name:         info.Name,
		Host:         info.Host,
		ID:           info.ID,
		Cluster:      info.Cluster,
		Domain:       info.Domain,
		Version:      info.Version,
		Tags:         tags,
		JetStream:    info.JetStream,
		Seq:          s.mon().seq.Add(1),
		Time:         time.Now().UTC(),
	}
}

// capJetStream is upstream's JetStreamEnabled server capability bit.
// Upstream also sets 2 (binary stream snapshots) and 4 (account Raft
// groups) with JetStream on; natsd's replication is not upstream's, so it
// claims neither.
const capJetStream = 1 << 0

// upstreamFeatureFlags are upstream 2.15's feature flags and their
// defaults, as its /varz lists them.
var upstreamFeatureFlags = map[string]bool{
	"js_ack_fc_v2":         false,
	"js_api_reply_v2":      false,
	"js_raft_delete_range": true,
	"js_snapshot_sources":  false,
}

// featureFlags returns upstream's flags with the values of configured
// over their defaults; names upstream does not know are left out.
func featureFlags(configured map[string]bool) map[string]bool {
	ff := maps.Clone(upstreamFeatureFlags)
	for k, v := range configured {
		if _, ok := ff[k]; ok {
			ff[k] = v
		}
	}
	return ff
}

// featureFlagLines are the startup banner's lines about the configured
// feature flags, as upstream 2.15.2 prints them (none when nothing is
// configured): each known flag with its state against its default
// (enabled, opt-in, opt-out, disabled), then the unknown names.
func featureFlagLines(configured map[string]bool) []string {
	if len(configured) == 0 {
		return nil
	}
	var known, unknown []string
	for _, name := range slices.Sorted(maps.Keys(configured)) {
		def, ok := upstreamFeatureFlags[name]
		if !ok {
			unknown = append(unknown, name)
			continue
		}
		state := "disabled"
		switch on := configured[name]; {
		case on && def:
			state = "enabled"
		case on:
			state = "opt-in"
		case def:
			state = "opt-out"
		}
		known = append(known, name+" ("+state+")")
	}
	conf := "none"
	if len(known) > 0 {
		conf = strings.Join(known, ", ")
	}
	lines := []string{"  Feature flags:", "    Configured:    " + conf}
	if len(unknown) > 0 {
		lines = append(lines, "    Unsupported:   "+strings.Join(unknown, ", "))
	}
	return lines
}
