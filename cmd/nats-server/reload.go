package main

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"natsd.dev/cluster"
	"natsd.dev/cluster/leaf"
	"natsd.dev/cmd/internal/wsserver"
	"natsd.dev/jetstream"
	"natsd.dev/mqtt"
	"natsd.dev/server"
)

// The reload diff engine. planReload compares the running configuration
// with a new parse, key by key, and says for each key that differs whether
// a reload applies it or refuses it and why. A reload (SIGHUP, --signal
// reload, $SYS.REQ.SERVER.<id>.RELOAD) logs every key of the plan and
// applies it only when nothing is refused, as upstream's all-or-nothing
// reload; --reload-check prints the same plan without applying it.

// loaded is one parse of the configuration with the flags applied and
// what the modules made of it.
type loaded struct {
	cfg  *fileConfig
	co   *cluster.Options
	js   jetstream.Options
	jsOn bool
	mqtt mqtt.Options
	// mqttErr: the mqtt {} block does not validate against the rest;
	// planReload refuses it after the block's own refusals.
	mqttErr error
}

// load builds the modules' options of a parsed configuration, as startup
// does; an mqtt {} block that does not validate is left to planReload.
func load(c *fileConfig, f *flags) (*loaded, error) {
	co, err := loadCluster(c, f)
	if err != nil {
		return nil, configError(err)
	}
	// As at startup: the gateway's name is the cluster's when unset.
	if err := checkGateway(c, co); err != nil {
		return nil, err
	}
	jo, jsOn, err := loadJetStream(c, f)
	if err != nil {
		return nil, err
	}
	mo, err := loadMQTT(c, jsOn, co)
	return &loaded{cfg: c, co: co, js: jo, jsOn: jsOn, mqtt: mo, mqttErr: err}, nil
}

// keyChange is a key a reload applies; value is what the log shows after
// "Reloaded: key = ", empty for keys logged by name alone (blocks, lists,
// secrets).
type keyChange struct {
	key, value string
}

func (k keyChange) String() string {
	if k.value == "" {
		return k.key
	}
	return k.key + " = " + k.value
}

// keyRefusal is a key a reload refuses: err says why, in upstream's words
// where upstream refuses it too ("config reload not supported for ...").
type keyRefusal struct {
	key string
	err error
}

// reloadPlan is what a reload from one configuration to another does.
type reloadPlan struct {
	changed []keyChange
	refused []keyRefusal
	// routes: the cluster's routes change (applied by the cluster).
	routes bool
	// pidFile, portsFile: the files move (applied by the process).
	pidFile, portsFile bool
	// jsLimits: JetStream's server storage limits rise.
	jsLimits bool
	// jsServerLimits: JetStream's limits {} change.
	jsServerLimits bool
	// advertise: client_advertise changes (the cluster tells its peers).
	advertise bool
	// cluster: cluster keys beyond routes change (cluster.Cluster.Reload).
	cluster bool
	// ws: websocket keys that reload change (wsserver.Listener.Reload).
	ws bool
	// mqtt: the mqtt {} keys upstream reloads change (mqtt.MQTT.Reload).
	mqtt bool
	// leaf: the leafnodes {} remotes or tls {} change (leaf.Leaf.Reload).
	leaf bool
	// gateway: the gateway {} keys that reload change (reload_link.go).
	gateway bool
}

// err is the reload's error: the first refusal, nil when none.
func (p *reloadPlan) err() error {
	if len(p.refused) == 0 {
		return nil
	}
	return p.refused[0].err
}

func (p *reloadPlan) change(key, value string) {
	p.changed = append(p.changed, keyChange{key, value})
}

func (p *reloadPlan) refuse(key string, err error) {
	p.refused = append(p.refused, keyRefusal{key, err})
}

// notSupported is upstream's refusal of a key with its values.
func notSupported(key string, old, nu any) error {
	return fmt.Errorf("config reload not supported for %s: old=%v, new=%v", key, old, nu)
}

// scalar compares one key's values: a change reloads when reloads, else
// it is refused.
type scalar struct {
	key      string
	old, new any
}

