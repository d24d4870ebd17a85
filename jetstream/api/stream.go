package api

import (
	"time"

	"natsd.dev/server/snapshot"
)

// StreamConfig is a stream's configuration, as STREAM.CREATE takes it and
// STREAM.INFO returns it. Limits of -1 (or 0 where the upstream server
// accepts it) mean "unlimited"; the server fills defaults before storing.
type StreamConfig struct {
	Name                 string            `json:"name"`
	Description          string            `json:"description,omitempty"`
	Subjects             []string          `json:"subjects,omitempty"`
	Retention            RetentionPolicy   `json:"retention"`
	MaxConsumers         int               `json:"max_consumers"`
	MaxMsgs              int64             `json:"max_msgs"`
	MaxBytes             int64             `json:"max_bytes"`
	MaxAge               time.Duration     `json:"max_age"`
	MaxMsgsPerSubject    int64             `json:"max_msgs_per_subject"`
	MaxMsgSize           int32             `json:"max_msg_size,omitempty"`
	Discard              DiscardPolicy     `json:"discard"`
	Storage              StorageType       `json:"storage"`
	Replicas             int               `json:"num_replicas"`
	NoAck                bool              `json:"no_ack,omitempty"`
	Template             string            `json:"template_owner,omitempty"`
	Duplicates           time.Duration     `json:"duplicate_window,omitempty"`
	Placement            *Placement        `json:"placement,omitempty"`
	Mirror               *StreamSource     `json:"mirror,omitempty"`
	Sources              []*StreamSource   `json:"sources,omitempty"`
	Compression          Compression       `json:"compression"`
	FirstSeq             uint64            `json:"first_seq,omitempty"`
	SubjectTransform     *SubjectTransform `json:"subject_transform,omitempty"`
	RePublish            *RePublish        `json:"republish,omitempty"`
	AllowDirect          bool              `json:"allow_direct"`
	MirrorDirect         bool              `json:"mirror_direct"`
	Sealed               bool              `json:"sealed"`
	DenyDelete           bool              `json:"deny_delete"`
	DenyPurge            bool              `json:"deny_purge"`
	AllowRollup          bool              `json:"allow_rollup_hdrs"`
	DiscardNewPerSubject bool              `json:"discard_new_per_subject,omitempty"`
	ConsumerLimits       ConsumerLimits    `json:"consumer_limits"`
	Metadata             map[string]string `json:"metadata,omitempty"`

	AllowMsgTTL            bool          `json:"allow_msg_ttl"`
	SubjectDeleteMarkerTTL time.Duration `json:"subject_delete_marker_ttl,omitempty"`
	AllowMsgCounter        bool          `json:"allow_msg_counter,omitempty"`
	AllowAtomicPublish     bool          `json:"allow_atomic,omitempty"`
	AllowMsgSchedules      bool          `json:"allow_msg_schedules,omitempty"`
	AllowBatchPublish      bool          `json:"allow_batched,omitempty"`
	PersistMode            PersistMode   `json:"persist_mode,omitempty"`
}

// ConsumerLimits are the defaults and caps of a stream's consumers.
type ConsumerLimits struct {
	InactiveThreshold time.Duration `json:"inactive_threshold,omitempty"`
	MaxAckPending     int           `json:"max_ack_pending,omitempty"`
}

// Placement asks for a cluster and servers with the given tags.
type Placement struct {
	Cluster   string   `json:"cluster,omitempty"`
	Tags      []string `json:"tags,omitempty"`
	Preferred string   `json:"preferred,omitempty"`
}

// StreamSource is a mirror's origin or one of a stream's sources.
type StreamSource struct {
	Name              string             `json:"name"`
	OptStartSeq       uint64             `json:"opt_start_seq,omitempty"`
	OptStartTime      *time.Time         `json:"opt_start_time,omitempty"`
	FilterSubject     string             `json:"filter_subject,omitempty"`
	SubjectTransforms []SubjectTransform `json:"subject_transforms,omitempty"`
	External          *ExternalStream    `json:"external,omitempty"`
}

// ExternalStream names the API prefix (and delivery prefix) of a stream
// in another account or domain.
type ExternalStream struct {
	APIPrefix     string `json:"api"`
	DeliverPrefix string `json:"deliver,omitempty"`
}

// SubjectTransform rewrites subjects matching Source into Destination.
type SubjectTransform struct {
	Source      string `json:"src"`
	Destination string `json:"dest"`
}

// RePublish publishes every stored message matching Source again on
// Destination, on core NATS.
type RePublish struct {
	Source      string `json:"src,omitempty"`
	Destination string `json:"dest"`
	HeadersOnly bool   `json:"headers_only,omitempty"`
}

// StreamInfo is what STREAM.INFO, CREATE and UPDATE return.
type StreamInfo struct {
	Config     StreamConfig        `json:"config"`
	Created    time.Time           `json:"created"`
	State      StreamState         `json:"state"`
	Domain     string              `json:"domain,omitempty"`
	Cluster    *ClusterInfo        `json:"cluster,omitempty"`
	Mirror     *StreamSourceInfo   `json:"mirror,omitempty"`
	Sources    []*StreamSourceInfo `json:"sources,omitempty"`
	Alternates []StreamAlternate   `json:"alternates,omitempty"`
	TimeStamp  time.Time           `json:"ts"`
}

// StreamState is the state part of StreamInfo; the monitoring documents
// (/jsz) carry the same shape, so it is theirs.
type StreamState = snapshot.StreamState

// LostStreamData lists messages the store found damaged and dropped.
type LostStreamData = snapshot.LostStreamData

// ClusterInfo describes the group serving a stream; on a single server,
// the server alone as leader.
type ClusterInfo struct {
	Name        string      `json:"name,omitempty"`
	RaftGroup   string      `json:"raft_group,omitempty"`
	Leader      string      `json:"leader,omitempty"`
	LeaderSince *time.Time  `json:"leader_since,omitempty"`
	Replicas    []*PeerInfo `json:"replicas,omitempty"`
}

// PeerInfo is a replica in ClusterInfo.
type PeerInfo struct {
	Name    string        `json:"name"`
	Current bool          `json:"current"`
	Offline bool          `json:"offline,omitempty"`
	Active  time.Duration `json:"active"`
	Lag     uint64        `json:"lag,omitempty"`
	Peer    string        `json:"peer"`
}

// StreamSourceInfo reports a mirror's or source's progress.
type StreamSourceInfo struct {
	Name              string             `json:"name"`
	External          *ExternalStream    `json:"external,omitempty"`
	Lag               uint64             `json:"lag"`
	Active            time.Duration      `json:"active"`
	Error             *Error             `json:"error,omitempty"`
	FilterSubject     string             `json:"filter_subject,omitempty"`
	SubjectTransforms []SubjectTransform `json:"subject_transforms,omitempty"`
}

// StreamAlternate is a mirror that can serve direct gets for a stream.
type StreamAlternate struct {
	Name    string `json:"name"`
	Domain  string `json:"domain,omitempty"`
	Cluster string `json:"cluster"`
}

// PubAck acknowledges a message a stream stored.
type PubAck struct {
	Stream    string `json:"stream"`
	Sequence  uint64 `json:"seq"`
	Domain    string `json:"domain,omitempty"`
	Duplicate bool   `json:"duplicate,omitempty"`
	Value     string `json:"val,omitempty"`
	BatchID   string `json:"batch,omitempty"`
	BatchSize int    `json:"count,omitempty"`
}

// PubAckResponse is PubAck or an error, as a publisher receives it.
type PubAckResponse struct {
	Error *Error `json:"error,omitempty"`
	*PubAck
}
