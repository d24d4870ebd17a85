package server

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"natsd.dev/server/snapshot"
)

// The monitoring registry: its contract is the Monitoring section of the
// package documentation (doc.go).

// kindAccStatzAlias is STATZ's name in $SYS.REQ.SERVER.<id>.ACCSTATZ.
const kindAccStatzAlias = "ACCSTATZ"

// ErrWrongType is returned by a ProviderFunc provider handed options of
// another type than its own, and by the typed snapshot methods (Routez)
// when the registered provider answers with another document type.
var ErrWrongType = errors.New("server: monitoring options or document of the wrong type")

// Provider answers one kind of monitoring request, over HTTP (the monitor
// module) and over $SYS alike; see the Monitoring section of the package
// documentation for the contract. Both methods are called concurrently.
type Provider interface {
	// NewOptions returns a new, zero options value of the kind (a pointer
	// to the kind's options type, e.g. new(snapshot.LeafzOptions)), into
	// which the body of a $SYS request is decoded.
	NewOptions() any
	// Snapshot returns the kind's document for opts, a value of the type
	// NewOptions returns (possibly filled in). It must neither change opts
	// nor keep it after returning: callers reuse and share options. The
	// caller owns the document.
	Snapshot(opts any) (any, error)
}

// ProviderFunc returns a Provider answering with fn; its options are *O.
// A nil *O is treated as a zero O.
func ProviderFunc[O, D any](fn func(opts *O) (D, error)) Provider {
	return providerFunc[O, D](fn)
}

type providerFunc[O, D any] func(*O) (D, error)

func (f providerFunc[O, D]) NewOptions() any { return new(O) }

