package jetstream

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"natsd.dev/jetstream/api"
)

func init() {
	extraRoutes = append(extraRoutes,
		route{prefix: "CONSUMER.CREATE.", rtype: api.TypeConsumerCreateResponse, fn: (*apiCall).consumerCreate},
		route{prefix: "CONSUMER.DURABLE.CREATE.", rtype: api.TypeConsumerCreateResponse, fn: (*apiCall).durableCreate},
		route{prefix: "CONSUMER.INFO.", rtype: api.TypeConsumerInfoResponse, fn: (*apiCall).consumerInfo},
		route{prefix: "CONSUMER.DELETE.", rtype: api.TypeConsumerDeleteResponse, fn: (*apiCall).consumerDelete},
		route{prefix: "CONSUMER.NAMES.", arg: true, rtype: api.TypeConsumerNamesResponse, fn: (*apiCall).consumerNames},
		route{prefix: "CONSUMER.LIST.", arg: true, rtype: api.TypeConsumerListResponse, fn: (*apiCall).consumerList},
		route{prefix: "CONSUMER.PAUSE.", rtype: api.TypeConsumerPauseResponse, fn: (*apiCall).consumerPause},
		route{prefix: "CONSUMER.UNPIN.", rtype: api.TypeConsumerUnpinResponse, fn: (*apiCall).consumerUnpin},
		route{prefix: "CONSUMER.RESET.", rtype: api.TypeConsumerResetResponse, fn: (*apiCall).consumerReset},
	)
	rawRoutes = append(rawRoutes, rawRoute{prefix: "CONSUMER.MSG.NEXT.", fn: (*apiCall).consumerNext})
}

// consumerNext hands a pull request to its consumer; nothing answers a
// request for a consumer that does not exist.
func (c *apiCall) consumerNext(rest string) {
	sn, cn, ok := strings.Cut(rest, ".")
	if !ok || !c.acc.enabled {
		return
	}
	c.acc.mu.Lock()
	se := c.acc.streams[sn]
	c.acc.mu.Unlock()
	if se == nil {
		return
	}
	if cons := se.cons.get(cn); cons != nil {
		cons.handleNext(c.reply, c.data)
	}
}

// streamAndConsumer splits "<stream>.<consumer>".
func (c *apiCall) streamAndConsumer(rt, rest string) (*streamEntry, *consumer, bool) {
	sn, cn, ok := strings.Cut(rest, ".")
	if !ok || sn == "" || cn == "" || strings.Contains(cn, ".") {
		c.fail(rt, api.ErrBadRequest)
		return nil, nil, false
	}
	se := c.lookup(rt, sn)
	if se == nil {
		return nil, nil, false
	}
	cons := se.cons.get(cn)
	if cons == nil {
		c.fail(rt, api.ErrConsumerNotFound)
		return nil, nil, false
	}
	return se, cons, true
}

func (c *apiCall) durableCreate(rest string) {
	sn, dn, ok := strings.Cut(rest, ".")
	if !ok || dn == "" || strings.Contains(dn, ".") {
		c.fail(api.TypeConsumerCreateResponse, api.ErrBadRequest)
		return
	}
	c.createConsumer(sn, dn, "", true)
}

func (c *apiCall) consumerCreate(rest string) {
	sn, tail, _ := strings.Cut(rest, ".")
	name, filter, _ := strings.Cut(tail, ".")
	c.createConsumer(sn, name, filter, false)
}