// planReload compares old and nu key by key.
func planReload(old, nu *loaded) *reloadPlan {
	p := &reloadPlan{}
	// Options compare as the server reads them, defaults filled in.
	oe, ne := old.cfg.Options.WithDefaults(), nu.cfg.Options.WithDefaults()
	o, n := &oe, &ne
	ol, nl := old.cfg.Log, nu.cfg.Log

	// Logging: the process rebuilds its log output.
	for _, k := range []scalar{
		{"debug", ol.Debug, nl.Debug},
		{"trace", ol.Trace, nl.Trace},
		{"trace_verbose", ol.TraceVerbose, nl.TraceVerbose},
		{"logtime", ol.Logtime, nl.Logtime},
		{"logtime_utc", ol.LogtimeUTC, nl.LogtimeUTC},
		{"log_file", ol.File, nl.File},
		{"log_size_limit", ol.SizeLimit, nl.SizeLimit},
		{"log_max_num", ol.MaxFiles, nl.MaxFiles},
		{"syslog", ol.Syslog, nl.Syslog},
		{"remote_syslog", ol.RemoteSyslog, nl.RemoteSyslog},
		{"max_traced_msg_len", ol.MaxTracedMsgLen, nl.MaxTracedMsgLen},
	} {
		if k.old != k.new {
			p.change(k.key, fmt.Sprint(k.new))
		}
	}

	// The server's limits and timers (Server.Reload).
	for _, k := range []scalar{
		{"max_connections", o.MaxConn, n.MaxConn},
		{"max_subscriptions", o.MaxSubs, n.MaxSubs},
		{"max_payload", o.MaxPayload, n.MaxPayload},
		{"max_control_line", o.MaxControlLine, n.MaxControlLine},
		{"max_pending", o.MaxPending, n.MaxPending},
		{"max_unauthenticated_memory", o.MaxUnauthMemory, n.MaxUnauthMemory},
		{"max_unauthenticated_conn_memory", o.MaxUnauthConnMemory, n.MaxUnauthConnMemory},
		{"ping_interval", o.PingInterval, n.PingInterval},
		{"ping_max", o.MaxPingsOut, n.MaxPingsOut},
		{"write_deadline", o.WriteDeadline, n.WriteDeadline},
		{"no_fast_producer_stall", o.NoFastProducerStall, n.NoFastProducerStall},
		{"auth_timeout", o.AuthTimeout, n.AuthTimeout},
		{"lame_duck_duration", o.LameDuckDuration, n.LameDuckDuration},
		{"lame_duck_grace_period", o.LameDuckGracePeriod, n.LameDuckGracePeriod},
		{"client_advertise", o.ClientAdvertise, n.ClientAdvertise},
		{"max_closed_clients", o.MaxClosedClients, n.MaxClosedClients},
	} {
		if k.old != k.new {
			p.change(k.key, fmt.Sprint(k.new))
		}
	}
	p.advertise = o.ClientAdvertise != n.ClientAdvertise
	if !slices.Equal(o.Tags, n.Tags) {
		p.change("server_tags", "["+strings.Join(n.Tags, ", ")+"]")
	}

	// Authorization: the server checks connected clients again. As
	// upstream, no_auth_user may be removed but not set or changed.
	oa, na := o.Authorization, n.Authorization
	if oa != nil && na != nil && oa.NoAuthUser != na.NoAuthUser {
		ca, cb := *oa, *na
		ca.NoAuthUser, cb.NoAuthUser = "", ""
		oa, na = &ca, &cb
	}
	if !reflect.DeepEqual(oa, na) {
		p.change("authorization", "")
	}
	if on, nn := noAuthUser(old.cfg), noAuthUser(nu.cfg); on != nn {
		if nn != "" {
			p.refuse("no_auth_user", notSupported("no_auth_user", on, nn))
		} else {
			p.change("no_auth_user", nn)
		}
	}

	// The client listener's TLS: new connections use the new settings;
	// turning TLS on or off and verify_and_map need a restart.
	if (o.TLSConfig == nil) != (n.TLSConfig == nil) {
		p.refuse("tls", errors.New("config reload not supported for tls: turning TLS on or off needs a restart"))
	} else if o.TLSMap != n.TLSMap {
		p.refuse("tls", notSupported("tls verify_and_map", o.TLSMap, n.TLSMap))
	} else if !sameTLS(o.TLSConfig, n.TLSConfig) || o.TLSTimeout != n.TLSTimeout || o.TLSHandshakeFirst != n.TLSHandshakeFirst ||
		o.TLSHandshakeFirstFallback != n.TLSHandshakeFirstFallback || !reflect.DeepEqual(o.TLSPinnedCerts, n.TLSPinnedCerts) ||
		o.TLSRateLimit != n.TLSRateLimit {
		p.change("tls", "")
	}

	// Files the process writes.
	if old.cfg.PidFile != nu.cfg.PidFile {
		p.change("pid_file", nu.cfg.PidFile)
		p.pidFile = true
	}
	if old.cfg.PortsFileDir != nu.cfg.PortsFileDir {
		p.change("ports_file_dir", nu.cfg.PortsFileDir)
		p.portsFile = true
	}

	// What needs a restart, with upstream's wording.
	for _, k := range []scalar{
		{"host", o.Host, n.Host},
		{"port", o.Port, n.Port},
		{"server_name", o.ServerName, n.ServerName},
		{"no_header_support", o.NoHeaderSupport, n.NoHeaderSupport},
		{"disable_sublist_cache", o.NoSublistCache, n.NoSublistCache},
		{"http", old.cfg.Monitor, nu.cfg.Monitor},
		{"system_account", o.SystemAccount, n.SystemAccount},
		{"no_system_account", o.NoSystemAccount, n.NoSystemAccount},
	} {
		if k.old != k.new {
			p.refuse(k.key, notSupported(k.key, k.old, k.new))
		}
	}
	// Accounts: added and removed, their limits, exports, imports and
	// mappings (the top-level mappings are the global account's), logged
	// as upstream logs them, "Reloaded: accounts".
	if !slices.Equal(o.Accounts, n.Accounts) || !reflect.DeepEqual(o.Exports, n.Exports) ||
		!reflect.DeepEqual(o.Imports, n.Imports) || !reflect.DeepEqual(o.Mappings, n.Mappings) ||
		!reflect.DeepEqual(o.AccountLimits, n.AccountLimits) || !reflect.DeepEqual(o.AccountMsgTrace, n.AccountMsgTrace) {
		// An account's msg_trace too: its connections, those up
		// included, trace with the new setting.
		p.change("accounts", "")
	}
	// Any other option the parse produced: refused by its Go name, so a
	// key no list above knows is never silently ignored.
	for _, name := range otherOptionsChanged(o, n) {
		p.refuse(name, fmt.Errorf("config reload not supported for %s", name))
	}

	planWebsocket(p, old.cfg.websocket, nu.cfg.websocket)
	if changed, err := checkMQTTReload(old.cfg.mqtt, nu.cfg.mqtt); err != nil {
		p.refuse("mqtt", err)
	} else if nu.mqttErr != nil {
		// The block did not change but what it is checked against (the
		// users) did, as upstream checks again.
		p.refuse("mqtt", nu.mqttErr)
	} else if len(changed) > 0 {
		p.changed = append(p.changed, changed...)
		p.mqtt = true
	}
	if err := checkJetStreamReload(old.jsOn, old.js, nu.jsOn, nu.js); err != nil {
		p.refuse("jetstream", err)
	} else if old.jsOn != nu.jsOn {
		// Upstream's words.
		p.change("JetStream", "")
	} else if old.jsOn {
		// Raised server storage limits apply, as upstream.
		o, n := old.js.WithDefaults(), nu.js.WithDefaults()
		if n.MaxMemory != o.MaxMemory {
			p.change("jetstream max_mem_store", fmt.Sprint(n.MaxMemory))
			p.jsLimits = true
		}
		if n.MaxStore != o.MaxStore {
			p.change("jetstream max_file_store", fmt.Sprint(n.MaxStore))
			p.jsLimits = true
		}
		if n.Limits != o.Limits {
			// Upstream's words.
			p.change("JetStream limits", "")
			p.jsServerLimits = true
		}
	}
	planCluster(p, old.co, nu.co, n.Accounts)
	planLeaf(p, old.cfg.leaf, nu.cfg.leaf)
	planGateway(p, old.cfg.gateway, nu.cfg.gateway)
	return p
}

