package leaf

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"natsd.dev/cluster/internal/s2conn"
	"natsd.dev/server"
)

// ErrReloadUnsupported is wrapped by the errors of CheckReload and Reload
// for a change a reload cannot apply.
var ErrReloadUnsupported = errors.New("config reload not supported")

// reloadError is upstream's refusal of a leafnodes {} field:
// config reload not supported for LeafNode: field "Host": old=, new=0.0.0.0.
type reloadError struct {
	field    string
	old, new any
}

func (e *reloadError) Error() string {
	return fmt.Sprintf("config reload not supported for LeafNode: field %q: old=%v, new=%v", e.field, e.old, e.new)
}

func (e *reloadError) Unwrap() error { return ErrReloadUnsupported }

// upstreamField is upstream's name of an Options field where it differs.
var upstreamField = map[string]string{"Reconnect": "ReconnectInterval"}

// CheckReload reports whether a reload can turn the leafnodes {} block a
// into b (nil stands for no block): the remotes may change (added,
// removed, disabled, enabled), the listener's tls {} block may change
// its content, and the authorization its user, password, token, account
// and users, as long as there is one before and after (upstream refuses
// these); any other field is refused as upstream refuses it, with an
// error wrapping ErrReloadUnsupported that names the field (config
// reload not supported for LeafNode: field "Host": old=..., new=...).
func CheckReload(a, b *Options) error {
	var za, zb Options
	if a != nil {
		za = *a
	}
	if b != nil {
		zb = *b
	}
	if err := normalizeTop(&za); err != nil {
		return err
	}
	if err := normalizeTop(&zb); err != nil {
		return err
	}
	// Users compare as a set, as upstream's.
	byName := func(a, b User) int { return strings.Compare(a.Username, b.Username) }
	za.Users = slices.SortedFunc(slices.Values(za.Users), byName)
	zb.Users = slices.SortedFunc(slices.Values(zb.Users), byName)
	if len(za.Users) == 0 && len(zb.Users) == 0 {
		za.Users, zb.Users = nil, nil
	}
	if (za.TLSConfig == nil) != (zb.TLSConfig == nil) {
		return &reloadError{field: "TLSConfig", old: za.TLSConfig != nil, new: zb.TLSConfig != nil}
	}
	// The authorization's users and secrets reload (beyond upstream,
	// which refuses them) while an authorization stays in force; turning
	// it on or off changes how leaf nodes log in, and is refused.
	if authOf(&za).on() && authOf(&zb).on() {
		if err := checkAuthUsers(&zb); err != nil {
			return err
		}
		za.Username, za.Password, za.Token, za.Account, za.Users = "", "", "", "", nil
		zb.Username, zb.Password, zb.Token, zb.Account, zb.Users = "", "", "", "", nil
	}
	va, vb := reflect.ValueOf(za), reflect.ValueOf(zb)
	t := va.Type()
	for i := range t.NumField() {
		name := t.Field(i).Name
		switch name {
		case "Remotes", "TLSConfig", "Dialer", "Compression", "TLSHandshakeFirst":
			// Compression and TLSHandshakeFirst reload, as upstream's.
			continue
		}
		fa, fb := va.Field(i).Interface(), vb.Field(i).Interface()
		if reflect.DeepEqual(fa, fb) {
			continue
		}
		if up := upstreamField[name]; up != "" {
			name = up
		}
		return &reloadError{field: name, old: fa, new: fb}
	}
	return nil
}

// normalizeTop fills in the defaults of o's own timers and compression,
// as Start does.
func normalizeTop(o *Options) error {
	if o.Reconnect <= 0 {
		o.Reconnect = DefaultReconnect
	}
	if o.TLSTimeout <= 0 {
		o.TLSTimeout = DefaultTLSTimeout
	}
	o.defaultAuthTimeout()
	return normalizeCompressionDefault(&o.Compression)
}

