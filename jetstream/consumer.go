package jetstream

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"natsd.dev/jetstream/api"
	"natsd.dev/jetstream/internal/stream"
	"natsd.dev/jetstream/store"
	"natsd.dev/server"
	"natsd.dev/sublist"
)

// Consumer defaults, as upstream.
const (
	defaultAckWait       = 30 * time.Second
	defaultMaxAckPending = 1000
	defaultMaxWaiting    = 512
	defaultInactive      = 5 * time.Second // ephemeral consumers
	maxDescription       = 4096
	flushEvery           = 200 * time.Millisecond
)

// consumerSet is a stream's consumers.
type consumerSet struct {
	mu sync.RWMutex
	m  map[string]*consumer
}

func (cs *consumerSet) get(name string) *consumer {
	cs.mu.RLock()
	defer cs.mu.RUnlock()
	return cs.m[name]
}

func (cs *consumerSet) list() []*consumer {
	cs.mu.RLock()
	l := make([]*consumer, 0, len(cs.m))
	for _, c := range cs.m {
		l = append(l, c)
	}
	cs.mu.RUnlock()
	sort.Slice(l, func(i, j int) bool { return l[i].name < l[j].name })
	return l
}

// pend is one delivered message waiting for its ack: 32 bytes.
type pend struct {
	sseq uint64 // stream sequence
	cseq uint64 // consumer sequence of its last delivery
	ts   int64  // time of its last delivery (Unix ns), shifted for a NAK delay
	dc   uint32 // deliveries so far
	done bool   // acked or terminated (a tombstone until compacted)
	rdq  bool   // queued for redelivery
}

// pullReq is a waiting pull request.
type pullReq struct {
	reply    string
	batch    int // messages left
	maxBytes int // bytes left; 0 is unlimited
	sent     int
	expires  time.Time
	noWait   bool
	hb       time.Duration
	lastSend time.Time
	// priority groups
	group         string
	minPending    int64
	minAckPending int64
	id            string // Nats-Pin-Id the request carries
	pinned        string // pin id this request was served under
	priority      int
}

// consumer is one consumer of a stream.
type consumer struct {
	se      *streamEntry
	acc     *account
	name    string
	stream  string
	created time.Time
	sess    *server.Session
	batch   *server.Batch       // publishes the loop's deliveries (loop goroutine only)
	ackPre  string              // "$JS.ACK.<stream>.<consumer>.", the ack replies' start
	cs      store.ConsumerStore // nil for mem_storage consumers
	sacc    *server.Account
	ephem   bool
	unnamed atomic.Bool         // an ephemeral created without a name: its config shows none
	ret     api.RetentionPolicy // the stream's (fixed); read under c.mu without the stream's lock

	flushMu sync.Mutex          // serializes state writes, taken before mu
	st      store.ConsumerState // flush's scratch, under flushMu
	mu      sync.Mutex
	cfg     api.ConsumerConfig
	filters []string // empty: every subject
	next    uint64   // next stream sequence to look at
	lps     []uint64 // last_per_subject sequences still to deliver
	dseq    uint64   // last consumer sequence delivered
	dsseq   uint64   // stream sequence of that delivery
	floor   store.SequencePair
	pending []pend // sorted by sseq
	head    int    // pending[:head] are done
	npend   int    // entries not done
	rdq     []uint64
	nredel  int // pending entries delivered more than once
	waiting []*pullReq
	pruned  time.Time // when dropGoneLocked last ran
	last    time.Time // last delivery (since the start, a restart or a reset)
	lastAck time.Time // last ack (the ack floor's last_active)
	active  time.Time
	dirty   bool
	closed  bool
	scanAt  int64 // next redelivery scan (Unix ns); 0 none
	hbAt    time.Time
	fcReply string // outstanding flow control request
	fcSince int    // messages since the last flow control request
	fcSize  int    // bytes since the last flow control request
	fcN     uint64
	sm      store.StoredMsg // the loop's scratch
	// The delivery batch of work (consumer_deliver.go), touched by the
	// loop's goroutine only: what it publishes once the lock is
	// released, the arena holding the loaded messages, subjects and ack
	// replies those point into, and per-batch caches.
	outs     []out
	arena    []byte
	spill    int             // bytes of this batch's loads that did not fit the arena
	bm       store.StoredMsg // loads into the arena's free tail
	seenReq  *pullReq        // request whose interest was checked this batch
	seenPush bool            // the deliver subject's interest was checked this batch
	lastSeq  uint64          // the stream's last sequence, read once per batch; 0: not read
	inBatch  bool            // work is building a batch (under the lock)
	rlAt     time.Time       // rate_limit_bps: no delivery before
	rpTs     int64           // replay original: stored time of the last new delivery
	rpAt     time.Time       // and when it went out
	fromLps  bool            // pickLocked took the sequence from lps
	sample   int             // sample_freq in percent
	// advPaused is the paused state the last pause advisory told.
	advPaused bool
	events    []pendingEvent
	pins      map[string]*pin // pinned_client: the consumer's one pin, under ""
	pinWake   time.Time       // when a pin may time out
	// np caches num_pending for ack replies: valid for stream last
	// sequence npLast; grown by what arrived since, lowered per delivery.
	np      uint64
	npLast  uint64
	npValid bool

	kick chan struct{}
	stop chan struct{}
	wg   sync.WaitGroup
}

