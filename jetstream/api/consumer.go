package api

import "time"

// Consumer API response types.
const (
	TypeConsumerCreateResponse = "io.nats.jetstream.api.v1.consumer_create_response"
	TypeConsumerInfoResponse   = "io.nats.jetstream.api.v1.consumer_info_response"
	TypeConsumerDeleteResponse = "io.nats.jetstream.api.v1.consumer_delete_response"
	TypeConsumerNamesResponse  = "io.nats.jetstream.api.v1.consumer_names_response"
	TypeConsumerListResponse   = "io.nats.jetstream.api.v1.consumer_list_response"
	TypeConsumerPauseResponse  = "io.nats.jetstream.api.v1.consumer_pause_response"
	TypeConsumerUnpinResponse  = "io.nats.jetstream.api.v1.consumer_unpin_response"
	TypeConsumerResetResponse  = "io.nats.jetstream.api.v1.consumer_reset_response"
)

// DeliverPolicy says where a consumer starts in its stream.
type DeliverPolicy int

const (
	DeliverAll            DeliverPolicy = iota // from the first message
	DeliverLast                                // from the last message
	DeliverNew                                 // from the next stored message
	DeliverByStartSeq                          // from opt_start_seq
	DeliverByStartTime                         // from opt_start_time
	DeliverLastPerSubject                      // the last message of every subject
)

var deliverNames = []string{"all", "last", "new", "by_start_sequence", "by_start_time", "last_per_subject"}

func (p DeliverPolicy) String() string { return enumName(deliverNames, int(p)) }

// MarshalJSON writes the policy's name.
func (p DeliverPolicy) MarshalJSON() ([]byte, error) { return marshalEnum(deliverNames, int(p)) }

// UnmarshalJSON reads the policy's name ("undefined" is "all").
func (p *DeliverPolicy) UnmarshalJSON(b []byte) error {
	if string(b) == `"undefined"` {
		*p = DeliverAll
		return nil
	}
	return unmarshalEnum(deliverNames, b, (*int)(p), false)
}

// AckPolicy says which deliveries a consumer expects acks for.
type AckPolicy int

const (
	AckNone     AckPolicy = iota // no acks
	AckAll                       // an ack acks every earlier delivery too
	AckExplicit                  // every delivery is acked on its own
	AckFlowControl
)

var ackNames = []string{"none", "all", "explicit", "flow_control"}

func (p AckPolicy) String() string { return enumName(ackNames, int(p)) }

// MarshalJSON writes "none", "all" or "explicit".
func (p AckPolicy) MarshalJSON() ([]byte, error) { return marshalEnum(ackNames, int(p)) }

// UnmarshalJSON reads "none", "all" or "explicit".
func (p *AckPolicy) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(ackNames, b, (*int)(p), false)
}

// ReplayPolicy says how fast a consumer replays stored messages.
type ReplayPolicy int

const (
	ReplayInstant  ReplayPolicy = iota // as fast as possible
	ReplayOriginal                     // at the pace they were stored
)

var replayNames = []string{"instant", "original"}

func (p ReplayPolicy) String() string { return enumName(replayNames, int(p)) }

// MarshalJSON writes "instant" or "original".
func (p ReplayPolicy) MarshalJSON() ([]byte, error) { return marshalEnum(replayNames, int(p)) }

// UnmarshalJSON reads "instant" or "original".
func (p *ReplayPolicy) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(replayNames, b, (*int)(p), false)
}

// PriorityPolicy is how pull requests of priority groups share a
// consumer (ADR-42).
type PriorityPolicy int

const (
	PriorityNone         PriorityPolicy = iota
	PriorityOverflow                    // serve a group only past min_pending / min_ack_pending
	PriorityPinnedClient                // one client at a time, by pin id
	PriorityPrioritized                 // lower priority values first
)

var priorityNames = []string{"none", "overflow", "pinned_client", "prioritized"}

func (p PriorityPolicy) String() string { return enumName(priorityNames, int(p)) }

