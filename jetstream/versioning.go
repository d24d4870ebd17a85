package jetstream

import (
	"maps"
	"strconv"

	"natsd.dev/jetstream/api"
	"natsd.dev/server"
)

// Asset versioning (ADR-44), as upstream 2.15.2 shows it: a stream's or a
// consumer's metadata carries the API level its configuration needs
// (_nats.req.level) in every answer, and the create, update and info
// answers (not the lists) add the version and the API level of the server
// hosting it (_nats.ver, _nats.level). The keys a request brings are
// dropped before its configuration is checked, compared or stored, so an
// answer's configuration sent back as a request is the same configuration.
const (
	metaReqLevel = "_nats.req.level"
	metaVersion  = "_nats.ver"
	metaLevel    = "_nats.level"
)

// stripVersionMeta removes the server-set keys from a requested
// configuration's metadata (nil when nothing else is left).
func stripVersionMeta(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	_, a := m[metaReqLevel]
	_, b := m[metaVersion]
	_, c := m[metaLevel]
	if !a && !b && !c {
		return m
	}
	m = maps.Clone(m)
	delete(m, metaReqLevel)
	delete(m, metaVersion)
	delete(m, metaLevel)
	if len(m) == 0 {
		return nil
	}
	return m
}

// streamReqLevel is the API level a stream configuration needs, as
// upstream 2.15.2 computes it: 1 for per-message TTLs and delete markers,
// 2 for counters, atomic batches, schedules and asynchronous persistence
// (upstream's 4 for fast batches does not arise: natsd refuses them).
func streamReqLevel(cfg *api.StreamConfig) int {
	l := 0
	if cfg.AllowMsgTTL || cfg.SubjectDeleteMarkerTTL > 0 {
		l = 1
	}
	if cfg.AllowMsgCounter || cfg.AllowAtomicPublish || cfg.AllowMsgSchedules || cfg.PersistMode == api.AsyncPersistMode {
		l = 2
	}
	return l
}

// consumerReqLevel is the API level a consumer configuration needs: 1 for
// pause_until and priority groups (ADR-42), as upstream.
func consumerReqLevel(cfg *api.ConsumerConfig) int {
	if cfg.PauseUntil != nil && !cfg.PauseUntil.IsZero() {
		return 1
	}
	if cfg.PriorityPolicy != api.PriorityNone || cfg.PinnedTTL != 0 || len(cfg.PriorityGroups) > 0 {
		return 1
	}
	return 0
}

// versionMeta returns a copy of m with the required level and, when
// hosting, the server's version and API level.
func versionMeta(m map[string]string, req int, hosting bool) map[string]string {
	out := make(map[string]string, len(m)+3)
	maps.Copy(out, m)
	out[metaReqLevel] = strconv.Itoa(req)
	if hosting {
		out[metaVersion] = server.Version
		out[metaLevel] = strconv.Itoa(APILevel)
	}
	return out
}

// withStreamMeta sets si's configuration metadata for an answer.
func withStreamMeta(si *api.StreamInfo, hosting bool) {
	if si != nil {
		si.Config.Metadata = versionMeta(si.Config.Metadata, streamReqLevel(&si.Config), hosting)
	}
}

// withConsumerMeta sets ci's configuration metadata for an answer (ci's
// configuration is its own copy) and leaves out the name of an ephemeral
// consumer created without one, as upstream shows it.
func withConsumerMeta(ci *api.ConsumerInfo, hosting bool, unnamed bool) *api.ConsumerInfo {
	if ci == nil || ci.Config == nil {
		return ci
	}
	cfg := *ci.Config
	cfg.Metadata = versionMeta(cfg.Metadata, consumerReqLevel(&cfg), hosting)
	if unnamed {
		cfg.Name = ""
	}
	ci.Config = &cfg
	return ci
}