// consumerMeta is what a consumer keeps beside its state.
type consumerMeta struct {
	Config  api.ConsumerConfig `json:"config"`
	Created time.Time          `json:"created"`
}

func (se *streamEntry) consumerDir() string {
	return filepath.Join(se.acc.streamDir(se.Name()), "consumers.meta")
}

func (se *streamEntry) persistent() bool { return se.storage == api.FileStorage }

// setConsumerDefaults fills in what upstream fills in.
func setConsumerDefaults(cfg *api.ConsumerConfig, ephemeral bool) {
	if cfg.Durable != "" && cfg.Name == "" {
		cfg.Name = cfg.Durable
	}
	if cfg.AckPolicy != api.AckNone && cfg.AckWait == 0 {
		cfg.AckWait = defaultAckWait
		if len(cfg.BackOff) > 0 {
			cfg.AckWait = cfg.BackOff[0]
		}
	}
	if cfg.MaxDeliver == 0 {
		cfg.MaxDeliver = -1
	}
	if cfg.AckPolicy != api.AckNone && cfg.MaxAckPending == 0 {
		cfg.MaxAckPending = defaultMaxAckPending
	}
	if cfg.DeliverSubject == "" && cfg.MaxWaiting == 0 {
		cfg.MaxWaiting = defaultMaxWaiting
	}
	if cfg.PriorityPolicy == api.PriorityPinnedClient && cfg.PinnedTTL == 0 {
		cfg.PinnedTTL = defaultPinnedTTL
	}
	if ephemeral && cfg.InactiveThresh == 0 {
		cfg.InactiveThresh = defaultInactive
	}
}

// maxConsumerMetadata bounds the bytes of a consumer's metadata keys and
// values, as upstream's JSMaxMetadataLen.
const maxConsumerMetadata = 128 * 1024

// applyLimitDefaults lowers a defaulted max_ack_pending to the account's
// and the server's limits, and gives a pull consumer without max_batch
// the server's, as upstream. userMAP is what the request asked for.
func (se *streamEntry) applyLimitDefaults(cfg *api.ConsumerConfig, userMAP int) {
	srv := se.acc.js.serverLimits()
	if cfg.AckPolicy != api.AckNone && userMAP == 0 {
		if l := se.acc.lim().MaxAckPending; l > 0 && l < cfg.MaxAckPending {
			cfg.MaxAckPending = l
		}
		if l := srv.MaxAckPending; l > 0 && l < cfg.MaxAckPending {
			cfg.MaxAckPending = l
		}
	}
	if cfg.DeliverSubject == "" && cfg.MaxRequestBatch == 0 && srv.MaxRequestBatch > 0 {
		cfg.MaxRequestBatch = srv.MaxRequestBatch
	}
}

// checkConsumerLimits refuses what exceeds the account's or the server's
// limits.
func (se *streamEntry) checkConsumerLimits(cfg *api.ConsumerConfig) *api.Error {
	srv := se.acc.js.serverLimits()
	if cfg.MaxAckPending > 0 {
		if l := se.acc.lim().MaxAckPending; l > 0 && cfg.MaxAckPending > l {
			return api.ErrConsumerMaxPendingAckExcess.With("limit", fmt.Sprint(l))
		}
		if l := srv.MaxAckPending; l > 0 && cfg.MaxAckPending > l {
			return api.ErrConsumerMaxPendingAckExcess.With("limit", fmt.Sprint(l))
		}
	}
	if l := srv.MaxRequestBatch; l > 0 && cfg.MaxRequestBatch > l {
		return api.ErrConsumerMaxRequestBatchExceeded.With("limit", fmt.Sprint(l))
	}
	return nil
}

