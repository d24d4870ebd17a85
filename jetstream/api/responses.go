package api

import (
	"time"
)

// Response types, the "type" field of every API response.
const (
	TypeAccountInfoResponse    = "io.nats.jetstream.api.v1.account_info_response"
	TypeStreamCreateResponse   = "io.nats.jetstream.api.v1.stream_create_response"
	TypeStreamUpdateResponse   = "io.nats.jetstream.api.v1.stream_update_response"
	TypeStreamDeleteResponse   = "io.nats.jetstream.api.v1.stream_delete_response"
	TypeStreamInfoResponse     = "io.nats.jetstream.api.v1.stream_info_response"
	TypeStreamListResponse     = "io.nats.jetstream.api.v1.stream_list_response"
	TypeStreamNamesResponse    = "io.nats.jetstream.api.v1.stream_names_response"
	TypeStreamPurgeResponse    = "io.nats.jetstream.api.v1.stream_purge_response"
	TypeStreamMsgGetResponse   = "io.nats.jetstream.api.v1.stream_msg_get_response"
	TypeStreamMsgDeleteResp    = "io.nats.jetstream.api.v1.stream_msg_delete_response"
	TypeStreamSnapshotResponse = "io.nats.jetstream.api.v1.stream_snapshot_response"
	TypeStreamRestoreResponse  = "io.nats.jetstream.api.v1.stream_restore_response"
	TypeStreamStepdownResponse = "io.nats.jetstream.api.v1.stream_leader_stepdown_response"
	TypeStreamRemovePeerResp   = "io.nats.jetstream.api.v1.stream_remove_peer_response"
	TypeErrorResponse          = "io.nats.jetstream.api.v1.error_response"
)

// Response is the part every API response shares.
type Response struct {
	Type  string `json:"type"`
	Error *Error `json:"error,omitempty"`
}

// Paged is the paging part of list responses.
type Paged struct {
	Total  int `json:"total"`
	Offset int `json:"offset"`
	Limit  int `json:"limit"`
}

// PagedRequest is the paging part of list requests.
type PagedRequest struct {
	Offset int `json:"offset"`
}

// APIStats count an account's API calls.
type APIStats struct {
	Level    int    `json:"level"`
	Total    uint64 `json:"total"`
	Errors   uint64 `json:"errors"`
	Inflight uint64 `json:"inflight,omitempty"`
}

// AccountLimits are an account's JetStream limits; -1 is unlimited.
type AccountLimits struct {
	MaxMemory            int64 `json:"max_memory"`
	MaxStore             int64 `json:"max_storage"`
	MaxStreams           int   `json:"max_streams"`
	MaxConsumers         int   `json:"max_consumers"`
	MaxAckPending        int   `json:"max_ack_pending"`
	MemoryMaxStreamBytes int64 `json:"memory_max_stream_bytes"`
	StoreMaxStreamBytes  int64 `json:"storage_max_stream_bytes"`
	MaxBytesRequired     bool  `json:"max_bytes_required"`
}

// Tier is an account's usage and limits (in one replication tier).
type Tier struct {
	Memory         uint64        `json:"memory"`
	Store          uint64        `json:"storage"`
	ReservedMemory uint64        `json:"reserved_memory"`
	ReservedStore  uint64        `json:"reserved_storage"`
	Streams        int           `json:"streams"`
	Consumers      int           `json:"consumers"`
	Limits         AccountLimits `json:"limits"`
}

// AccountInfo is the answer to $JS.API.INFO.
type AccountInfo struct {
	Tier
	Domain string          `json:"domain,omitempty"`
	API    APIStats        `json:"api"`
	Tiers  map[string]Tier `json:"tiers,omitempty"`
}

// AccountInfoResponse is AccountInfo as the API sends it.
type AccountInfoResponse struct {
	Response
	*AccountInfo
}

// StreamCreateResponse answers STREAM.CREATE: the stream's information
// and did_create (true also when the same configuration existed, as
// upstream 2.15.2 answers), without paging or cluster information.
type StreamCreateResponse struct {
	Response
	*StreamInfo
	DidCreate bool `json:"did_create,omitempty"`
}

// StreamInfoResponse answers STREAM.INFO (TypeStreamInfoResponse, with the
// paging of subjects) and STREAM.UPDATE (TypeStreamUpdateResponse, whose
// paging upstream leaves out: use StreamUpdateResponse).
type StreamInfoResponse struct {
	Response
	Paged
	*StreamInfo
}

