package config

import (
	"fmt"
	"strings"

	"natsd.dev/confparse"
)

// BlockFunc parses the entry e of a top-level key a module owns (the
// cluster {} block, say). It reports every problem through d, with the
// position of the key or value at fault (d.Errorf, d.Warnf and d's typed
// readers), and keeps what it parsed itself, usually in a variable its
// closure captures. It must not keep d.
type BlockFunc func(d *confparse.Decoder, e *confparse.Entry)

// AccountBlockFunc parses the entry e of a key a module owns inside the
// block of the account named account (accounts { A { jetstream: ... } }).
// It reports through d as a BlockFunc does.
type AccountBlockFunc func(d *confparse.Decoder, account string, e *confparse.Entry)

// Parser applies configuration files: the core's keys plus the blocks
// that modules registered. The zero Parser is ready and knows only the
// core's keys; any other key is an unknown field. A Parser is not safe for
// concurrent use while blocks are registered; Apply and ParseFile may run
// concurrently once registration is over, if the registered functions
// allow it.
type Parser struct {
	blocks  map[string]BlockFunc
	account map[string]AccountBlockFunc
}

// Register has f parse the top-level key (matched case-insensitively, as
// every key is; register each alias). It panics when key is the core's or
// already registered: that is a composition mistake, not a file's.
func (p *Parser) Register(key string, f BlockFunc) {
	register(&p.blocks, coreKeys, "key", key, f)
}

// RegisterAccount has f parse key inside every account's block. It panics
// when key is the core's or already registered.
func (p *Parser) RegisterAccount(key string, f AccountBlockFunc) {
	register(&p.account, coreAccountKeys, "account key", key, f)
}

// register adds f under the lower-cased key to *m, or panics when key is
// in core or already in *m.
func register[F any](m *map[string]F, core map[string]bool, what, key string, f F) {
	key = strings.ToLower(key)
	if core[key] {
		panic(fmt.Sprintf("config: %s %q belongs to the core", what, key))
	}
	if _, dup := (*m)[key]; dup {
		panic(fmt.Sprintf("config: %s %q registered twice", what, key))
	}
	if *m == nil {
		*m = make(map[string]F)
	}
	(*m)[key] = f
}

// ParseFile parses the file at path with confparse and applies it to
// Default(). Warnings do not stop the parse; err is a confparse.ErrorList
// holding every error found, the registered blocks' included, in the
// order of the file.
func (p *Parser) ParseFile(path string, po confparse.Options) (cfg *Config, warnings confparse.ErrorList, err error) {
	m, err := confparse.ParseFileWithOptions(path, po)
	if err != nil {
		return nil, nil, err
	}
	c := Default()
	warnings, err = p.Apply(&c, m)
	if err != nil {
		return nil, warnings, err
	}
	return &c, warnings, nil
}

// NotSupported is a BlockFunc that refuses its key as a feature natsd does
// not have yet ("<key> is not supported yet", wrapping ErrNotSupported):
// an error, since the user expects the feature on.
func NotSupported(d *confparse.Decoder, e *confparse.Entry) {
	d.Errorf(e.KeyPos, ErrNotSupported, "%s is not supported yet", e.Key)
}

// Ignored is a BlockFunc that accepts its key with a warning ("<key> is
// not supported yet and is ignored"), for keys that only tune behaviour
// natsd does not have.
func Ignored(d *confparse.Decoder, e *confparse.Entry) {
	d.Warnf(e.KeyPos, "%s is not supported yet and is ignored", e.Key)
}

// NotSupportedInAccount is an AccountBlockFunc that refuses its key
// ("account <name>: <key> is not supported yet", wrapping
// ErrNotSupported).
func NotSupportedInAccount(d *confparse.Decoder, account string, e *confparse.Entry) {
	d.Errorf(e.KeyPos, ErrNotSupported, "account %s: %s is not supported yet", account, e.Key)
}

// coreUnsupported are nats-server's top-level keys for features of the
// core natsd does not have yet: errors, since the feature is expected on.
// Other modules' keys are theirs to register.
const coreUnsupported = `
	ocsp ocsp_cache allow_non_tls
	proxy_protocol proxies
	max_sub_tokens max_subscription_tokens`

// coreIgnored are nats-server's top-level keys that only tune behaviour
// the core does not have; they are accepted with a warning.
const coreIgnored = `trace_headers prof_block_rate`

// coreKeys are the top-level keys Apply handles itself; Register refuses
// them.
var coreKeys = keySet(coreUnsupported + coreIgnored + operatorKeys + operatorUnsupported + `
	listen http http_port monitor_port https https_port http_base_path
	max_closed_clients host net port client_advertise server_name server_tags
	max_connections max_conn max_subscriptions max_subs max_payload
	max_control_line max_pending ping_interval ping_max write_deadline
	max_unauthenticated_memory max_unauthenticated_conn_memory
	lame_duck_duration lame_duck_grace_period no_header_support
	no_fast_producer_stall disable_sublist_cache no_sublist_cache
	no_system_account system_account system accounts debug trace
	trace_verbose logtime logtime_utc logfile log_file logfile_size_limit
	log_size_limit logfile_max_num log_max_num syslog remote_syslog
	max_traced_msg_len pidfile pid_file ports_file_dir mappings maps
	authorization tls no_auth_user
	server_metadata feature_flags write_timeout prof_port`)

// coreAccountUnsupported are the keys of an account that belong to the
// core and that natsd does not implement yet.
const coreAccountUnsupported = `nkey`

// coreAccountKeys are the account keys Apply handles itself.
var coreAccountKeys = keySet(coreAccountUnsupported + `
	users default_permissions default_permission limits exports imports
	msg_trace trace_dest
	mappings maps max_connections max_conn max_subscriptions max_subs
	max_payload max_pay max_leafnodes max_leafs`)

var (
	unsupportedKeys        = keySet(coreUnsupported)
	ignoredKeys            = keySet(coreIgnored)
	accountUnsupportedKeys = keySet(coreAccountUnsupported)
)

func keySet(s string) map[string]bool {
	m := make(map[string]bool)
	for _, k := range strings.Fields(s) {
		m[k] = true
	}
	return m
}

// other handles a top-level key the core's switch does not: a registered
// block, one of the core's unsupported or ignored keys, or an unknown
// field.
func (a *applier) other(key string, e *confparse.Entry) {
	switch {
	case a.p != nil && a.p.blocks[key] != nil:
		a.p.blocks[key](&a.Decoder, e)
	case a.operatorKey(key, e):
	case unsupportedKeys[key] || operatorUnsupportedKeys[key]:
		NotSupported(&a.Decoder, e)
	case ignoredKeys[key]:
		Ignored(&a.Decoder, e)
	case !e.UsedAsVariable:
		a.Errorf(e.KeyPos, ErrUnknownField, "unknown field %q", e.Key)
	}
}

// otherAccountKey handles an account key the core's switch does not.
func (a *applier) otherAccountKey(account, key string, e *confparse.Entry) {
	switch {
	case a.p != nil && a.p.account[key] != nil:
		a.p.account[key](&a.Decoder, account, e)
	case accountUnsupportedKeys[key]:
		NotSupportedInAccount(&a.Decoder, account, e)
	default:
		a.Errorf(e.KeyPos, ErrUnknownField, "unknown field %q in account %s", e.Key, account)
	}
}