// checkConsumerConfig validates cfg (defaults set) against its stream.
func (se *streamEntry) checkConsumerConfig(cfg *api.ConsumerConfig) *api.Error {
	scfg := se.Config()
	if len(cfg.Description) > maxDescription {
		return api.ErrConsumerDescriptionTooLong.With("max", fmt.Sprint(maxDescription))
	}
	mlen := 0
	for k, v := range cfg.Metadata {
		mlen += len(k) + len(v)
	}
	if mlen > maxConsumerMetadata {
		return api.ErrConsumerMetadataLength.With("limit", fmt.Sprintf("%dKB", maxConsumerMetadata/1024))
	}
	for _, n := range []string{cfg.Name, cfg.Durable} {
		if strings.ContainsAny(n, "/\\") {
			return api.ErrConsumerNameContainsPathSeparators
		}
		if strings.ContainsAny(n, ".*> \t\r\n") {
			return api.ErrConsumerBadDurableName
		}
	}
	if cfg.FilterSubject != "" && len(cfg.FilterSubjects) > 0 {
		return api.ErrConsumerDuplicateFilterSubjects
	}
	filters := consumerFilters(cfg)
	var seen filterTrie
	for _, f := range filters {
		if f == "" {
			return api.ErrConsumerEmptyFilter
		}
		if !sublist.ValidFilter(f) {
			return api.ErrConsumerFilterNotSubset
		}
		if seen.add(f) {
			return api.ErrConsumerOverlappingSubjectFilters
		}
		if len(scfg.Subjects) > 0 && scfg.Mirror == nil && len(scfg.Sources) == 0 {
			ok := false
			for _, s := range scfg.Subjects {
				if subjectsOverlap(f, s) {
					ok = true
					break
				}
			}
			if !ok {
				return api.ErrConsumerFilterNotSubset
			}
		}
	}
	push := cfg.DeliverSubject != ""
	if push {
		if !sublist.ValidSubject(cfg.DeliverSubject) {
			return api.ErrConsumerInvalidDeliverSubject
		}
		if !sublist.IsLiteral(cfg.DeliverSubject) {
			return api.ErrConsumerDeliverToWildcards
		}
		for _, s := range scfg.Subjects {
			if subjectsOverlap(cfg.DeliverSubject, s) {
				return api.ErrConsumerDeliverCycle
			}
		}
		if cfg.MaxWaiting != 0 {
			return api.ErrConsumerPushMaxWaiting
		}
		if cfg.FlowControl && cfg.Heartbeat == 0 {
			return api.ErrConsumerWithFlowControlNeedsHeartbeats
		}
		if len(cfg.PriorityGroups) > 0 || cfg.PriorityPolicy != api.PriorityNone {
			return api.ErrConsumerPushWithPriorityGroup
		}
	} else {
		if cfg.Heartbeat > 0 {
			return api.ErrConsumerHBRequiresPush
		}
		if cfg.FlowControl {
			return api.ErrConsumerFCRequiresPush
		}
		if cfg.RateLimit > 0 {
			return api.ErrConsumerPullWithRateLimit
		}
		if cfg.MaxWaiting < 0 {
			return api.ErrConsumerMaxWaitingNegative
		}
		if cfg.AckPolicy == api.AckNone && scfg.Retention == api.WorkQueuePolicy {
			return api.ErrConsumerPullRequiresAck
		}
	}
	if cfg.Heartbeat > 0 && cfg.Heartbeat < 100*time.Millisecond {
		return api.ErrConsumerSmallHeartbeat
	}
	if cfg.AckPolicy == api.AckFlowControl {
		return api.ErrConsumerAckPolicyInvalid
	}
	if cfg.AckPolicy == api.AckNone && cfg.MaxAckPending > 0 {
		return api.ErrConsumerMaxPendingAckPolicyRequired
	}
	if cfg.AckWait < 0 {
		return api.ErrConsumerAckWaitNegative
	}
	for _, b := range cfg.BackOff {
		if b <= 0 {
			return api.ErrConsumerBackOffNegative
		}
	}
	if len(cfg.BackOff) > 0 && cfg.MaxDeliver > 0 && cfg.MaxDeliver < len(cfg.BackOff) {
		return api.ErrConsumerMaxDeliverBackoff
	}
	if cfg.MaxRequestBatch < 0 {
		return api.ErrConsumerMaxRequestBatchNegative
	}
	if cfg.MaxRequestExp != 0 && cfg.MaxRequestExp < time.Millisecond {
		return api.ErrConsumerMaxRequestExpiresTooSmall
	}
	switch cfg.DeliverPolicy {
	case api.DeliverByStartSeq:
		if cfg.OptStartSeq == 0 {
			return api.ErrConsumerInvalidPolicy.With("err", "consumer delivery policy is deliver by start sequence, but optional start sequence is not set")
		}
		if cfg.OptStartTime != nil {
			return api.ErrConsumerInvalidPolicy.With("err", "consumer delivery policy is deliver by start sequence, but optional start time is also set")
		}
	case api.DeliverByStartTime:
		if cfg.OptStartTime == nil {
			return api.ErrConsumerInvalidPolicy.With("err", "consumer delivery policy is deliver by start time, but optional start time is not set")
		}
		if cfg.OptStartSeq != 0 {
			return api.ErrConsumerInvalidPolicy.With("err", "consumer delivery policy is deliver by start time, but optional start sequence is also set")
		}
	default:
		if cfg.OptStartSeq != 0 {
			return api.ErrConsumerInvalidPolicy.With("err", "consumer delivery policy is "+cfg.DeliverPolicy.String()+", but optional start sequence is also set")
		}
		if cfg.OptStartTime != nil {
			return api.ErrConsumerInvalidPolicy.With("err", "consumer delivery policy is "+cfg.DeliverPolicy.String()+", but optional start time is also set")
		}
	}
	if cfg.SampleFrequency != "" {
		s := strings.TrimSuffix(cfg.SampleFrequency, "%")
		var n int
		if _, err := fmt.Sscanf(s, "%d", &n); err != nil || n < 0 || n > 100 {
			return api.ErrConsumerInvalidSampling.With("err", "invalid sampling value: "+cfg.SampleFrequency)
		}
	}
	if cfg.PriorityPolicy != api.PriorityNone && len(cfg.PriorityGroups) == 0 {
		return api.ErrConsumerPriorityPolicyWithoutGroup
	}
	if cfg.PriorityPolicy == api.PriorityNone {
		if len(cfg.PriorityGroups) > 0 {
			return api.ErrConsumerPriorityGroupWithPolicyNone
		}
		if cfg.PinnedTTL != 0 {
			return api.ErrConsumerPinnedTTLWithoutPriorityPolicyNone
		}
	}
	for _, g := range cfg.PriorityGroups {
		if g == "" {
			return api.ErrConsumerEmptyGroupName
		}
		if len(g) > 16 || strings.ContainsFunc(g, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_/=)+", r))
		}) {
			return api.ErrConsumerInvalidGroupName
		}
	}
	if e := se.checkConsumerLimits(cfg); e != nil {
		return e
	}
	if cfg.Replicas > max(scfg.Replicas, 1) {
		return api.ErrConsumerReplicasExceedsStream
	}
	if scfg.Retention == api.WorkQueuePolicy {
		if cfg.AckPolicy != api.AckExplicit {
			return api.ErrConsumerWQRequiresExplicitAck
		}
		if cfg.DeliverPolicy != api.DeliverAll {
			return api.ErrConsumerWQConsumerNotDeliverAll
		}
	}
	return nil
}