func (c *apiCall) createConsumer(sn, name, filter string, durableAPI bool) {
	const rt = api.TypeConsumerCreateResponse
	var req api.CreateConsumerRequest
	if e := c.decode(&req); e != nil {
		c.fail(rt, e)
		return
	}
	// As upstream: the request must name the stream of the subject (an
	// empty body does not), and no config is the zero config.
	if req.Stream != sn {
		c.fail(rt, api.ErrStreamMismatch)
		return
	}
	var cfg api.ConsumerConfig
	if req.Config != nil {
		cfg = *req.Config
	}
	if durableAPI {
		if cfg.Durable == "" {
			c.fail(rt, api.ErrConsumerDurableNameNotSet)
			return
		}
		if cfg.Durable != name {
			c.fail(rt, api.ErrConsumerDurableNameNotMatchSubject)
			return
		}
	}
	if cfg.Durable != "" && cfg.Name != "" && cfg.Durable != cfg.Name {
		c.fail(rt, api.ErrConsumerCreateDurableAndNameMismatch)
		return
	}
	if name != "" && !durableAPI {
		if n := cfg.Name; n == "" && cfg.Durable != "" && cfg.Durable != name || n != "" && n != name {
			c.fail(rt, api.ErrConsumerDurableNameNotMatchSubject)
			return
		}
		if cfg.Name == "" {
			cfg.Name = name
		}
	}
	if name == "" && cfg.Durable != "" && !durableAPI {
		c.fail(rt, api.ErrConsumerEphemeralWithDurableName)
		return
	}
	if filter != "" {
		if len(cfg.FilterSubjects) > 0 {
			c.fail(rt, api.ErrConsumerMultipleFiltersNotAllowed)
			return
		}
		// As upstream 2.15.2: the configuration must name the same
		// filter (an empty one does not).
		if cfg.FilterSubject != filter {
			c.fail(rt, api.ErrConsumerCreateFilterSubjectMismatch)
			return
		}
	}
	if len(cfg.Name) > 255 {
		c.fail(rt, api.ErrConsumerNameTooLong.With("max", "255"))
		return
	}
	ephemeral := cfg.Durable == ""
	unnamed := cfg.Name == "" && ephemeral
	cfg.Metadata = stripVersionMeta(cfg.Metadata)
	if cfg.Name == "" {
		// A durable is named after itself (CONSUMER.DURABLE.CREATE sets
		// no name): a second create finds it instead of making a twin.
		cfg.Name = cfg.Durable
	}
	if cfg.Name == "" {
		cfg.Name = randomName()
	}
	userMAP := cfg.MaxAckPending
	setConsumerDefaults(&cfg, ephemeral)
	se := c.lookup(rt, sn)
	if se == nil {
		return
	}
	se.applyLimitDefaults(&cfg, userMAP)
	if e := se.checkConsumerConfig(&cfg); e != nil {
		c.fail(rt, e)
		return
	}
	a := c.acc
	a.mu.Lock() // serializes creates and deletes
	defer a.mu.Unlock()
	if old := se.cons.get(cfg.Name); old != nil {
		if req.Action == api.ActionCreate {
			oc := old.config()
			if !sameConsumerConfig(&oc, &cfg) {
				c.fail(rt, api.ErrConsumerAlreadyExists)
				return
			}
		}
		if e := old.update(&cfg); e != nil {
			c.fail(rt, e)
			return
		}
		c.respond(api.ConsumerResponse{Response: api.Response{Type: rt}, ConsumerInfo: old.apiInfo(true)})
		return
	}
	if req.Action == api.ActionUpdate {
		c.fail(rt, api.ErrConsumerDoesNotExist)
		return
	}
	if e := se.checkWorkQueue(&cfg, cfg.Name); e != nil {
		c.fail(rt, e)
		return
	}
	if lim := a.lim().MaxConsumers; lim > 0 && len(se.cons.list()) >= lim {
		c.fail(rt, api.ErrMaximumConsumersLimit)
		return
	}
	if m := se.Config().MaxConsumers; m > 0 && len(se.cons.list()) >= m {
		c.fail(rt, api.ErrMaximumConsumersLimit)
		return
	}
	cons, err := se.newConsumer(cfg, time.Now().UTC(), false)
	if err != nil {
		c.fail(rt, api.ErrConsumerCreate.WithErr(err))
		return
	}
	cons.unnamed.Store(unnamed)
	a.consumerAdvisory(sn, cfg.Name, "create")
	c.respond(api.ConsumerResponse{Response: api.Response{Type: rt}, ConsumerInfo: cons.apiInfo(true)})
}

func (c *consumer) config() api.ConsumerConfig {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cfg
}

// sameConfig compares two normalized configurations.
func sameConsumerConfig(a, b *api.ConsumerConfig) bool {
	x, y := *a, *b
	if !timeEq(x.OptStartTime, y.OptStartTime) || !timeEq(x.PauseUntil, y.PauseUntil) {
		return false
	}
	x.OptStartTime, y.OptStartTime, x.PauseUntil, y.PauseUntil = nil, nil, nil, nil
	return jsonEq(x, y)
}

