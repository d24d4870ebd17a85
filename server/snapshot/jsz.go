package snapshot

import "time"

// JszOptions are the options of the JSZ kind (the /jsz query: acc,
// accounts, streams, consumers, config, leader-only, offset, limit, raft),
// with the JSON names of upstream's $SYS JSZ requests.
type JszOptions struct {
	Account    string `json:"account,omitempty"`
	Accounts   bool   `json:"accounts,omitempty"`
	Streams    bool   `json:"streams,omitempty"`
	Consumers  bool   `json:"consumer,omitempty"`
	Config     bool   `json:"config,omitempty"`
	LeaderOnly bool   `json:"leader_only,omitempty"`
	Offset     int    `json:"offset,omitempty"`
	Limit      int    `json:"limit,omitempty"`
	RaftGroups bool   `json:"raft,omitempty"`
}

// JSInfo is the /jsz document of a server, as upstream's: without a JSZ
// provider the server answers it with Disabled set, so tools see
// "disabled" rather than a 404. A JetStream module may answer with a
// richer document of its own.
type JSInfo struct {
	ID        string            `json:"server_id"`
	Now       time.Time         `json:"now"`
	Disabled  bool              `json:"disabled"`
	Config    JetStreamConfig   `json:"config"`
	Memory    uint64            `json:"memory"`
	Store     uint64            `json:"storage"`
	ResMemory uint64            `json:"reserved_memory"`
	ResStore  uint64            `json:"reserved_storage"`
	Accounts  int               `json:"accounts"`
	HAAssets  int               `json:"ha_assets"`
	API       JetStreamAPIStats `json:"api"`
	Streams   int               `json:"streams"`
	Consumers int               `json:"consumers"`
	Messages  uint64            `json:"messages"`
	Bytes     uint64            `json:"bytes"`
}

// JetStreamConfig is the configuration part of JSInfo.
type JetStreamConfig struct {
	MaxMemory int64  `json:"max_memory"`
	MaxStore  int64  `json:"max_storage"`
	StoreDir  string `json:"store_dir,omitempty"`
}

// JetStreamAPIStats count the JetStream API requests of JSInfo.
type JetStreamAPIStats struct {
	Total  uint64 `json:"total"`
	Errors uint64 `json:"errors"`
}
