package gateway

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
)

// ErrReloadUnsupported is wrapped by the errors of CheckReload and Reload
// for a change a reload cannot apply.
var ErrReloadUnsupported = errors.New("config reload not supported")

// reloadError refuses one field of the gateway {} block; it starts with
// upstream's text for the block (config reload not supported for
// Gateway) and names the field, as the leafnodes {} refusals do.
type reloadError struct {
	field    string
	old, new any
}

func (e *reloadError) Error() string {
	return fmt.Sprintf("config reload not supported for Gateway: field %q: old=%v, new=%v", e.field, e.old, e.new)
}

func (e *reloadError) Unwrap() error { return ErrReloadUnsupported }

// live is what a reload changes in a running Gateway, read by the
// handshakes: the listener's tls {} block (the default of the dials),
// reject_unknown_cluster and the configured remote clusters.
type live struct {
	tls           *tls.Config
	rejectUnknown bool
	gateways      []RemoteGateway
}

func (gw *Gateway) live() *live { return gw.lv.Load() }

// Change is one key a reload applied, for the log: "gateway tls",
// "gateway reject_unknown_cluster = true", "gateway remote \"B\" added"...
type Change struct {
	Key, Value string
}

func (c Change) String() string {
	if c.Value == "" {
		return c.Key
	}
	return c.Key + " = " + c.Value
}

