package mondoc

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"natsd.dev/server/snapshot"
)

// Excludes reports whether the filter of a monitoring request (server
// name and host substrings, cluster, domain, tags) leaves out the server
// described by si.
func Excludes(f *snapshot.EventFilterOptions, si *snapshot.ServerInfo) bool {
	switch {
	case f.Name != "" && !strings.Contains(si.Name, f.Name),
		f.Host != "" && !strings.Contains(si.Host, f.Host),
		f.Cluster != "" && f.Cluster != si.Cluster,
		f.Domain != "" && f.Domain != si.Domain:
		return true
	}
	for _, t := range f.Tags {
		if !slices.ContainsFunc(si.Tags, func(x string) bool { return strings.EqualFold(x, t) }) {
			return true
		}
	}
	return false
}

// ErrSilent is returned by Answer when the request is not for this
// server: its filter excludes it, or run returned an error that wraps
// ErrSilent (it has nothing to say, an unknown account for instance).
var ErrSilent = errors.New("server: nothing to answer")

// Answer decodes req into the filter and into opts (nil for none) and
// returns ErrSilent when excluded says the filter leaves this server out.
// Otherwise it runs run and wraps its result in a ServerAPIResponse about
// info(): the decoding error or run's error as a 400 with Description
// (a *snapshot.MonitorError's Text), the data otherwise (left out when
// nil).
func Answer(req []byte, opts any, excluded func(*snapshot.EventFilterOptions) bool, info func() *snapshot.ServerInfo, run func() (any, error)) ([]byte, error) {
	var filter snapshot.EventFilterOptions
	var err error
	if len(req) > 0 {
		if err = json.Unmarshal(req, &filter); err == nil && opts != nil {
			err = json.Unmarshal(req, opts)
		}
	}
	if excluded(&filter) {
		return nil, ErrSilent
	}
	resp := snapshot.ServerAPIResponse{Server: info()}
	var data any
	if err == nil {
		data, err = run()
	}
	if errors.Is(err, ErrSilent) {
		return nil, ErrSilent
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
