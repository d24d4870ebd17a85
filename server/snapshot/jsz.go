package snapshot

import (
	"encoding/json"
	"time"
)

// JszOptions are the options of the JSZ kind (the /jsz query: acc,
// accounts, streams, consumers, config, leader-only, offset, limit, raft),
// with the JSON names of upstream's $SYS JSZ requests. Consumers implies
// Streams; Streams without Account implies Accounts. Offset and Limit page
// the account details (sorted by name); a Limit of 0 lists them all.
type JszOptions struct {
	Account          string `json:"account,omitempty"`
	Accounts         bool   `json:"accounts,omitempty"`
	Streams          bool   `json:"streams,omitempty"`
	Consumers        bool   `json:"consumer,omitempty"`
	Config           bool   `json:"config,omitempty"`
	LeaderOnly       bool   `json:"leader_only,omitempty"`
	Offset           int    `json:"offset,omitempty"`
	Limit            int    `json:"limit,omitempty"`
	RaftGroups       bool   `json:"raft,omitempty"`
	StreamLeaderOnly bool   `json:"stream_leader_only,omitempty"`
}

// JSInfo is the /jsz document of a server, as upstream's: without a JSZ
// provider the server answers it with Disabled set, so tools see
// "disabled" rather than a 404. The JetStream module answers with its
// usage, configuration and, as the options ask, account details.
type JSInfo struct {
	JetStreamStats
	ID        string          `json:"server_id"`
	Now       time.Time       `json:"now"`
	Disabled  bool            `json:"disabled,omitempty"`
	Config    JetStreamConfig `json:"config"`
	Limits    *JSLimitOpts    `json:"limits,omitempty"`
	Streams   int             `json:"streams"`
	Consumers int             `json:"consumers"`
	Messages  uint64          `json:"messages"`
	Bytes     uint64          `json:"bytes"`
	// Meta is the meta group of a clustered JetStream (upstream's
	// MetaClusterInfo), absent on a single server.
	Meta json.RawMessage `json:"meta_cluster,omitempty"`
	// AccountDetails are the accounts the options ask for.
	AccountDetails []*AccountDetail `json:"account_details,omitempty"`
	// Total is the number of JetStream accounts, before paging.
	Total int `json:"total"`
}

// JetStreamStats are JetStream's usage: of a server in JSInfo and in the
// "stats" of /varz's jetstream section, of one account in AccountDetail.
// The reserved bytes are what streams' max_bytes set aside.
type JetStreamStats struct {
	Memory         uint64            `json:"memory"`
	Store          uint64            `json:"storage"`
	ReservedMemory uint64            `json:"reserved_memory"`
	ReservedStore  uint64            `json:"reserved_storage"`
	Accounts       int               `json:"accounts"`
	HAAssets       int               `json:"ha_assets"`
	API            JetStreamAPIStats `json:"api"`
}

// JetStreamConfig is the server's JetStream configuration, in JSInfo and
// in the "config" of /varz's jetstream section. SyncInterval is in
// nanoseconds, as upstream renders a time.Duration.
type JetStreamConfig struct {
	MaxMemory    int64         `json:"max_memory"`
	MaxStore     int64         `json:"max_storage"`
	StoreDir     string        `json:"store_dir,omitempty"`
	SyncInterval time.Duration `json:"sync_interval,omitempty"`
	SyncAlways   bool          `json:"sync_always,omitempty"`
	Domain       string        `json:"domain,omitempty"`
	CompressOK   bool          `json:"compress_ok,omitempty"`
	UniqueTag    string        `json:"unique_tag,omitempty"`
	Strict       bool          `json:"strict,omitempty"`
}

// JetStreamAPIStats count the JetStream API requests; Level is the API
// level the server implements (ADR-44).
type JetStreamAPIStats struct {
	Level    int    `json:"level"`
	Total    uint64 `json:"total"`
	Errors   uint64 `json:"errors"`
	Inflight uint64 `json:"inflight,omitempty"`
}

// JSLimitOpts are the server-wide limits of the jetstream { limits {} }
// block; Duplicates is in nanoseconds.
type JSLimitOpts struct {
	MaxRequestBatch int           `json:"max_request_batch,omitempty"`
	MaxAckPending   int           `json:"max_ack_pending,omitempty"`
	MaxHAAssets     int           `json:"max_ha_assets,omitempty"`
	Duplicates      time.Duration `json:"max_duplicate_window,omitempty"`
}

// AccountDetail is one account of JSInfo: its usage and, when asked
// (streams), its streams. ID is the account's name, Name its display name
// (the same but for JWT accounts with a name tag).
type AccountDetail struct {
	Name string `json:"name"`
	ID   string `json:"id"`
	JetStreamStats
	Streams []StreamDetail `json:"stream_detail,omitempty"`
}

// StreamDetail is one stream of an AccountDetail. The documents the
// JetStream module owns (stream configuration, cluster and source
// information, consumer information) are raw JSON, rendered by that
// module with upstream's field names; Config is present only when the
// options ask for it (config), Consumers only when they ask for
// consumers.
type StreamDetail struct {
	Name      string            `json:"name"`
	Created   time.Time         `json:"created"`
	Cluster   json.RawMessage   `json:"cluster,omitempty"`
	Config    json.RawMessage   `json:"config,omitempty"`
	State     StreamState       `json:"state,omitempty"`
	Consumers []json.RawMessage `json:"consumer_detail,omitempty"`
	Mirror    json.RawMessage   `json:"mirror,omitempty"`
	Sources   []json.RawMessage `json:"sources,omitempty"`
	RaftGroup string            `json:"stream_raft_group,omitempty"`
}

// StreamState is the state of a stream, as in upstream's stream info.
type StreamState struct {
	Msgs        uint64            `json:"messages"`
	Bytes       uint64            `json:"bytes"`
	FirstSeq    uint64            `json:"first_seq"`
	FirstTime   time.Time         `json:"first_ts"`
	LastSeq     uint64            `json:"last_seq"`
	LastTime    time.Time         `json:"last_ts"`
	NumSubjects int               `json:"num_subjects,omitempty"`
	Subjects    map[string]uint64 `json:"subjects,omitempty"`
	NumDeleted  int               `json:"num_deleted,omitempty"`
	Deleted     []uint64          `json:"deleted,omitempty"`
	Lost        *LostStreamData   `json:"lost,omitempty"`
	Consumers   int               `json:"consumer_count"`
}

// LostStreamData lists the messages a store found damaged and dropped.
type LostStreamData struct {
	Msgs  []uint64 `json:"msgs"`
	Bytes uint64   `json:"bytes"`
}