// normalizeCompressionDefault is a compression setting as Start keeps it:
// s2_auto when unset, the mode's canonical name and thresholds.
func normalizeCompressionDefault(c *Compression) error {
	c.RTTThresholds = slices.Clone(c.RTTThresholds)
	if c.Mode == "" {
		c.Mode = CompressionS2Auto
	}
	return normalizeCompression(c)
}

// RemoteChange is what a reload does to one remote.
type RemoteChange struct {
	Remote *Remote
	// Change is "added", "removed", "disabled" or "enabled".
	Change string
}

// String is upstream's log of the change, after "Reloaded: ": LeafNode
// Remote urls=["nats-leaf://u:xxxxx@host:7422"], account="$G" removed
// (or "Disabled value is: true" for disabled, false for enabled).
func (c RemoteChange) String() string {
	urls := make([]string, len(c.Remote.URLs))
	for i, u := range c.Remote.URLs {
		urls[i] = fmt.Sprintf("%q", u.Redacted())
	}
	acc := c.Remote.Account
	if acc == "" {
		acc = "$G"
	}
	what := c.Change
	switch c.Change {
	case "disabled":
		what = "Disabled value is: true"
	case "enabled":
		what = "Disabled value is: false"
	}
	return fmt.Sprintf("LeafNode Remote urls=[%s], account=%q %s", strings.Join(urls, ", "), acc, what)
}

// remoteKey identifies a remote across a reload: its account and URLs.
func remoteKey(r *Remote) string {
	acc := r.Account
	if acc == "" {
		acc = "$G"
	}
	var b strings.Builder
	b.WriteString(acc)
	for _, u := range r.URLs {
		b.WriteByte(' ')
		b.WriteString(u.String())
	}
	return b.String()
}

// sameRemote reports whether a and b are one remote but for Disabled
// (and the content of their tls {} blocks, which a reload keeps).
func sameRemote(a, b *Remote) bool {
	if remoteKey(a) != remoteKey(b) || (a.TLSConfig == nil) != (b.TLSConfig == nil) {
		return false
	}
	ca, cb := *a, *b
	ca.Disabled, cb.Disabled = false, false
	ca.TLSConfig, cb.TLSConfig = nil, nil
	ca.URLs, cb.URLs = nil, nil
	if ca.Account == "" {
		ca.Account = "$G"
	}
	if cb.Account == "" {
		cb.Account = "$G"
	}
	return reflect.DeepEqual(ca, cb)
}

// DiffRemotes lists what a reload from the remotes a to b does: the
// remotes of a without their like in b are removed, those of b without
// their like in a added (a remote whose other settings changed is both),
// and those whose disabled flag changed disabled or enabled.
func DiffRemotes(a, b []*Remote) []RemoteChange {
	var out []RemoteChange
	used := make([]bool, len(b))
	for _, ra := range a {
		j := matchRemote(ra, b, used)
		if j < 0 {
			out = append(out, RemoteChange{ra, "removed"})
			continue
		}
		used[j] = true
		switch rb := b[j]; {
		case !ra.Disabled && rb.Disabled:
			out = append(out, RemoteChange{rb, "disabled"})
		case ra.Disabled && !rb.Disabled:
			out = append(out, RemoteChange{rb, "enabled"})
		}
	}
	for j, rb := range b {
		if !used[j] {
			out = append(out, RemoteChange{rb, "added"})
		}
	}
	return out
}

// matchRemote is the index of the first unused remote of list like r,
// -1 if none.
func matchRemote(r *Remote, list []*Remote, used []bool) int {
	for j, x := range list {
		if !used[j] && sameRemote(r, x) {
			return j
		}
	}
	return -1
}