// update applies a new configuration to a running consumer.
func (c *consumer) update(cfg *api.ConsumerConfig) *api.Error {
	c.mu.Lock()
	old := c.cfg
	if sameConsumerConfig(&old, cfg) {
		c.mu.Unlock()
		return nil
	}
	if e := checkConsumerUpdate(&old, cfg); e != nil {
		c.mu.Unlock()
		return e
	}
	if old.PriorityPolicy != cfg.PriorityPolicy || !slices.Equal(old.PriorityGroups, cfg.PriorityGroups) {
		// Pins belong to the policy and groups they were made under.
		c.pins = nil
	}
	c.cfg = *cfg
	c.filters = consumerFilters(cfg)
	c.sample = sampleRate(cfg.SampleFrequency)
	c.npValid = false
	c.mu.Unlock()
	if c.se.persistent() && !cfg.MemoryStorage {
		if err := writeConsumerMeta(c.se.consumerDir(), c.name, consumerMeta{Config: *cfg, Created: c.created}); err != nil {
			return api.ErrConsumerCreate.WithErr(err)
		}
	}
	c.signal()
	return nil
}

const nameChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// randomName is an ephemeral consumer's name: 8 random characters.
func randomName() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = nameChars[int(b[i])%len(nameChars)]
	}
	return string(b[:])
}

func (c *apiCall) consumerInfo(rest string) {
	const rt = api.TypeConsumerInfoResponse
	_, cons, ok := c.streamAndConsumer(rt, rest)
	if !ok {
		return
	}
	c.respond(api.ConsumerResponse{Response: api.Response{Type: rt}, ConsumerInfo: cons.apiInfo(true)})
}

func (c *apiCall) consumerDelete(rest string) {
	const rt = api.TypeConsumerDeleteResponse
	_, cons, ok := c.streamAndConsumer(rt, rest)
	if !ok {
		return
	}
	cons.remove()
	c.respond(api.SuccessResponse{Response: api.Response{Type: rt}, Success: true})
}

func (c *apiCall) consumerNames(sn string) {
	const rt = api.TypeConsumerNamesResponse
	var req api.ConsumerNamesRequest
	if e := c.decode(&req); e != nil {
		c.fail(rt, e)
		return
	}
	se := c.lookup(rt, sn)
	if se == nil {
		return
	}
	all := se.cons.list()
	off := min(max(req.Offset, 0), len(all))
	end := min(off+namesPageSize, len(all))
	names := make([]string, 0, end-off)
	for _, x := range all[off:end] {
		names = append(names, x.name)
	}
	c.respond(api.ConsumerNamesResponse{Response: api.Response{Type: rt}, Paged: api.Paged{Total: len(all), Offset: off, Limit: namesPageSize}, Consumers: names})
}

func (c *apiCall) consumerList(sn string) {
	const rt = api.TypeConsumerListResponse
	var req api.ConsumerNamesRequest
	if e := c.decode(&req); e != nil {
		c.fail(rt, e)
		return
	}
	se := c.lookup(rt, sn)
	if se == nil {
		return
	}
	all := se.cons.list()
	off := min(max(req.Offset, 0), len(all))
	end := min(off+listPageSize, len(all))
	infos := make([]*api.ConsumerInfo, 0, end-off)
	for _, x := range all[off:end] {
		infos = append(infos, x.apiInfo(false))
	}
	c.respond(api.ConsumerListResponse{Response: api.Response{Type: rt}, Paged: api.Paged{Total: len(all), Offset: off, Limit: listPageSize}, Consumers: infos})
}