// MarshalJSON writes the policy's name.
func (p PriorityPolicy) MarshalJSON() ([]byte, error) { return marshalEnum(priorityNames, int(p)) }

// UnmarshalJSON reads the policy's name ("" is none).
func (p *PriorityPolicy) UnmarshalJSON(b []byte) error {
	if string(b) == `""` {
		*p = PriorityNone
		return nil
	}
	return unmarshalEnum(priorityNames, b, (*int)(p), false)
}

// ConsumerConfig is a consumer's configuration.
type ConsumerConfig struct {
	Name            string            `json:"name,omitempty"`
	Durable         string            `json:"durable_name,omitempty"`
	Description     string            `json:"description,omitempty"`
	DeliverPolicy   DeliverPolicy     `json:"deliver_policy"`
	OptStartSeq     uint64            `json:"opt_start_seq,omitempty"`
	OptStartTime    *time.Time        `json:"opt_start_time,omitempty"`
	AckPolicy       AckPolicy         `json:"ack_policy"`
	AckWait         time.Duration     `json:"ack_wait,omitempty"`
	MaxDeliver      int               `json:"max_deliver,omitempty"`
	BackOff         []time.Duration   `json:"backoff,omitempty"`
	FilterSubject   string            `json:"filter_subject,omitempty"`
	FilterSubjects  []string          `json:"filter_subjects,omitempty"`
	ReplayPolicy    ReplayPolicy      `json:"replay_policy"`
	RateLimit       uint64            `json:"rate_limit_bps,omitempty"`
	SampleFrequency string            `json:"sample_freq,omitempty"`
	MaxWaiting      int               `json:"max_waiting,omitempty"`
	MaxAckPending   int               `json:"max_ack_pending,omitempty"`
	HeadersOnly     bool              `json:"headers_only,omitempty"`
	MaxRequestBatch int               `json:"max_batch,omitempty"`
	MaxRequestExp   time.Duration     `json:"max_expires,omitempty"`
	MaxRequestBytes int               `json:"max_bytes,omitempty"`
	InactiveThresh  time.Duration     `json:"inactive_threshold,omitempty"`
	Replicas        int               `json:"num_replicas"`
	MemoryStorage   bool              `json:"mem_storage,omitempty"`
	Direct          bool              `json:"direct,omitempty"`
	Metadata        map[string]string `json:"metadata,omitempty"`
	PauseUntil      *time.Time        `json:"pause_until,omitempty"`
	PriorityPolicy  PriorityPolicy    `json:"priority_policy,omitempty"`
	PinnedTTL       time.Duration     `json:"priority_timeout,omitempty"`
	PriorityGroups  []string          `json:"priority_groups,omitempty"`

	// Push consumers.
	DeliverSubject string        `json:"deliver_subject,omitempty"`
	DeliverGroup   string        `json:"deliver_group,omitempty"`
	FlowControl    bool          `json:"flow_control,omitempty"`
	Heartbeat      time.Duration `json:"idle_heartbeat,omitempty"`
}

// SequenceInfo is a consumer sequence and the stream sequence it names.
type SequenceInfo struct {
	Consumer uint64     `json:"consumer_seq"`
	Stream   uint64     `json:"stream_seq"`
	Last     *time.Time `json:"last_active,omitempty"`
}

// PriorityGroupState is a priority group's pinned client.
type PriorityGroupState struct {
	Group          string    `json:"group"`
	PinnedClientID string    `json:"pinned_client_id,omitempty"`
	PinnedTS       time.Time `json:"pinned_ts,omitempty"`
}