// checkWorkQueue refuses a consumer of a work queue stream whose filters
// overlap another consumer's.
func (se *streamEntry) checkWorkQueue(cfg *api.ConsumerConfig, name string) *api.Error {
	if se.Config().Retention != api.WorkQueuePolicy {
		return nil
	}
	mine := consumerFilters(cfg)
	var mt *filterTrie // mine, built once there is another consumer
	for _, o := range se.cons.list() {
		if o.name == name {
			continue
		}
		theirs := o.filterList()
		if len(mine) == 0 || len(theirs) == 0 {
			if len(mine) == 0 && len(theirs) == 0 {
				return api.ErrConsumerWQMultipleUnfiltered
			}
			return api.ErrConsumerWQConsumerNotUnique
		}
		if mt == nil {
			mt = &filterTrie{}
			for _, f := range mine {
				mt.add(f)
			}
		}
		for _, b := range theirs {
			if mt.overlaps(strings.Split(b, ".")) {
				return api.ErrConsumerWQConsumerNotUnique
			}
		}
	}
	return nil
}

func consumerFilters(cfg *api.ConsumerConfig) []string {
	if cfg.FilterSubject != "" {
		return []string{cfg.FilterSubject}
	}
	if len(cfg.FilterSubjects) == 1 && cfg.FilterSubjects[0] == ">" {
		return nil
	}
	return cfg.FilterSubjects
}

// subjectsOverlap reports whether some subject matches both filters.
func subjectsOverlap(a, b string) bool {
	ta, tb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; ; i++ {
		if i == len(ta) || i == len(tb) {
			return len(ta) == len(tb)
		}
		x, y := ta[i], tb[i]
		if x == ">" || y == ">" {
			return true
		}
		if x != "*" && y != "*" && x != y {
			return false
		}
	}
}

