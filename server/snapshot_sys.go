package server

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"natsd.dev/server/snapshot"
)

// Monitoring over NATS.
//
// Upstream answers $SYS.REQ.SERVER.<id>.<KIND> and $SYS.REQ.SERVER.PING.<KIND>
// with the same snapshots as its HTTP endpoints, wrapped in an envelope
// that names the server. MonitorRequest builds those answers; the system
// account's responder only has to subscribe and publish them.

// Monitoring request kinds: the last token of the $SYS request subjects,
// and the keys of the monitoring registry (RegisterProvider).
const (
	KindVarz     = "VARZ"
	KindConnz    = "CONNZ"
	KindSubsz    = "SUBSZ"
	KindRoutez   = "ROUTEZ"
	KindGatewayz = "GATEWAYZ"
	KindLeafz    = "LEAFZ"
	KindAccountz = "ACCOUNTZ"
	KindAccStatz = "STATZ" // $SYS.REQ.ACCOUNT.PING.STATZ and SERVER.<id>.ACCSTATZ share it
	KindHealthz  = "HEALTHZ"
	KindJsz      = "JSZ" // JetStream's document; "disabled" until a provider registers
)

// ErrNotForUs is returned by MonitorRequest when the request's filter
// (server_name, host, cluster, tags, domain) does not select this server:
// upstream stays silent then, and so must the responder.
var ErrNotForUs = errors.New("server: monitoring request filtered out")

// ErrUnknownKind is returned by MonitorRequest for a kind it does not
// answer.
var ErrUnknownKind = errors.New("server: unknown monitoring request kind")

func (s *Server) filtered(f *snapshot.EventFilterOptions) bool {
	s.mu.Lock()
	info, tags := s.info, s.opts.Tags
	s.mu.Unlock()
	switch {
	case f.Name != "" && !strings.Contains(info.Name, f.Name),
		f.Host != "" && !strings.Contains(info.Host, f.Host),
		f.Cluster != "" && f.Cluster != info.Cluster,
		f.Domain != "" && f.Domain != info.Domain:
		return true
	}
	for _, t := range f.Tags {
		if !slices.ContainsFunc(tags, func(x string) bool { return strings.EqualFold(x, t) }) {
			return true
		}
	}
	return false
}

// MonitorRequest answers a monitoring request of the given kind (KindVarz,
// KindConnz, ..., any kind the registry answers; see RegisterProvider)
// whose body is req: empty, or the JSON of the kind's options
// (ConnzOptions, SubszOptions, ...) with the filter fields of
// EventFilterOptions alongside, as upstream's requests carry them. It
// returns the JSON response, ErrNotForUs when the filter excludes this
// server, or ErrUnknownKind. A bad request is answered, with Error set.
func (s *Server) MonitorRequest(kind string, req []byte) ([]byte, error) {
	p := s.Provider(kind)
	if p == nil {
		return nil, ErrUnknownKind
	}
	opts := p.NewOptions()
	return s.zRequest(req, opts, func() (any, error) { return p.Snapshot(opts) })
}

// errSilent is returned by a zRequest run function that decides, after
// the filter, that this server has nothing to say (an account it does not
// know, for instance); zRequest turns it into ErrNotForUs.
var errSilent = errors.New("server: nothing to answer")

// zRequest decodes req into the filter and into opts (nil for none),
// returns ErrNotForUs when the filter leaves this server out, and
// otherwise runs run and wraps its result in a ServerAPIResponse: the
// decoding error or run's error as a 400 with Description, the data
// otherwise (left out when nil).
func (s *Server) zRequest(req []byte, opts any, run func() (any, error)) ([]byte, error) {
	var filter snapshot.EventFilterOptions
	var err error
	if len(req) > 0 {
		if err = json.Unmarshal(req, &filter); err == nil && opts != nil {
			err = json.Unmarshal(req, opts)
		}
	}
	if s.filtered(&filter) {
		return nil, ErrNotForUs
	}
	resp := snapshot.ServerAPIResponse{Server: s.serverInfo()}
	var data any
	if err == nil {
		data, err = run()
	}
	if errors.Is(err, errSilent) {
		return nil, ErrNotForUs
	}
	if err != nil {
		resp.Error = &snapshot.ServerAPIError{Code: 400, Description: err.Error()}
		var me *snapshot.MonitorError
		if errors.As(err, &me) {
			resp.Error.Description = me.Text
		}
	} else if data != nil {
		resp.Data = data
	}
	return json.Marshal(&resp)
}

func (s *Server) serverInfo() *snapshot.ServerInfo {
	s.mu.Lock()
	info, tags := s.info, slices.Clone(s.opts.Tags)
	s.mu.Unlock()
	return &snapshot.ServerInfo{
		Name:      info.Name,
		Host:      info.Host,
		ID:        info.ID,
		Cluster:   info.Cluster,
		Domain:    info.Domain,
		Version:   info.Version,
		Tags:      tags,
		JetStream: info.JetStream,
		Seq:       s.mon().seq.Add(1),
		Time:      time.Now().UTC(),
	}
}