// planLeaf compares the leafnodes {} blocks: remotes added, removed,
// disabled or enabled and the content of the listener's tls {} block
// reload (leaf.Leaf.Reload), logged as upstream logs them; anything else
// is refused with upstream's text (leaf.CheckReload).
func planLeaf(p *reloadPlan, a, b *leaf.Options) {
	if err := leaf.CheckReload(a, b); err != nil {
		p.refuse("leafnodes", err)
		return
	}
	var ra, rb []*leaf.Remote
	if a != nil {
		ra = a.Remotes
	}
	if b != nil {
		rb = b.Remotes
	}
	for _, ch := range leaf.DiffRemotes(ra, rb) {
		p.change(ch.String(), "")
		p.leaf = true
	}
	if a != nil && b != nil && a.TLSConfig != nil && !sameTLS(a.TLSConfig, b.TLSConfig) {
		p.change("leafnodes tls", "")
		p.leaf = true
	}
	planLeafLinks(p, a, b)
	// The remotes' tls {} blocks apply to their next handshakes, as
	// upstream gives them to the remotes on every reload, unlogged.
	if b != nil && slices.ContainsFunc(b.Remotes, func(r *leaf.Remote) bool { return r.TLSConfig != nil }) {
		p.leaf = true
	}
}

// planCluster compares the cluster blocks: routes reload, as upstream's,
// and so do the keys the running cluster applies (cluster.Cluster.Reload),
// pool_size, accounts, compression and permissions by making the routes
// anew, and name; listen and turning TLS on or off are refused. accounts are
// the names of the new accounts {} block.
func planCluster(p *reloadPlan, a, b *cluster.Options, accounts []string) {
	if !sameRoutes(a, b) {
		p.change("cluster routes", "")
		p.routes = true
	}
	if (a == nil) != (b == nil) {
		p.refuse("cluster", errors.New("config reload not supported for cluster"))
		return
	}
	if a == nil || sameCluster(withoutRoutes(a), withoutRoutes(b)) {
		return
	}
	// Applied by the running cluster.
	for _, k := range []struct {
		key, value string
		same       bool
	}{
		{"ping_interval", b.PingInterval.String(), a.PingInterval == b.PingInterval},
		{"ping_max", fmt.Sprint(b.MaxPingsOut), a.MaxPingsOut == b.MaxPingsOut},
		{"connect_retries", fmt.Sprint(b.ConnectRetries), a.ConnectRetries == b.ConnectRetries},
		{"connect_backoff", fmt.Sprint(b.ConnectBackoff), a.ConnectBackoff == b.ConnectBackoff},
		{"authorization", "", a.Username == b.Username && a.Password == b.Password && a.AuthTimeout == b.AuthTimeout},
		{"tls", "", (a.TLSConfig == nil) != (b.TLSConfig == nil) ||
			(sameTLS(a.TLSConfig, b.TLSConfig) && sameRoots(a.TLSConfig, b.TLSConfig) && a.TLSTimeout == b.TLSTimeout)},
		{"advertise", b.Advertise, a.Advertise == b.Advertise},
		{"no_advertise", fmt.Sprint(b.NoAdvertise), a.NoAdvertise == b.NoAdvertise},
		// The routes are made anew (cluster.Cluster.Reload), as
		// upstream re-makes them for pool_size and accounts.
		{"pool_size", fmt.Sprint(b.PoolSize), a.PoolSize == b.PoolSize},
		{"accounts", "[" + strings.Join(b.PinnedAccounts, ", ") + "]", slices.Equal(a.PinnedAccounts, b.PinnedAccounts)},
		{"compression", compressionString(b), reflect.DeepEqual(a.Compression, b.Compression)},
		{"permissions", "", reflect.DeepEqual(a.Permissions, b.Permissions)},
		// New routes carry it, those up stay, as upstream's.
		{"name", b.Name, a.Name == b.Name},
	} {
		if !k.same {
			p.change("cluster "+k.key, k.value)
			p.cluster = true
		}
	}
	// A pinned account must exist once the reload is applied, as
	// upstream checks (its words).
	for _, name := range b.PinnedAccounts {
		if !slices.Contains(a.PinnedAccounts, name) && !accountExists(name, accounts) {
			p.refuse("cluster accounts", fmt.Errorf("unable to add account %q to the list of dedicated routes: account missing", name))
		}
	}
	// Refused: they shape the cluster listener.
	for _, k := range []struct {
		key  string
		same bool
	}{
		{"listen", a.Host == b.Host && a.Port == b.Port},
		{"tls", (a.TLSConfig == nil) == (b.TLSConfig == nil)},
	} {
		if !k.same {
			p.refuse("cluster "+k.key, fmt.Errorf("config reload not supported for cluster: %s changed", k.key))
		}
	}
}