// checkUpdate refuses changes of what upstream does not let change.
func checkConsumerUpdate(old, cfg *api.ConsumerConfig) *api.Error {
	bad := func(what string) *api.Error {
		return api.ErrConsumerCreate.With("err", what+" can not be updated")
	}
	switch {
	case old.DeliverPolicy != cfg.DeliverPolicy:
		return bad("deliver policy")
	case old.OptStartSeq != cfg.OptStartSeq:
		return bad("start sequence")
	case !timeEq(old.OptStartTime, cfg.OptStartTime):
		return bad("start time")
	case old.AckPolicy != cfg.AckPolicy:
		return bad("ack policy")
	case old.ReplayPolicy != cfg.ReplayPolicy:
		return bad("replay policy")
	case old.Heartbeat != cfg.Heartbeat:
		return bad("heart beats")
	case old.FlowControl != cfg.FlowControl:
		return bad("flow control")
	case old.MemoryStorage != cfg.MemoryStorage:
		return bad("storage type")
	case old.DeliverSubject == "" && cfg.DeliverSubject != "":
		return api.ErrConsumerCreate.With("err", "can not update pull consumer to push based")
	case old.DeliverSubject != "" && cfg.DeliverSubject == "":
		return api.ErrConsumerCreate.With("err", "can not update push consumer to pull based")
	case old.MaxWaiting != cfg.MaxWaiting:
		return bad("max waiting")
	}
	// Everything else may change, priority_policy and priority_groups
	// too: upstream 2.15 takes those although ADR-42 says it should not.
	return nil
}

func timeEq(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// newConsumer creates (or recovers, with state) a consumer and starts it.
func (se *streamEntry) newConsumer(cfg api.ConsumerConfig, created time.Time, recovering bool) (*consumer, error) {
	a := se.acc
	name := cfg.Name
	c := &consumer{
		se: se, acc: a, name: name, stream: se.Name(), created: created, cfg: cfg,
		ephem: cfg.Durable == "", kick: make(chan struct{}, 1), stop: make(chan struct{}),
	}
	c.filters = consumerFilters(&cfg)
	c.ackPre = "$JS.ACK." + c.stream + "." + name + "."
	c.sample = sampleRate(cfg.SampleFrequency)
	c.advPaused = cfg.PauseUntil != nil && cfg.PauseUntil.After(created)
	c.ret = se.retention()
	c.sacc = a.js.srv.LookupAccount(a.name)
	sess, err := a.js.srv.Attach(server.SessionOptions{Kind: server.SessionJetStream, Account: a.name, Name: "JetStream consumer " + se.Name() + " > " + name, QueueLen: 8192})
	if err != nil {
		return nil, err
	}
	c.sess = sess
	c.batch = sess.NewBatch()
	if !cfg.MemoryStorage || se.storage == api.MemoryStorage {
		cs, err := se.Store().Consumer(name)
		if err != nil {
			sess.Close()
			return nil, err
		}
		c.cs = cs
	}
	var st store.ConsumerState
	if c.cs != nil && recovering {
		_ = c.cs.State(&st)
	}
	switch {
	case st.Delivered.Consumer == 0 && cfg.DeliverPolicy == api.DeliverLastPerSubject && st.Delivered.Stream > 0:
		// Nothing delivered since the start (or a reset): the last
		// messages per subject are still to come, and were not persisted.
		c.restore(&st)
		c.startLastPerSubject(st.AckFloor.Stream)
	case st.Delivered.Stream > 0 || st.Delivered.Consumer > 0:
		c.restore(&st)
	case recovering && cfg.DeliverPolicy == api.DeliverNew:
		// Nothing delivered yet (created on an empty stream, or stopped
		// before its state was written): "new" is what came after its
		// creation, not after the restart.
		c.next = stream.SeqAtTime(se.Store(), created.UnixNano(), &c.sm)
		c.dsseq, c.floor.Stream = c.next-1, c.next-1
	default:
		c.setStart()
	}
	c.active = time.Now()
	if _, err := sess.Subscribe("$JS.ACK."+se.Name()+"."+name+".>", "", c.handleAck); err != nil {
		sess.Close()
		return nil, err
	}
	if cfg.FlowControl {
		if _, err := sess.Subscribe("$JS.FC."+se.Name()+"."+name+".>", "", c.handleFC); err != nil {
			sess.Close()
			return nil, err
		}
	}
	if se.persistent() && !cfg.MemoryStorage && !recovering {
		if err := writeConsumerMeta(se.consumerDir(), name, consumerMeta{Config: cfg, Created: created}); err != nil {
			sess.Close()
			return nil, err
		}
	}
	se.cons.mu.Lock()
	if se.cons.m == nil {
		se.cons.m = make(map[string]*consumer)
	}
	se.cons.m[name] = c
	se.cons.mu.Unlock()
	c.wg.Add(1)
	go c.loop()
	return c, nil
}

// setStart positions a new consumer as its deliver policy says.
func (c *consumer) setStart() {
	st := c.se.Store()
	state := st.State()
	first := max(state.FirstSeq, 1)
	switch c.cfg.DeliverPolicy {
	case api.DeliverAll:
		c.next = first
	case api.DeliverNew:
		c.next = state.LastSeq + 1
	case api.DeliverByStartSeq:
		c.next = max(c.cfg.OptStartSeq, first)
	case api.DeliverByStartTime:
		c.next = stream.SeqAtTime(st, c.cfg.OptStartTime.UnixNano(), &c.sm)
	case api.DeliverLast:
		c.next = state.LastSeq + 1
		var best uint64
		for _, f := range c.filterOrAll() {
			if err := st.LoadLastMsg(f, &c.sm); err == nil && c.sm.Seq > best {
				best = c.sm.Seq
			}
		}
		if best > 0 {
			c.next = best
		}
	case api.DeliverLastPerSubject:
		c.startLastPerSubject(0)
		return
	}
	if c.next > 0 {
		c.dsseq = c.next - 1
		c.floor.Stream = c.next - 1
	}
}

// startLastPerSubject positions a last_per_subject consumer: the last
// message of every matching subject above stream sequence after is
// delivered first (c.lps), then what arrives; the floor sits below the
// first of them, as upstream's.
func (c *consumer) startLastPerSubject(after uint64) {
	st := c.se.Store()
	c.next = st.State().LastSeq + 1
	c.lps = c.lps[:0]
	seen := map[uint64]bool{}
	for _, f := range c.filterOrAll() {
		tot, _ := st.SubjectsTotals(f)
		for subj := range tot {
			if err := st.LoadLastMsg(subj, &c.sm); err == nil && c.sm.Seq > after && !seen[c.sm.Seq] {
				seen[c.sm.Seq] = true
				c.lps = append(c.lps, c.sm.Seq)
			}
		}
	}
	slices.Sort(c.lps)
	c.dsseq = c.next - 1
	if len(c.lps) > 0 {
		c.dsseq = c.lps[0] - 1
	}
	c.floor.Stream = c.dsseq
}

func (c *consumer) filterOrAll() []string {
	if len(c.filters) == 0 {
		return []string{">"}
	}
	return c.filters
}

func (c *consumer) filterList() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.filters
}