// StreamUpdateResponse answers STREAM.UPDATE: the stream's information,
// without paging or cluster information.
type StreamUpdateResponse struct {
	Response
	*StreamInfo
}

// StreamInfoRequest asks STREAM.INFO for details.
type StreamInfoRequest struct {
	PagedRequest
	DeletedDetails bool   `json:"deleted_details,omitempty"`
	SubjectsFilter string `json:"subjects_filter,omitempty"`
}

// StreamNamesRequest filters STREAM.NAMES and STREAM.LIST by a subject.
type StreamNamesRequest struct {
	PagedRequest
	Subject string `json:"subject,omitempty"`
}

// StreamNamesResponse answers STREAM.NAMES.
type StreamNamesResponse struct {
	Response
	Paged
	Streams []string `json:"streams"`
}

// StreamListResponse answers STREAM.LIST.
type StreamListResponse struct {
	Response
	Paged
	Streams []*StreamInfo `json:"streams"`
	Missing []string      `json:"missing,omitempty"`
}

// SuccessResponse answers STREAM.DELETE and STREAM.MSG.DELETE.
type SuccessResponse struct {
	Response
	Success bool `json:"success,omitempty"`
}

// StreamPurgeRequest narrows STREAM.PURGE (ADR-10).
type StreamPurgeRequest struct {
	Subject  string `json:"filter,omitempty"`
	Sequence uint64 `json:"seq,omitempty"`
	Keep     uint64 `json:"keep,omitempty"`
}

// StreamPurgeResponse answers STREAM.PURGE.
type StreamPurgeResponse struct {
	Response
	Success bool   `json:"success,omitempty"`
	Purged  uint64 `json:"purged"`
}

// MsgDeleteRequest is STREAM.MSG.DELETE's request.
type MsgDeleteRequest struct {
	Seq     uint64 `json:"seq"`
	NoErase bool   `json:"no_erase,omitempty"`
}

// MsgGetRequest is the request of STREAM.MSG.GET and DIRECT.GET (ADR-31).
type MsgGetRequest struct {
	Seq          uint64     `json:"seq,omitempty"`
	LastFor      string     `json:"last_by_subj,omitempty"`
	NextFor      string     `json:"next_by_subj,omitempty"`
	Batch        int        `json:"batch,omitempty"`
	MaxBytes     int        `json:"max_bytes,omitempty"`
	StartTime    *time.Time `json:"start_time,omitempty"`
	MultiLastFor []string   `json:"multi_last,omitempty"`
	UpToSeq      uint64     `json:"up_to_seq,omitempty"`
	UpToTime     *time.Time `json:"up_to_time,omitempty"`
	NoHeaders    bool       `json:"no_hdr,omitempty"`
}

// StoredMsg is a message as STREAM.MSG.GET returns it.
type StoredMsg struct {
	Subject  string    `json:"subject"`
	Sequence uint64    `json:"seq"`
	Header   []byte    `json:"hdrs,omitempty"`
	Data     []byte    `json:"data,omitempty"`
	Time     time.Time `json:"time"`
}

// MsgGetResponse answers STREAM.MSG.GET.
type MsgGetResponse struct {
	Response
	Message *StoredMsg `json:"message,omitempty"`
}

// SnapshotRequest is STREAM.SNAPSHOT's request.
type SnapshotRequest struct {
	DeliverSubject string `json:"deliver_subject"`
	NoConsumers    bool   `json:"no_consumers,omitempty"`
	ChunkSize      int    `json:"chunk_size,omitempty"`
	WindowSize     int    `json:"window_size,omitempty"`
	CheckMsgs      bool   `json:"jsck,omitempty"`
}

// SnapshotResponse answers STREAM.SNAPSHOT before the chunks flow.
type SnapshotResponse struct {
	Response
	Config *StreamConfig `json:"config,omitempty"`
	State  *StreamState  `json:"state,omitempty"`
}

// RestoreRequest is STREAM.RESTORE's request.
type RestoreRequest struct {
	Config StreamConfig `json:"config"`
	State  StreamState  `json:"state"`
}

// RestoreResponse answers STREAM.RESTORE with where to send the chunks.
type RestoreResponse struct {
	Response
	DeliverSubject string `json:"deliver_subject"`
}

// StepdownResponse answers STREAM.LEADER.STEPDOWN.
type StepdownResponse = SuccessResponse