// accountExists reports whether name is an account once a reload with
// accounts (the accounts {} block's names) is applied: one of them, the
// global account or the system account.
func accountExists(name string, accounts []string) bool {
	return name == server.GlobalAccountName || name == server.DefaultSystemAccountName || slices.Contains(accounts, name)
}

// compressionString is the compression setting as the log shows it:
// the mode, with s2_auto's thresholds.
func compressionString(o *cluster.Options) string {
	if len(o.Compression.RTTThresholds) == 0 {
		return o.Compression.Mode
	}
	return fmt.Sprintf("%s %v", o.Compression.Mode, o.Compression.RTTThresholds)
}

// planWebsocket compares the websocket blocks: the tls {} block of a
// wss:// listener (as upstream), same_origin, allowed_origins,
// compression, handshake_timeout and the user, pass and token cookies
// apply to the next handshakes (wsserver.Listener.Reload); any other
// change is refused.
func planWebsocket(p *reloadPlan, a, b wsserver.Options) {
	if sameWebsocket(a, b) {
		return
	}
	if (a.TLSConfig == nil) != (b.TLSConfig == nil) {
		p.refuse("websocket", errors.New("config reload not supported for websocket"))
		return
	}
	var changed []keyChange
	for _, k := range []struct {
		key, value string
		same       bool
	}{
		{"tls", "", sameTLS(a.TLSConfig, b.TLSConfig)},
		{"same_origin", fmt.Sprint(b.SameOrigin), a.SameOrigin == b.SameOrigin},
		{"allowed_origins", "[" + strings.Join(b.AllowedOrigins, ", ") + "]", slices.Equal(a.AllowedOrigins, b.AllowedOrigins)},
		{"compression", fmt.Sprint(b.Compression), a.Compression == b.Compression},
		{"handshake_timeout", b.HandshakeTimeout.String(), a.HandshakeTimeout == b.HandshakeTimeout},
		{"user_cookie", b.UsernameCookie, a.UsernameCookie == b.UsernameCookie},
		{"pass_cookie", b.PasswordCookie, a.PasswordCookie == b.PasswordCookie},
		{"token_cookie", b.TokenCookie, a.TokenCookie == b.TokenCookie},
	} {
		if !k.same {
			changed = append(changed, keyChange{"websocket " + k.key, k.value})
		}
	}
	for _, o := range []*wsserver.Options{&a, &b} {
		o.TLSConfig = nil
		o.SameOrigin, o.AllowedOrigins, o.Compression, o.HandshakeTimeout = false, nil, false, 0
		o.UsernameCookie, o.PasswordCookie, o.TokenCookie = "", "", ""
	}
	if !sameWebsocket(a, b) {
		p.refuse("websocket", errors.New("config reload not supported for websocket"))
		return
	}
	p.changed = append(p.changed, changed...)
	p.ws = true
}