// ConsumerInfo describes a consumer and its state.
type ConsumerInfo struct {
	Stream         string               `json:"stream_name"`
	Name           string               `json:"name"`
	Created        time.Time            `json:"created"`
	Config         *ConsumerConfig      `json:"config,omitempty"`
	Delivered      SequenceInfo         `json:"delivered"`
	AckFloor       SequenceInfo         `json:"ack_floor"`
	NumAckPending  int                  `json:"num_ack_pending"`
	NumRedelivered int                  `json:"num_redelivered"`
	NumWaiting     int                  `json:"num_waiting"`
	NumPending     uint64               `json:"num_pending"`
	Cluster        *ClusterInfo         `json:"cluster,omitempty"`
	PushBound      bool                 `json:"push_bound,omitempty"`
	Paused         bool                 `json:"paused,omitempty"`
	PauseRemaining time.Duration        `json:"pause_remaining,omitempty"`
	TimeStamp      time.Time            `json:"ts"`
	PriorityGroups []PriorityGroupState `json:"priority_groups,omitempty"`
}

// ConsumerAction is what CONSUMER.CREATE may do.
type ConsumerAction int

const (
	ActionCreateOrUpdate ConsumerAction = iota
	ActionUpdate
	ActionCreate
)

var actionNames = []string{"", "update", "create"}

// MarshalJSON writes "", "update" or "create".
func (a ConsumerAction) MarshalJSON() ([]byte, error) { return marshalEnum(actionNames, int(a)) }

// UnmarshalJSON reads "", "update" or "create".
func (a *ConsumerAction) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(actionNames, b, (*int)(a), false)
}

// CreateConsumerRequest is CONSUMER.CREATE's and DURABLE.CREATE's request.
type CreateConsumerRequest struct {
	Stream   string          `json:"stream_name"`
	Config   *ConsumerConfig `json:"config"`
	Action   ConsumerAction  `json:"action"`
	Pedantic bool            `json:"pedantic,omitempty"`
}

// ConsumerResponse answers CONSUMER.CREATE and CONSUMER.INFO.
type ConsumerResponse struct {
	Response
	*ConsumerInfo
}

// ConsumerNamesRequest is CONSUMER.NAMES's and LIST's request.
type ConsumerNamesRequest struct {
	PagedRequest
}

// ConsumerNamesResponse answers CONSUMER.NAMES.
type ConsumerNamesResponse struct {
	Response
	Paged
	Consumers []string `json:"consumers"`
}

// ConsumerListResponse answers CONSUMER.LIST.
type ConsumerListResponse struct {
	Response
	Paged
	Consumers []*ConsumerInfo `json:"consumers"`
	Missing   []string        `json:"missing,omitempty"`
}

// ConsumerPauseRequest is CONSUMER.PAUSE's request.
type ConsumerPauseRequest struct {
	PauseUntil time.Time `json:"pause_until,omitempty"`
}

// ConsumerPauseResponse answers CONSUMER.PAUSE.
type ConsumerPauseResponse struct {
	Response
	Paused         bool          `json:"paused"`
	PauseUntil     time.Time     `json:"pause_until"`
	PauseRemaining time.Duration `json:"pause_remaining,omitempty"`
}

// ConsumerUnpinRequest is CONSUMER.UNPIN's request.
type ConsumerUnpinRequest struct {
	Group string `json:"group"`
}

// PullRequest is a pull consumer's request for messages (ADR-13, ADR-42).
type PullRequest struct {
	Batch         int           `json:"batch,omitempty"`
	Expires       time.Duration `json:"expires,omitempty"`
	NoWait        bool          `json:"no_wait,omitempty"`
	MaxBytes      int           `json:"max_bytes,omitempty"`
	Heartbeat     time.Duration `json:"idle_heartbeat,omitempty"`
	Group         string        `json:"group,omitempty"`
	MinPending    int64         `json:"min_pending,omitempty"`
	MinAckPending int64         `json:"min_ack_pending,omitempty"`
	ID            string        `json:"id,omitempty"`
	Priority      int           `json:"priority,omitempty"`
}

// ConsumerResetRequest is CONSUMER.RESET's request: the stream sequence to
// deliver next, or 0 for the ack floor's next.
type ConsumerResetRequest struct {
	Seq uint64 `json:"seq,omitempty"`
}

// ConsumerResetResponse answers CONSUMER.RESET with the consumer's info.
type ConsumerResetResponse struct {
	Response
	*ConsumerInfo
	ResetSeq uint64 `json:"reset_seq"`
}