// Reload applies a new leafnodes {} block to the running leaf nodes, as
// a configuration reload does upstream: remotes added start dialing,
// remotes removed or disabled stop and their connection closes (Client
// Closed), remotes enabled start dialing again; the listener's tls {}
// block and the remotes' apply to the next handshakes. Anything else CheckReload
// refuses, and Reload then changes nothing. It returns the changes made
// to the remotes, for the log.
func (lf *Leaf) Reload(o *Options) ([]RemoteChange, error) {
	if o == nil {
		o = &Options{}
	}
	lf.reloadMu.Lock()
	defer lf.reloadMu.Unlock()
	if err := CheckReload(&lf.o, o); err != nil {
		return nil, err
	}
	if err := lf.validateRemotes(o.Remotes); err != nil {
		return nil, err
	}
	if err := lf.validateAuthAccounts(o); err != nil {
		return nil, err
	}
	nu := normalizeRemotes(&lf.o, o.Remotes)
	for _, r := range nu {
		if err := normalizeCompressionDefault(&r.Compression); err != nil {
			return nil, err
		}
	}
	states := make([]*remote, len(nu))
	for i, r := range nu {
		rs, err := newRemote(r)
		if err != nil {
			return nil, err
		}
		states[i] = rs
	}
	lf.mu.Lock()
	if lf.closed {
		lf.mu.Unlock()
		return nil, nil
	}
	old := lf.remotes
	lf.mu.Unlock()

	oldOpts := make([]*Remote, len(old))
	for i, r := range old {
		oldOpts[i] = r.conf
	}
	changes := DiffRemotes(oldOpts, nu)
	used := make([]bool, len(nu))
	var stop []*remote
	var start []*remote
	for _, r := range old {
		j := matchRemote(r.conf, nu, used)
		if j < 0 {
			stop = append(stop, r)
			continue
		}
		used[j] = true
		running := !r.stopped()
		switch {
		case running && nu[j].Disabled:
			stop = append(stop, r)
		case !running && !nu[j].Disabled:
			start = append(start, r)
		}
		// The running state stays (its dial loop reads r.r); the
		// configuration takes the new flag, the next handshakes the new
		// tls {} block.
		if nu[j].TLSConfig != nil {
			r.tlsConfig.Store(nu[j].TLSConfig)
		}
		states[j] = r
	}
	for j, r := range states {
		if !used[j] && !r.r.Disabled {
			start = append(start, r)
		}
	}
	for _, r := range stop {
		lf.stopRemote(r)
	}
	lf.mu.Lock()
	if !lf.closed {
		for j, r := range states {
			r.conf = nu[j]
		}
		lf.remotes = states
		for _, r := range start {
			lf.startRemote(r)
		}
	}
	lf.mu.Unlock()
	if o.TLSConfig != nil {
		lf.tlsConfig.Store(o.TLSConfig)
	}
	if a := authOf(o); !a.equal(lf.auth.Load()) {
		lf.auth.Store(a)
		lf.recheckAuth(a)
	}
	lf.hsFirst.Store(o.TLSHandshakeFirst)
	comp := o.Compression
	if err := normalizeCompressionDefault(&comp); err == nil && !reflect.DeepEqual(comp, *lf.comp.Load()) {
		lf.comp.Store(&comp)
		lf.recompress(comp)
	}
	return changes, nil
}

// BlockChanges lists, for the log, what a reload from a to b changes in
// the leafnodes {} block itself (CheckReload let it through): "leafnodes
// authorization" (natsd only), "leafnodes compression = <mode>" and
// "leafnodes tls handshake_first = <bool>" (as upstream reloads them).
func BlockChanges(a, b *Options) []string {
	var za, zb Options
	if a != nil {
		za = *a
	}
	if b != nil {
		zb = *b
	}
	var out []string
	if !authOf(&za).equal(authOf(&zb)) {
		out = append(out, "leafnodes authorization")
	}
	ca, cb := za.Compression, zb.Compression
	ea, eb := normalizeCompressionDefault(&ca), normalizeCompressionDefault(&cb)
	if ea == nil && eb == nil && !reflect.DeepEqual(ca, cb) {
		out = append(out, "leafnodes compression = "+cb.Mode)
	}
	if za.TLSHandshakeFirst != zb.TLSHandshakeFirst {
		out = append(out, fmt.Sprintf("leafnodes tls handshake_first = %v", zb.TLSHandshakeFirst))
	}
	return out
}