// matches reports whether the consumer wants messages on subject.
func (c *consumer) matches(subject string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.matchesLocked(subject)
}

func (c *consumer) matchesLocked(subject string) bool {
	if len(c.filters) == 0 {
		return true
	}
	for _, f := range c.filters {
		if sublist.SubjectMatchesFilter(subject, f) {
			return true
		}
	}
	return false
}

// restore loads recovered state. st.Pending and st.Redelivered are
// sorted by stream sequence (store.ConsumerState.Check), so one merge walk
// rebuilds c.pending in order.
func (c *consumer) restore(st *store.ConsumerState) {
	c.dseq, c.dsseq = st.Delivered.Consumer, st.Delivered.Stream
	c.floor = st.AckFloor
	c.next = c.dsseq + 1
	c.pending = make([]pend, 0, len(st.Pending))
	red := st.Redelivered
	for _, p := range st.Pending {
		for len(red) > 0 && red[0].Stream < p.Stream {
			red = red[1:]
		}
		dc := uint32(1)
		if len(red) > 0 && red[0].Stream == p.Stream {
			dc = uint32(min(red[0].Count, 1<<31)) + 1
			c.nredel++
		}
		c.pending = append(c.pending, pend{sseq: p.Stream, cseq: p.Consumer, ts: p.Timestamp, dc: dc})
	}
	c.npend = len(c.pending)
	if c.npend > 0 {
		c.scanAt = 1 // scan at once: some may be due
	}
}

// stateLocked builds the persisted state in c.st, reusing its slices
// (24 bytes per pending ack, the only per-message cost of a state write
// besides the store's own copy); c.flushMu and c.mu are held.
func (c *consumer) stateLocked() *store.ConsumerState {
	st := &c.st
	st.Delivered = store.SequencePair{Consumer: c.dseq, Stream: c.dsseq}
	st.AckFloor = c.floor
	// Exact sizes (with a little room), not append's growth; and the
	// memory back once a backlog drained.
	if cap(st.Pending) < c.npend || cap(st.Pending) > 2*c.npend+64 {
		st.Pending = make([]store.Pending, 0, c.npend+c.npend/16)
	}
	if cap(st.Redelivered) < c.nredel || cap(st.Redelivered) > 2*c.nredel+64 {
		st.Redelivered = make([]store.Redelivered, 0, c.nredel+c.nredel/16)
	}
	st.Pending, st.Redelivered = st.Pending[:0], st.Redelivered[:0]
	if c.npend > 0 {
		for _, p := range c.pending[c.head:] {
			if p.done {
				continue
			}
			st.Pending = append(st.Pending, store.Pending{Stream: p.sseq, Consumer: p.cseq, Timestamp: p.ts})
			if p.dc > 1 {
				st.Redelivered = append(st.Redelivered, store.Redelivered{Stream: p.sseq, Count: uint64(p.dc - 1)})
			}
		}
	}
	return st
}