func (c *apiCall) consumerPause(rest string) {
	const rt = api.TypeConsumerPauseResponse
	var req api.ConsumerPauseRequest
	if e := c.decode(&req); e != nil {
		c.failPause(e)
		return
	}
	sn, cn, ok := strings.Cut(rest, ".")
	if !ok || sn == "" || cn == "" || strings.Contains(cn, ".") {
		c.failPause(api.ErrBadRequest)
		return
	}
	c.acc.mu.Lock()
	se := c.acc.streams[sn]
	c.acc.mu.Unlock()
	if se == nil {
		c.failPause(api.ErrStreamNotFound)
		return
	}
	cons := se.cons.get(cn)
	if cons == nil {
		c.failPause(api.ErrConsumerNotFound)
		return
	}
	cfg := cons.config()
	if req.PauseUntil.IsZero() {
		cfg.PauseUntil = nil
	} else {
		t := req.PauseUntil.UTC()
		cfg.PauseUntil = &t
	}
	if e := cons.update(&cfg); e != nil {
		c.failPause(e)
		return
	}
	resp := api.ConsumerPauseResponse{Response: api.Response{Type: rt}, PauseUntil: req.PauseUntil.UTC()}
	if d := time.Until(req.PauseUntil); !req.PauseUntil.IsZero() && d > 0 {
		resp.Paused, resp.PauseRemaining = true, d
	}
	c.respond(resp)
}

func jsonEq(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// consumerUnpin frees a priority group's pinned client.
func (c *apiCall) consumerUnpin(rest string) {
	const rt = api.TypeConsumerUnpinResponse
	// Decoded as upstream does here: plainly (an empty body is invalid
	// JSON, unknown fields pass), and the group is part of the JSON.
	var req api.ConsumerUnpinRequest
	if err := json.Unmarshal(c.data, &req); err != nil {
		c.fail(rt, api.ErrInvalidJSON.WithErr(err))
		return
	}
	if req.Group == "" {
		c.fail(rt, api.ErrInvalidJSON.With("err", "consumer group not specified"))
		return
	}
	_, cons, ok := c.streamAndConsumer(rt, rest)
	if !ok {
		return
	}
	cons.mu.Lock()
	known := contains(cons.cfg.PriorityGroups, req.Group)
	if known {
		cons.unpinLocked(req.Group, "admin")
	}
	cons.mu.Unlock()
	if !known {
		c.fail(rt, api.ErrConsumerInvalidPriorityGroup)
		return
	}
	cons.publishEvents()
	cons.signal()
	c.respond(api.Response{Type: rt})
}

// consumerReset moves a consumer back (or forward) to a stream sequence,
// forgetting what it delivered and what waited for acks. As upstream
// 2.15.2 (checked against its binary): a subject without exactly a stream
// and a consumer token, a stream or a consumer that does not exist get no
// answer at all, and an error answer carries reset_seq (0).
func (c *apiCall) consumerReset(rest string) {
	const rt = api.TypeConsumerResetResponse
	sn, cn, ok := strings.Cut(rest, ".")
	if !ok || sn == "" || cn == "" || strings.Contains(cn, ".") {
		return
	}
	c.acc.mu.Lock()
	se := c.acc.streams[sn]
	c.acc.mu.Unlock()
	if se == nil {
		return
	}
	cons := se.cons.get(cn)
	if cons == nil {
		return
	}
	fail := func(e *api.Error) {
		c.acc.js.apiErrors.Add(1)
		c.acc.apiErrors.Add(1)
		c.respond(api.ConsumerResetResponse{Response: api.Response{Type: rt, Error: e}})
	}
	// Decoded plainly, as upstream does here: unknown fields pass.
	var req api.ConsumerResetRequest
	if len(bytes.TrimSpace(c.data)) > 0 {
		if err := json.Unmarshal(c.data, &req); err != nil {
			fail(api.ErrInvalidJSON.WithErr(err))
			return
		}
	}
	seq, e := cons.reset(req.Seq)
	if e != nil {
		fail(e)
		return
	}
	c.respond(api.ConsumerResetResponse{Response: api.Response{Type: rt}, ConsumerInfo: cons.apiInfo(true), ResetSeq: seq})
}

// failPause answers a failed CONSUMER.PAUSE: upstream's error carries the
// response's paused and pause_until fields too.
func (c *apiCall) failPause(e *api.Error) {
	c.acc.js.apiErrors.Add(1)
	c.acc.apiErrors.Add(1)
	c.respond(api.ConsumerPauseResponse{Response: api.Response{Type: api.TypeConsumerPauseResponse, Error: e}})
}