// recompress applies the listener's new compression co to the accepted
// connections, as upstream: one that compresses changes its level in
// place (s2_auto: the level its RTT calls for); one that must negotiate
// again (it did not compress and co does, or co is off or accept) is
// closed, and its leaf node dials again.
func (lf *Leaf) recompress(co Compression) {
	lf.mu.Lock()
	var conns []*conn
	for c := range lf.conns {
		if !c.solicited && c.registered.Load() {
			conns = append(conns, c)
		}
	}
	lf.mu.Unlock()
	for _, c := range conns {
		c.mu.Lock()
		cur, rtt := c.compression, c.rtt
		c.mu.Unlock()
		if cur == compressionNotSupported {
			continue // the peer never compresses
		}
		compressing := c.s2 != nil && s2conn.Compressed(cur)
		switch {
		case !compressing && !needsCompression(co.Mode):
			continue
		case !compressing, co.Mode == CompressionOff, co.Mode == CompressionAccept:
			lf.log.Info(c.prefix + " - Leafnode compression changed to " + co.Mode + ", closing the connection to negotiate it")
			c.close(server.LinkClientClosed)
			continue
		}
		level := co.Mode
		if level == CompressionS2Auto {
			level = s2conn.AutoLevel(rtt, co.RTTThresholds)
		}
		if err := c.s2.SetLevel(level); err != nil {
			continue // the write error closes the connection
		}
		c.mu.Lock()
		c.compression = level
		c.mu.Unlock()
	}
}

// authConf is the leafnodes { authorization } of a Leaf: one user, a
// token, or users, each bound to an account.
type authConf struct {
	Username, Password, Token, Account string
	Users                              []User
}

// authOf is o's authorization, its users sorted by name.
func authOf(o *Options) *authConf {
	byName := func(a, b User) int { return strings.Compare(a.Username, b.Username) }
	return &authConf{Username: o.Username, Password: o.Password, Token: o.Token, Account: o.Account,
		Users: slices.SortedFunc(slices.Values(o.Users), byName)}
}

// on reports whether a authenticates leaf nodes itself (rather than
// the server's users).
func (a *authConf) on() bool {
	return a != nil && (a.Username != "" || a.Token != "" || len(a.Users) > 0)
}

func (a *authConf) equal(b *authConf) bool {
	return a.Username == b.Username && a.Password == b.Password && a.Token == b.Token &&
		a.Account == b.Account && slices.Equal(a.Users, b.Users)
}

// leafCreds are the credentials of an accepted leaf node's CONNECT.
type leafCreds struct {
	user, pass, token string
}

// recheckAuth checks every accepted leaf node that the authorization
// authenticated against the new one a: one whose credentials no longer
// pass, or that the new one binds to another account, gets -ERR
// 'Authorization Violation' and is closed (Authentication Failure), as
// a reload does to the clients of a removed user.
func (lf *Leaf) recheckAuth(a *authConf) {
	lf.mu.Lock()
	var conns []*conn
	for c := range lf.conns {
		if !c.solicited && c.registered.Load() && c.leafAuth != nil {
			conns = append(conns, c)
		}
	}
	lf.mu.Unlock()
	for _, c := range conns {
		cr := c.leafAuth
		name, err := c.authorize(a, &leafConnect{User: cr.user, Pass: cr.pass, Token: cr.token}, false)
		if name == "" {
			name = server.GlobalAccountName
		}
		if err == nil && name == c.account {
			continue
		}
		lf.log.Error(c.prefix + " - authentication error - authorization reloaded")
		c.sendErr(errTextAuthViolation)
		c.close(server.LinkAuthViolation)
	}
}