// flush writes the state if it changed (or always, with force).
func (c *consumer) flush(force bool) error {
	if c.cs == nil {
		return nil
	}
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	c.mu.Lock()
	if !c.dirty && !force {
		c.mu.Unlock()
		return nil
	}
	st := c.stateLocked()
	c.dirty = false
	c.mu.Unlock()
	return c.cs.SetState(st)
}

// writeConsumerMeta writes a consumer's meta file atomically.
func writeConsumerMeta(dir, name string, m consumerMeta) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	tmp := filepath.Join(dir, name+".json.tmp")
	if err := os.WriteFile(tmp, b, 0o640); err != nil {
		return err
	}
	f, err := os.Open(tmp)
	if err == nil {
		err = f.Sync()
		f.Close()
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name+".json")); err != nil {
		return err
	}
	return syncDir(dir)
}

// recoverConsumers reopens the consumers of a recovered stream.
func (se *streamEntry) recoverConsumers() {
	dir := se.consumerDir()
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		n, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		var m consumerMeta
		if err == nil {
			err = json.Unmarshal(b, &m)
		}
		if err == nil {
			_, err = se.newConsumer(m.Config, m.Created, true)
		}
		if err != nil {
			se.acc.js.log.Warn(fmt.Sprintf("  Error recovering consumer %q of stream %q in account %q: %v", n, se.Name(), se.acc.name, err))
		}
	}
}

// stopConsumers stops every consumer of a stream that stops.
func (se *streamEntry) stopConsumers(del bool) {
	se.cons.mu.Lock()
	l := make([]*consumer, 0, len(se.cons.m))
	for _, c := range se.cons.m {
		l = append(l, c)
	}
	se.cons.m = nil
	se.cons.mu.Unlock()
	for _, c := range l {
		c.stopNow(del, false)
	}
}

// remove deletes the consumer: state, meta and its place in the stream.
func (c *consumer) remove() {
	se := c.se
	se.cons.mu.Lock()
	if se.cons.m[c.name] == c {
		delete(se.cons.m, c.name)
	}
	se.cons.mu.Unlock()
	c.stopNow(true, true)
	c.acc.consumerAdvisory(c.stream, c.name, "delete")
	se.interestChanged()
}

// stopNow stops the consumer's loop and session; del removes its state.
func (c *consumer) stopNow(del, notify bool) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	waiting := c.waiting
	c.waiting = nil
	c.mu.Unlock()
	close(c.stop)
	c.wg.Wait()
	if notify {
		for _, r := range waiting {
			c.status(r.reply, "409 Consumer Deleted", nil)
		}
	}
	c.sess.Close()
	if del || c.cfg.MemoryStorage {
		if c.cs != nil {
			_ = c.cs.Delete()
		}
		if del {
			_ = os.Remove(filepath.Join(c.se.consumerDir(), c.name+".json"))
		}
		return
	}
	if err := c.flush(true); err != nil && !errors.Is(err, store.ErrStoreClosed) {
		c.acc.js.log.Warn(fmt.Sprintf("consumer %q: writing state: %v", c.name, err))
	}
}

// consumerAdvisory publishes a consumer action advisory.
func (a *account) consumerAdvisory(stream, name, action string) {
	ev := struct {
		Type     string    `json:"type"`
		ID       string    `json:"id"`
		Time     time.Time `json:"timestamp"`
		Stream   string    `json:"stream"`
		Consumer string    `json:"consumer"`
		Action   string    `json:"action"`
		Domain   string    `json:"domain,omitempty"`
	}{"io.nats.jetstream.advisory.v1.consumer_action", newID(), time.Now().UTC(), stream, name, action, a.js.opts.Domain}
	subj := map[string]string{"create": "CREATED", "delete": "DELETED"}[action]
	a.advise(advisoryPrefix+"CONSUMER."+subj+"."+stream+"."+name, ev)
}

// apiInfo is the consumer's information as the API answers it: with the
// ADR-44 metadata (the server's version and level when hosting, as the
// create, update, info and reset answers have them; the lists do not).
func (c *consumer) apiInfo(hosting bool) *api.ConsumerInfo {
	return withConsumerMeta(c.info(true), hosting, c.unnamed.Load())
}

