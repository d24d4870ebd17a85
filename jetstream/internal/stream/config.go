package stream

import (
	"fmt"
	"strings"
	"time"

	"natsd.dev/jetstream/api"
	"natsd.dev/sublist"
)

// DefaultDuplicates is the duplicate window of a stream that sets none.
const DefaultDuplicates = 2 * time.Minute

// Limits are the server's and the account's caps a configuration is
// checked against.
type Limits struct {
	// MaxDuplicates caps the duplicate window (0: no cap).
	MaxDuplicates time.Duration
	// MaxStreamBytes caps max_bytes per storage type (-1 or 0: no cap);
	// MaxBytesRequired refuses an unlimited max_bytes.
	MaxMemStreamBytes, MaxFileStreamBytes int64
	MaxBytesRequired                      bool
}

func invalid(format string, args ...any) *api.Error {
	return api.ErrStreamInvalidConfig.WithErr(fmt.Errorf(format, args...))
}

// Normalize fills cfg's defaults and checks it as upstream does, returning
// the API error to answer with. It does not look at other streams.
func Normalize(cfg *api.StreamConfig, lim Limits) *api.Error {
	if strings.ContainsAny(cfg.Name, "/\\") {
		return api.ErrStreamNameContainsPathSeparators
	}
	if !ValidName(cfg.Name) && (len(cfg.Name) <= MaxNameLen || !ValidName(cfg.Name[:MaxNameLen])) {
		return invalid(`stream name is required and can not contain '.', '*', '>', '\', '/' or whitespace`)
	}
	if len(cfg.Name) > MaxNameLen {
		return invalid("stream name is too long, maximum allowed is %d", MaxNameLen)
	}
	if len(cfg.Description) > 4*1024 {
		return invalid("stream description is too long, maximum allowed is %d", 4*1024)
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if cfg.Replicas < 0 {
		return api.ErrReplicasCountCannotBeNegative
	}
	if cfg.Replicas > 5 {
		return invalid("maximum replicas is 5")
	}
	if cfg.Replicas > 1 {
		return api.ErrStreamReplicasNotSupported
	}
	if cfg.MaxMsgs == 0 {
		cfg.MaxMsgs = -1
	}
	if cfg.MaxMsgsPerSubject == 0 {
		cfg.MaxMsgsPerSubject = -1
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = -1
	}
	if cfg.MaxMsgSize == 0 {
		cfg.MaxMsgSize = -1
	}
	if cfg.MaxConsumers == 0 {
		cfg.MaxConsumers = -1
	}
	if cfg.MaxAge < 0 {
		return invalid("max age can not be negative")
	}
	if cfg.MaxAge != 0 && cfg.MaxAge < 100*time.Millisecond {
		return invalid("max age needs to be >= 100ms")
	}
	if cfg.Duplicates < 0 {
		return invalid("duplicates window can not be negative")
	}
	if cfg.Duplicates == 0 && cfg.Mirror == nil {
		cfg.Duplicates = DefaultDuplicates
		if cfg.MaxAge != 0 && cfg.MaxAge < cfg.Duplicates {
			cfg.Duplicates = cfg.MaxAge
		}
		if lim.MaxDuplicates > 0 && cfg.Duplicates > lim.MaxDuplicates {
			cfg.Duplicates = lim.MaxDuplicates
		}
	}
	if cfg.MaxAge != 0 && cfg.Duplicates > cfg.MaxAge {
		return invalid("duplicates window can not be larger then max age")
	}
	if lim.MaxDuplicates > 0 && cfg.Duplicates > lim.MaxDuplicates {
		return invalid("duplicates window can not be larger then server limit of %v", lim.MaxDuplicates)
	}
	if cfg.Duplicates > 0 && cfg.Duplicates < 100*time.Millisecond {
		return invalid("duplicates window needs to be >= 100ms")
	}
	if cfg.DenyPurge && cfg.AllowRollup {
		return invalid("roll-ups require the purge permission")
	}
	if cfg.AllowMsgCounter {
		switch {
		case cfg.Discard == api.DiscardNew:
			return invalid("counter stream cannot use discard new")
		case cfg.AllowMsgTTL:
			return invalid("counter stream cannot use message TTLs")
		case cfg.AllowMsgSchedules:
			return invalid("counter stream cannot use message schedules")
		case cfg.Retention != api.LimitsPolicy:
			return invalid("counter stream can only use limits retention")
		}
	}
	maxStream := lim.MaxFileStreamBytes
	if cfg.Storage == api.MemoryStorage {
		maxStream = lim.MaxMemStreamBytes
	}
	if maxStream > 0 {
		if cfg.MaxBytes > maxStream {
			return api.ErrStreamMaxStreamBytesExceeded
		}
		if cfg.MaxBytes < 0 && lim.MaxBytesRequired {
			return api.ErrStreamMaxBytesRequired
		}
	} else if cfg.MaxBytes < 0 && lim.MaxBytesRequired {
		return api.ErrStreamMaxBytesRequired
	}
	if cfg.DiscardNewPerSubject {
		if cfg.Discard != api.DiscardNew {
			return invalid("discard new per subject requires discard new policy to be set")
		}
		if cfg.MaxMsgsPerSubject <= 0 {
			return invalid("discard new per subject requires max msgs per subject > 0")
		}
	}
	// A marker TTL turns on what markers need (upstream refuses instead
	// only in pedantic mode).
	if cfg.SubjectDeleteMarkerTTL > 0 {
		if cfg.SubjectDeleteMarkerTTL < time.Second {
			return invalid("subject delete marker TTL must be at least 1 second")
		}
		cfg.AllowMsgTTL = true
		if !cfg.AllowRollup {
			cfg.AllowRollup, cfg.DenyPurge = true, false
		}
	} else if cfg.SubjectDeleteMarkerTTL < 0 {
		return invalid("subject delete marker TTL must not be negative")
	}
	if cfg.PersistMode == api.AsyncPersistMode {
		if cfg.Storage != api.FileStorage {
			return invalid("async persist mode is only supported on file storage")
		}
		if cfg.AllowAtomicPublish {
			return invalid("async persist mode is not supported with atomic batch publish")
		}
	}
	if cfg.Mirror != nil {
		if len(cfg.Subjects) > 0 {
			return invalid("stream mirrors can not contain subjects")
		}
		if len(cfg.Sources) > 0 {
			return invalid("stream mirrors can not also contain other sources")
		}
		if cfg.SubjectTransform != nil {
			return invalid("stream mirrors can not contain subject transforms")
		}
		if cfg.FirstSeq > 0 {
			return invalid("stream mirrors can not have first sequence configured")
		}
		if cfg.AllowMsgCounter {
			return api.ErrMirrorWithCounters
		}
		if cfg.AllowAtomicPublish {
			return api.ErrMirrorWithAtomicPublish
		}
		if cfg.SubjectDeleteMarkerTTL > 0 {
			return invalid("subject delete markers forbidden on mirrors")
		}
	} else if len(cfg.Subjects) == 0 && len(cfg.Sources) == 0 {
		cfg.Subjects = []string{cfg.Name}
	}
	seen := make(map[string]bool, len(cfg.Subjects))
	for _, s := range cfg.Subjects {
		if !sublist.ValidSubject(s) {
			return invalid("invalid subject")
		}
		if seen[s] {
			return invalid("duplicate subjects detected")
		}
		seen[s] = true
		if !cfg.NoAck && (Overlap(s, "$JS.API.>") || Overlap(s, "$JSC.>") || Overlap(s, "$NRG.>")) {
			return invalid("subjects that overlap with jetstream api require no-ack to be true")
		}
	}
	// Literal subjects overlap only when equal, which the duplicate check
	// caught: pairs with a wildcard are all that is left to compare, so
	// many literal subjects do not cost n².
	for i, a := range cfg.Subjects {
		if !hasWildcard(a) {
			continue
		}
		for j, b := range cfg.Subjects {
			if j != i && (j > i || !hasWildcard(b)) && Overlap(a, b) {
				return invalid("subjects overlap")
			}
		}
	}
	if t := cfg.SubjectTransform; t != nil {
		if _, err := sublist.NewTransform(t.Source, t.Destination); err != nil {
			return invalid("stream subject transform from '%s' to '%s': %v", t.Source, t.Destination, err)
		}
	}
	if rp := cfg.RePublish; rp != nil {
		src := rp.Source
		if src == "" {
			src = ">"
		}
		if _, err := sublist.NewTransform(src, rp.Destination); err != nil {
			return invalid("stream configuration for republish destination is not valid")
		}
		for _, s := range cfg.Subjects {
			if Overlap(rp.Destination, s) {
				return invalid("stream configuration for republish destination forms a cycle")
			}
		}
	}
	// The limit is on all entries together, as upstream's.
	metaLen := 0
	for k, v := range cfg.Metadata {
		metaLen += len(k) + len(v)
	}
	if metaLen > 128*1024 {
		return invalid("stream metadata exceeds maximum size of 128 KiB")
	}
	return nil
}

// CheckUpdate checks that cur may become upd, both normalized.
func CheckUpdate(cur, upd *api.StreamConfig) *api.Error {
	switch {
	case cur.Name != upd.Name:
		return api.ErrStreamMismatch
	case cur.Storage != upd.Storage:
		return invalid("stream configuration update can not change storage type")
	case cur.Retention != upd.Retention && (cur.Retention == api.WorkQueuePolicy || upd.Retention == api.WorkQueuePolicy):
		return invalid("stream configuration update can not change retention policy to/from workqueue")
	case cur.Sealed && !upd.Sealed:
		return invalid("stream configuration update can not unseal a sealed stream")
	case cur.DenyDelete && !upd.DenyDelete:
		return invalid("stream configuration update can not cancel deny message deletes")
	case cur.DenyPurge && !upd.DenyPurge:
		return invalid("stream configuration update can not cancel deny purge")
	case (cur.Mirror == nil) != (upd.Mirror == nil):
		return invalid("stream configuration update can not change mirror configuration")
	case cur.MaxConsumers != upd.MaxConsumers && upd.MaxConsumers != -1 && cur.MaxConsumers != -1 && upd.MaxConsumers < cur.MaxConsumers:
		return invalid("stream configuration update can not change MaxConsumers")
	case cur.FirstSeq != upd.FirstSeq:
		return invalid("stream configuration update can not change first sequence")
	case cur.AllowMsgTTL && !upd.AllowMsgTTL:
		return invalid("stream configuration update can not disable message TTL")
	case cur.AllowMsgCounter != upd.AllowMsgCounter:
		return invalid("stream configuration update can not change message counter setting")
	}
	return nil
}

// hasWildcard reports whether the subject has a '*' or '>' token.
func hasWildcard(subject string) bool {
	for tok := range strings.SplitSeq(subject, ".") {
		if tok == "*" || tok == ">" {
			return true
		}
	}
	return false
}