func (f providerFunc[O, D]) Snapshot(opts any) (any, error) {
	o, ok := opts.(*O)
	if !ok && opts != nil {
		return nil, ErrWrongType
	}
	if o == nil {
		o = new(O)
	}
	d, err := f(o)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// VarzContributor fills its section of every Varz snapshot.
type VarzContributor interface {
	// ContributeVarz sets the contributor's fields of v. It must not
	// keep v, and must not ask the server for a Varz snapshot.
	ContributeVarz(v *snapshot.Varz)
}

// VarzFunc adapts a function to a VarzContributor.
type VarzFunc func(v *snapshot.Varz)

// ContributeVarz calls f(v).
func (f VarzFunc) ContributeVarz(v *snapshot.Varz) { f(v) }

// HealthChecker is an optional capability of a registered Provider (the
// JSZ one, typically), found by type assertion: HEALTHZ asks every
// registered provider that has it, in the order of their kinds, once the
// core is healthy, and answers 503 "unavailable" with the text of the
// first error; a *snapshot.HealthError sets another status code (404 for
// an account or stream the options name that does not exist) and the
// problems a detailed answer lists.
type HealthChecker interface {
	CheckHealth(opts *snapshot.HealthzOptions) error
}

// registry is the server's monitoring registry; see the contract above.
type registry struct {
	mu       sync.Mutex // serializes writers; readers load cur
	cur      atomic.Pointer[registryState]
	defaults map[string]Provider // set once by initRegistry, read-only after
}

// registryState is an immutable version of the registrations.
type registryState struct {
	providers map[string]Provider
	checkers  []HealthChecker // the providers that implement it, by kind
	varz      []varzEntry     // by section
}

type varzEntry struct {
	section string
	c       VarzContributor
}

// canonicalKind returns kind's registry key; it allocates only when kind
// is not upper case already.
func canonicalKind(kind string) string {
	kind = strings.ToUpper(kind)
	if kind == kindAccStatzAlias {
		return KindAccStatz
	}
	return kind
}

// initRegistry installs the server's providers; New calls it once.
func (s *Server) initRegistry() {
	r := &s.mon().reg
	r.defaults = map[string]Provider{
		KindVarz:     ProviderFunc(s.Varz),
		KindConnz:    ProviderFunc(s.Connz),
		KindSubsz:    ProviderFunc(s.Subsz),
		KindAccountz: ProviderFunc(s.Accountz),
		KindAccStatz: ProviderFunc(s.AccountStatz),
		KindHealthz: ProviderFunc(func(o *snapshot.HealthzOptions) (*snapshot.HealthStatus, error) {
			return s.Healthz(o), nil
		}),
		KindRoutez: ProviderFunc(func(*snapshot.RoutezOptions) (*snapshot.Routez, error) {
			return &snapshot.Routez{ID: s.id, Name: s.Name(), Now: time.Now().UTC(), Routes: []*snapshot.RouteInfo{}}, nil
		}),
		KindGatewayz: ProviderFunc(func(*snapshot.GatewayzOptions) (*snapshot.Gatewayz, error) {
			return &snapshot.Gatewayz{
				ID:               s.id,
				Now:              time.Now().UTC(),
				OutboundGateways: map[string]*snapshot.RemoteGatewayz{},
				InboundGateways:  map[string][]*snapshot.RemoteGatewayz{},
			}, nil
		}),
		KindLeafz: ProviderFunc(func(*snapshot.LeafzOptions) (*snapshot.Leafz, error) {
			return &snapshot.Leafz{ID: s.id, Now: time.Now().UTC(), Leafs: []*snapshot.LeafInfo{}}, nil
		}),
		KindJsz: ProviderFunc(func(*snapshot.JszOptions) (*snapshot.JSInfo, error) {
			return &snapshot.JSInfo{ID: s.id, Now: time.Now().UTC(), Disabled: true}, nil
		}),
	}
	r.cur.Store(&registryState{})
}

// RegisterProvider registers p as the answer to kind (case-insensitive,
// e.g. KindLeafz), replacing any provider registered before; nil removes
// the registration, and the kind answers with the server's default again.
// It panics if kind is empty or is not a single subject token, as
// net/http does for a bad pattern: kinds are constants.
func (s *Server) RegisterProvider(kind string, p Provider) {
	if kind == "" || strings.ContainsAny(kind, ".*> \t\r\n") {
		panic("server: bad monitoring kind " + `"` + kind + `"`)
	}
	kind = canonicalKind(kind)
	s.mon().reg.update(func(st *registryState) {
		if p == nil {
			delete(st.providers, kind)
		} else {
			st.providers[kind] = p
		}
		st.checkers = st.checkers[:0]
		kinds := make([]string, 0, len(st.providers))
		for k := range st.providers {
			kinds = append(kinds, k)
		}
		slices.Sort(kinds)
		for _, k := range kinds {
			if hc, ok := st.providers[k].(HealthChecker); ok {
				st.checkers = append(st.checkers, hc)
			}
		}
	})
}

// RegisterVarz registers c to fill its section of every Varz snapshot,
// replacing any contributor registered under section before; nil removes
// it.
func (s *Server) RegisterVarz(section string, c VarzContributor) {
	s.mon().reg.update(func(st *registryState) {
		st.varz = slices.DeleteFunc(st.varz, func(e varzEntry) bool { return e.section == section })
		if c != nil {
			i, _ := slices.BinarySearchFunc(st.varz, section, func(e varzEntry, sec string) int { return strings.Compare(e.section, sec) })
			st.varz = slices.Insert(st.varz, i, varzEntry{section, c})
		}
	})
}

// Provider returns the provider that answers kind: the registered one, or
// the server's default; nil for a kind nobody answers.
func (s *Server) Provider(kind string) Provider {
	r := &s.mon().reg
	kind = canonicalKind(kind)
	if p := r.cur.Load().providers[kind]; p != nil {
		return p
	}
	return r.defaults[kind]
}

// Snapshot returns the document of kind for opts (nil: the kind's zero
// options), from Provider(kind): what /<kind> renders and what the $SYS
// request of that kind carries as data. It returns ErrUnknownKind for a
// kind nobody answers and the provider's errors (a *snapshot.MonitorError
// for a bad request).
func (s *Server) Snapshot(kind string, opts any) (any, error) {
	p := s.Provider(kind)
	if p == nil {
		return nil, ErrUnknownKind
	}
	if opts == nil {
		opts = p.NewOptions()
	}
	return p.Snapshot(opts)
}

// update applies fn to a copy of the current state and publishes it.
func (r *registry) update(fn func(st *registryState)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.cur.Load()
	st := &registryState{
		providers: make(map[string]Provider, len(old.providers)+1),
		checkers:  slices.Clone(old.checkers),
		varz:      slices.Clone(old.varz),
	}
	for k, p := range old.providers {
		st.providers[k] = p
	}
	fn(st)
	r.cur.Store(st)
}

// contributeVarz runs the registered varz contributors on v.
func (s *Server) contributeVarz(v *snapshot.Varz) {
	for _, e := range s.mon().reg.cur.Load().varz {
		e.c.ContributeVarz(v)
	}
}

// checkHealth asks the registered HealthCheckers; nil when all are fine.
func (s *Server) checkHealth(o *snapshot.HealthzOptions) error {
	for _, hc := range s.mon().reg.cur.Load().checkers {
		if err := hc.CheckHealth(o); err != nil {
			return err
		}
	}
	return nil
}