// info renders the consumer's information.
func (c *consumer) info(withConfig bool) *api.ConsumerInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now().UTC()
	ci := &api.ConsumerInfo{
		Stream: c.stream, Name: c.name, Created: c.created,
		Delivered:      api.SequenceInfo{Consumer: c.dseq, Stream: c.dsseq},
		AckFloor:       api.SequenceInfo{Consumer: c.floor.Consumer, Stream: c.floor.Stream},
		NumAckPending:  c.npend,
		NumRedelivered: c.nredel,
		NumWaiting:     len(c.waiting),
		NumPending:     c.numPendingLocked(),
		// No cluster: upstream's single server gives none for consumers
		// (it does for streams).
		TimeStamp:      now,
		PriorityGroups: c.priorityInfoLocked(),
	}
	if withConfig {
		cfg := c.cfg
		ci.Config = &cfg
	}
	if c.cfg.DeliverSubject != "" {
		ci.PushBound = c.sacc != nil && c.sacc.HasInterest(c.cfg.DeliverSubject)
	}
	if p := c.cfg.PauseUntil; p != nil && p.After(now) {
		ci.Paused = true
		ci.PauseRemaining = p.Sub(now)
	}
	if !c.last.IsZero() {
		t := c.last.UTC()
		ci.Delivered.Last = &t
	}
	if !c.lastAck.IsZero() {
		t := c.lastAck.UTC()
		ci.AckFloor.Last = &t
	}
	return ci
}

// replyPendingLocked is num_pending for an ack reply, kept up to date
// incrementally instead of counted per message.
func (c *consumer) replyPendingLocked() uint64 {
	// Within a delivery batch the stream's last sequence is read once,
	// and again only for a message past it (one that arrived since).
	last := c.lastSeq
	if last == 0 || c.dsseq > last {
		last = c.se.State().LastSeq
		if c.inBatch {
			c.lastSeq = last
		}
	}
	if !c.npValid {
		c.np, c.npLast, c.npValid = c.numPendingLocked(), last, true
		return c.np
	}
	if last > c.npLast {
		from := max(c.npLast+1, c.next)
		c.np += c.countFromLocked(from)
		c.npLast = last
	}
	return c.np
}

func (c *consumer) countFromLocked(from uint64) uint64 {
	st := c.se.Store()
	var n uint64
	for _, f := range c.filterOrAll() {
		if f == ">" {
			f = ""
		}
		if fs, err := st.FilteredState(f, from); err == nil {
			n += fs.Msgs
		}
	}
	return n
}

// numPendingLocked counts the matching messages not yet delivered.
func (c *consumer) numPendingLocked() uint64 {
	st := c.se.Store()
	var n uint64
	if len(c.filters) == 0 {
		fs, err := st.FilteredState("", c.next)
		if err == nil {
			n = fs.Msgs
		}
	} else {
		for _, f := range c.filters {
			if fs, err := st.FilteredState(f, c.next); err == nil {
				n += fs.Msgs
			}
		}
	}
	for _, s := range c.lps {
		if s < c.next {
			n++
		}
	}
	return n
}

// MonitorInfo implements monitoredConsumer.
func (c *consumer) MonitorInfo(config bool) any { return c.info(config) }

// Name implements monitoredConsumer.
func (c *consumer) Name() string { return c.name }

// Healthy implements monitoredConsumer.
func (c *consumer) Healthy() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errors.New("consumer is closed")
	}
	return nil
}

func init() {
	streamConsumers = func(se *streamEntry) []monitoredConsumer {
		l := se.cons.list()
		out := make([]monitoredConsumer, len(l))
		for i, c := range l {
			out[i] = c
		}
		return out
	}
}

// interest reports whether a consumer of the stream wants the message of
// seq on subject (interest retention).
func (se *streamEntry) interest(seq uint64, subject string) bool {
	for _, c := range se.cons.list() {
		if c.matches(subject) {
			return true
		}
	}
	return false
}

// interestChanged is called when a consumer went away: on an interest
// stream, the messages no remaining consumer still wants (only the
// removed one had not acked them) are removed.
func (se *streamEntry) interestChanged() {
	if se.retention() != api.InterestPolicy {
		return
	}
	cons := se.cons.list()
	st := se.Store()
	var sm store.StoredMsg
	var drop []uint64
	for seq := uint64(0); ; seq = sm.Seq + 1 {
		if err := st.LoadNextMsg("", seq, &sm); err != nil {
			break
		}
		wanted := false
		for _, c := range cons {
			if c.matches(sm.Subject) && !c.hasAcked(sm.Seq) {
				wanted = true
				break
			}
		}
		if !wanted {
			drop = append(drop, sm.Seq)
		}
	}
	for _, s := range drop {
		se.Propose(&stream.Op{Kind: stream.OpDelete, Seq: s, NoErase: true})
	}
}