// CheckReload reports whether a reload can turn the gateway {} block a
// into b and what it changes. Upstream reloads only the content of the
// tls {} blocks (the block's and the remotes'): new handshakes use it.
// natsd also applies reject_unknown_cluster (to the connections accepted
// from then on) and remote clusters added to gateways [ ]. Anything
// else (the name, the listener, the authorization, a remote removed or
// its URLs changed, TLS turned on or off) is refused with an error
// wrapping ErrReloadUnsupported that names the field. nil stands for no
// gateway {} block.
func CheckReload(a, b *Options) ([]Change, error) {
	za, zb := DefaultOptions(), DefaultOptions()
	if a != nil {
		za = *a
	}
	if b != nil {
		zb = *b
	}
	if !za.On() && !zb.On() {
		return nil, nil
	}
	if za.On() != zb.On() {
		return nil, &reloadError{field: "Port", old: za.Port, new: zb.Port}
	}
	za.normalize()
	zb.normalize()
	var out []Change
	if (za.TLSConfig == nil) != (zb.TLSConfig == nil) {
		return nil, &reloadError{field: "TLSConfig", old: za.TLSConfig != nil, new: zb.TLSConfig != nil}
	}
	if za.TLSConfig != nil && !sameTLS(za.TLSConfig, zb.TLSConfig) {
		out = append(out, Change{Key: "gateway tls"})
	}
	if za.RejectUnknown != zb.RejectUnknown {
		out = append(out, Change{Key: "gateway reject_unknown_cluster", Value: fmt.Sprint(zb.RejectUnknown)})
	}
	for _, ra := range za.Gateways {
		j := slices.IndexFunc(zb.Gateways, func(rb RemoteGateway) bool { return rb.Name == ra.Name })
		if j < 0 {
			return nil, &reloadError{field: "Gateways", old: remoteNames(za.Gateways), new: remoteNames(zb.Gateways)}
		}
		rb := zb.Gateways[j]
		if !sameURLs(ra, rb) {
			return nil, &reloadError{field: "Gateways", old: fmt.Sprintf("%s%v", ra.Name, urlStrings(ra)), new: fmt.Sprintf("%s%v", rb.Name, urlStrings(rb))}
		}
		if (ra.TLSConfig == nil) != (rb.TLSConfig == nil) {
			return nil, &reloadError{field: "Gateways", old: ra.Name + " tls " + onOff(ra.TLSConfig != nil), new: rb.Name + " tls " + onOff(rb.TLSConfig != nil)}
		}
		if ra.TLSTimeout != rb.TLSTimeout {
			return nil, &reloadError{field: "Gateways", old: fmt.Sprintf("%s tls timeout %v", ra.Name, ra.TLSTimeout), new: fmt.Sprintf("%s tls timeout %v", rb.Name, rb.TLSTimeout)}
		}
		if ra.TLSConfig != nil && !sameTLS(ra.TLSConfig, rb.TLSConfig) {
			out = append(out, Change{Key: fmt.Sprintf("gateway remote %q tls", ra.Name)})
		}
	}
	for _, rb := range zb.Gateways {
		if !slices.ContainsFunc(za.Gateways, func(ra RemoteGateway) bool { return ra.Name == rb.Name }) {
			if rb.Name == zb.Name {
				continue // our own cluster in a shared list
			}
			out = append(out, Change{Key: fmt.Sprintf("gateway remote %q added", rb.Name), Value: ""})
		}
	}
	za.TLSConfig, zb.TLSConfig = nil, nil
	za.RejectUnknown, zb.RejectUnknown = false, false
	za.Gateways, zb.Gateways = nil, nil
	za.Dialer, zb.Dialer = nil, nil
	va, vb := reflect.ValueOf(za), reflect.ValueOf(zb)
	t := va.Type()
	for i := range t.NumField() {
		fa, fb := va.Field(i).Interface(), vb.Field(i).Interface()
		if !reflect.DeepEqual(fa, fb) {
			return nil, &reloadError{field: t.Field(i).Name, old: fa, new: fb}
		}
	}
	return out, nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func remoteNames(list []RemoteGateway) []string {
	out := make([]string, len(list))
	for i, r := range list {
		out[i] = r.Name
	}
	return out
}

func urlStrings(r RemoteGateway) []string {
	out := make([]string, len(r.URLs))
	for i, u := range r.URLs {
		out[i] = u.Redacted()
	}
	return out
}

func sameURLs(a, b RemoteGateway) bool {
	return slices.EqualFunc(a.URLs, b.URLs, func(x, y *url.URL) bool { return x.String() == y.String() })
}

// sameTLS reports whether two tls {} blocks configure the same
// handshakes: certificates, authorities, verification and versions.
func sameTLS(a, b *tls.Config) bool {
	if a == nil || b == nil {
		return a == b
	}
	if len(a.Certificates) != len(b.Certificates) {
		return false
	}
	for i := range a.Certificates {
		if !slices.EqualFunc(a.Certificates[i].Certificate, b.Certificates[i].Certificate, slices.Equal[[]byte]) {
			return false
		}
	}
	if (a.RootCAs == nil) != (b.RootCAs == nil) || (a.RootCAs != nil && !a.RootCAs.Equal(b.RootCAs)) {
		return false
	}
	if (a.ClientCAs == nil) != (b.ClientCAs == nil) || (a.ClientCAs != nil && !a.ClientCAs.Equal(b.ClientCAs)) {
		return false
	}
	return a.ClientAuth == b.ClientAuth && a.InsecureSkipVerify == b.InsecureSkipVerify &&
		a.MinVersion == b.MinVersion && a.MaxVersion == b.MaxVersion &&
		slices.Equal(a.CipherSuites, b.CipherSuites) && slices.Equal(a.CurvePreferences, b.CurvePreferences) &&
		a.ServerName == b.ServerName
}

// Reload applies a new gateway {} block to the running gateways, as
// CheckReload allows: the tls {} blocks serve the next handshakes (the
// established connections stay), reject_unknown_cluster applies to the
// connections accepted from then on, and remote clusters added start
// dialing (one learned already by gossip becomes configured). Anything
// CheckReload refuses is refused here and nothing changes. It returns
// the changes, for the log.
func (gw *Gateway) Reload(o *Options) ([]Change, error) {
	if o == nil {
		o = &Options{Port: -1}
	}
	gw.reloadMu.Lock()
	defer gw.reloadMu.Unlock()
	cur := gw.o
	lv := gw.live()
	cur.TLSConfig, cur.RejectUnknown, cur.Gateways = lv.tls, lv.rejectUnknown, lv.gateways
	changes, err := CheckReload(&cur, o)
	if err != nil {
		return nil, err
	}
	gws := slices.Clone(o.Gateways)
	gw.lv.Store(&live{tls: o.TLSConfig, rejectUnknown: o.RejectUnknown, gateways: gws})
	var added []RemoteGateway
	gw.mu.Lock()
	for _, rg := range gws {
		if rg.Name == gw.o.Name {
			continue
		}
		if r := gw.remotes[rg.Name]; r != nil {
			r.tls = rg.TLSConfig
			r.implicit = false
		}
		if !slices.ContainsFunc(lv.gateways, func(x RemoteGateway) bool { return x.Name == rg.Name }) {
			added = append(added, rg)
		}
	}
	gw.mu.Unlock()
	for _, rg := range added {
		gw.addRemote(rg.Name, rg.URLs, false, rg.TLSConfig)
	}
	return changes, nil
}