// planned are the server.Options fields planReload compares itself, or
// that the process sets rather than the file.
var planned = map[string]bool{
	"ServerName": true, "Host": true, "Port": true, "ClientAdvertise": true,
	"MaxConn": true, "MaxSubs": true, "MaxPayload": true, "MaxControlLine": true, "MaxPending": true,
	"MaxUnauthMemory": true, "MaxUnauthConnMemory": true, "PingInterval": true, "MaxPingsOut": true,
	"NoFastProducerStall": true, "WriteDeadline": true, "AuthTimeout": true, "Authorization": true,
	"Accounts": true, "SystemAccount": true, "NoSystemAccount": true, "Exports": true, "Imports": true,
	"Mappings": true, "AccountLimits": true, "AccountMsgTrace": true, "LameDuckDuration": true, "LameDuckGracePeriod": true,
	"NoHeaderSupport": true, "NoSublistCache": true, "Logger": true, "MaxClosedClients": true,
	"Tags": true, "GitCommit": true, "OnStart": true, "TLSConfig": true, "TLSTimeout": true,
	"TLSHandshakeFirst": true, "TLSHandshakeFirstFallback": true, "TLSPinnedCerts": true,
	"TLSRateLimit": true, "TLSMap": true, "ConfigFile": true,
	// Set from the logging keys (trace_verbose, max_traced_msg_len), above.
	"TraceVerbose": true, "MaxTracedMsgLen": true,
	// Operator mode: the server refuses changes of the trusted operators
	// and keys itself (Server.Reload); the rest keeps its start values.
	"Operator": true,
}

// otherOptionsChanged names the server.Options fields planned does not
// list whose values differ.
func otherOptionsChanged(a, b *server.Options) []string {
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	var names []string
	for i := range va.NumField() {
		name := va.Type().Field(i).Name
		if planned[name] {
			continue
		}
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			names = append(names, name)
		}
	}
	return names
}
