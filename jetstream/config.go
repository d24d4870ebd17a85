package jetstream

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"natsd.dev/confparse"
	"natsd.dev/jetstream/api"
	"natsd.dev/server"
	"natsd.dev/server/config"
	"natsd.dev/sublist"
)

// ErrSystemAccount is what ResolveAccounts returns (wrapped, with the
// account's name) when the configuration enables JetStream on the system
// account; the text is upstream's, which refuses to start then too.
var ErrSystemAccount = errors.New("Not allowed to enable JetStream on the system account")

// RegisterConfig has p parse nats-server's JetStream keys into dst and
// *enabled, as upstream reads them:
//
//   - jetstream at the top level: a boolean, "enabled"/"enable" or
//     "disabled"/"disable", or a block (which enables JetStream unless its
//     enabled key says false). *enabled says whether JetStream is on.
//   - store_dir (and storedir) at the top level, the same as the block's;
//     giving both is an error ("Duplicate 'store_dir' configuration").
//   - default_js_domain: a map of account name to JetStream domain, in
//     dst.DefaultDomains.
//   - jetstream inside an account's block: a boolean, "enabled" or
//     "disabled", or a block of limits (max_mem, max_file, max_streams,
//     ...). An account that enables JetStream gets an entry in
//     dst.Accounts (a limit the block leaves out is -1, unlimited); one
//     that disables it gets none.
//
// dst.Accounts stays nil when no account enables JetStream; call
// ResolveAccounts once the whole configuration is known to settle what
// that means. Encryption at rest (key, prev_key, tpm) is refused as not
// supported yet, so that nobody believes the data is encrypted; keys that
// only tune what natsd does not have (extension_hint, meta_compact, ...)
// are accepted with a warning. Every problem is reported through the
// parse's decoder with its file:line:col, unknown keys included.
//
// Register once per parse, with a fresh dst and enabled: the functions
// registered write into them while the file is applied.
func RegisterConfig(p *config.Parser, dst *Options, enabled *bool) {
	c := &confState{o: dst, enabled: enabled}
	p.Register("jetstream", c.block)
	p.Register("store_dir", c.topStoreDir)
	p.Register("storedir", c.topStoreDir)
	p.Register("default_js_domain", c.defaultDomains)
	p.RegisterAccount("jetstream", c.account)
}

// ResolveAccounts settles o.Accounts once the whole configuration is
// known: accounts are the accounts it defines (server.Options.Accounts)
// and systemAccount the system account ("" for none). As upstream:
//
//   - JetStream on the system account is refused (ErrSystemAccount);
//   - when the configuration defines accounts besides the global and the
//     system account and none of them enables JetStream, none has it:
//     o.Accounts becomes an empty map. Only a configuration with the
//     global account alone leaves nil, which gives every account but the
//     system account JetStream.
func (o *Options) ResolveAccounts(accounts []string, systemAccount string) error {
	if _, ok := o.Accounts[systemAccount]; ok && systemAccount != "" {
		return fmt.Errorf("account %s: %w", systemAccount, ErrSystemAccount)
	}
	if o.Accounts != nil {
		return nil
	}
	for _, a := range accounts {
		if a != server.GlobalAccountName && a != systemAccount {
			o.Accounts = map[string]api.AccountLimits{}
			break
		}
	}
	return nil
}

// confState is one parse's JetStream configuration under construction.
type confState struct {
	o       *Options
	enabled *bool
	// storeDir is the first store_dir given, top level or in the block,
	// for upstream's duplicate check.
	storeDir *confparse.Entry
}

// topStoreDir parses the top-level store_dir.
func (c *confState) topStoreDir(d *confparse.Decoder, e *confparse.Entry) {
	c.storeDirKey(d, e, e.Key)
}

// storeDirKey parses a store_dir key, top level or in the block: only one
// may be given.
func (c *confState) storeDirKey(d *confparse.Decoder, e *confparse.Entry, name string) {
	if c.storeDir != nil {
		d.Errorf(e.KeyPos, config.ErrBadValue, "Duplicate 'store_dir' configuration")
		return
	}
	if d.Str(name, e.Value, &c.o.StoreDir) {
		c.storeDir = e
	}
}

// block parses the top-level jetstream key.
func (c *confState) block(d *confparse.Decoder, e *confparse.Entry) {
	v := e.Value
	switch v.Kind {
	case confparse.KindBool:
		*c.enabled = v.Bool
		return
	case confparse.KindString:
		if on, ok := enabledString(d, v); ok {
			*c.enabled = on
		}
		return
	case confparse.KindMap:
	default:
		d.TypeError(e.Key, "a map, a boolean or a string", v)
		return
	}
	on := true
	o := c.o
	for i := range v.Map.Entries {
		me := &v.Map.Entries[i]
		mv := me.Value
		key := strings.ToLower(me.Key)
		name := "jetstream " + key
		switch key {
		case "enabled", "enable":
			d.Bool(name, mv, &on)
		case "store_dir", "storedir", "store":
			c.storeDirKey(d, me, name)
		case "max_memory_store", "max_mem_store", "max_mem":
			// Upstream names the key so in its messages.
			storageSize(d, "max_mem_store", mv, &o.MaxMemory)
		case "max_file_store", "max_file":
			storageSize(d, "max_file_store", mv, &o.MaxStore)
		case "domain":
			if d.Str(name, mv, &o.Domain) {
				checkDomain(d, mv)
			}
		case "sync_interval", "sync":
			syncInterval(d, name, mv, &o.SyncInterval)
		case "unique_tag":
			if d.Str(name, mv, &o.UniqueTag) {
				o.UniqueTag = strings.ToLower(strings.TrimSpace(o.UniqueTag))
			}
		case "strict":
			var strict bool
			if d.Bool(name, mv, &strict) {
				o.NonStrict = !strict
			}
		case "max_outstanding_catchup":
			storageSize(d, key, mv, &o.MaxCatchup)
		case "max_buffered_size":
			storageSize(d, key, mv, &o.MaxBufferedSize)
		case "max_buffered_msgs":
			d.Int(name, mv, &o.MaxBufferedMsgs)
		case "request_queue_limit":
			d.Int(name, mv, &o.RequestQueueLimit)
		case "limits":
			serverLimits(d, name, mv, &o.Limits)
		case "key", "ek", "encryption_key", "prev_key", "prev_ek", "prev_encryption_key":
			// Refused: accepting the key would let people believe their
			// streams are encrypted at rest. An empty key asks for no
			// encryption, as upstream.
			var k string
			if d.Str(name, mv, &k) && k != "" {
				d.Errorf(me.KeyPos, config.ErrNotSupported, "jetstream encryption (%s) is not supported yet", me.Key)
			}
		case "cipher":
			cipher(d, name, mv)
		case "tpm":
			d.Errorf(me.KeyPos, config.ErrNotSupported, "jetstream tpm (encryption keys in a TPM) is not supported yet")
		case "max_concurrent_io":
			concurrentIO(d, me.KeyPos, mv)
		case "extension_hint", "info_queue_limit", "meta_compact", "meta_compact_size", "meta_compact_sync":
			d.Warnf(me.KeyPos, "jetstream %s is not supported yet and is ignored", me.Key)
		default:
			if !me.UsedAsVariable {
				d.Errorf(me.KeyPos, config.ErrUnknownField, "unknown field %q", me.Key)
			}
		}
	}
	*c.enabled = on
}

// concurrentIO checks max_concurrent_io as upstream does (an integer from
// 4 to 8192, size suffixes allowed) and warns that natsd ignores it: its
// stores have no disk I/O queue to bound.
func concurrentIO(d *confparse.Decoder, pos confparse.Pos, v *confparse.Value) {
	if v.Kind == confparse.KindInt && v.Int >= 4 && v.Int <= 8192 {
		d.Warnf(pos, "jetstream max_concurrent_io is not supported yet and is ignored")
		return
	}
	var got string
	switch v.Kind {
	case confparse.KindString:
		got = v.Str
	case confparse.KindInt:
		got = strconv.FormatInt(v.Int, 10)
	case confparse.KindFloat:
		got = strconv.FormatFloat(v.Float, 'g', -1, 64)
	case confparse.KindBool:
		got = strconv.FormatBool(v.Bool)
	default:
		got = v.Kind.String()
	}
	d.Errorf(pos, config.ErrBadValue, "Expected an absolute size for %q between 4 and 8192, got %s", "max_concurrent_io", got)
}

// enabledString reads upstream's string forms of a JetStream switch.
func enabledString(d *confparse.Decoder, v *confparse.Value) (on, ok bool) {
	switch strings.ToLower(v.Str) {
	case "enabled", "enable":
		return true, true
	case "disabled", "disable":
		return false, true
	}
	d.Errorf(v.Pos, config.ErrBadValue, "Expected 'enabled' or 'disabled' for string value, got '%s'", v.Str)
	return false, false
}

// storageSize reads a size as upstream's jetstream block does: an integer
// (the file's size suffixes already applied) or a string such as "2G",
// whose one-letter suffix K, M, G or T is a power of 1024; "" is 0.
func storageSize(d *confparse.Decoder, name string, v *confparse.Value, dst *int64) bool {
	switch v.Kind {
	case confparse.KindInt:
		*dst = v.Int
		return true
	case confparse.KindString:
	default:
		d.TypeError(name, "a size", v)
		return false
	}
	s := v.Str
	if s == "" {
		*dst = 0
		return true
	}
	shift := map[byte]uint{'K': 10, 'M': 20, 'G': 30, 'T': 40}[s[len(s)-1]]
	n, err := strconv.ParseInt(s[:len(s)-1], 10, 64)
	switch {
	case shift == 0:
		d.Errorf(v.Pos, config.ErrBadValue, "%s sizes defined as strings must end in K, M, G, T", name)
		return false
	case err != nil || n > 1<<(63-shift)-1 || n < -(1<<(63-shift)):
		d.Errorf(v.Pos, config.ErrBadValue, "%s invalid size %q", name, s)
		return false
	}
	*dst = n << shift
	return true
}

// checkDomain refuses a domain that cannot be a token of the API's
// subjects, with upstream's messages (which upstream gives at start).
func checkDomain(d *confparse.Decoder, v *confparse.Value) {
	dom := v.Str
	switch {
	case dom == "":
	case strings.ContainsAny(dom, ".*>"):
		d.Errorf(v.Pos, config.ErrBadValue, "invalid domain name: may not contain ., * or >")
	case !sublist.ValidSubject("$JS." + dom + ".API.>"):
		d.Errorf(v.Pos, config.ErrBadValue, "invalid domain name: derived %q is not a valid subject", "$JS."+dom+".API.>")
	}
}

// syncInterval reads sync_interval: "always", which is natsd's default
// (0: an acknowledgement waits for the fsync that covers it), or a
// duration (an integer is seconds, with upstream's warning).
func syncInterval(d *confparse.Decoder, name string, v *confparse.Value, dst *time.Duration) {
	if v.Kind == confparse.KindString && strings.EqualFold(v.Str, "always") {
		*dst = 0
		return
	}
	var t time.Duration
	if !d.Duration(name, v, &t) {
		return
	}
	if t < 0 {
		d.Errorf(v.Pos, config.ErrBadValue, "%s must not be negative", name)
		return
	}
	*dst = t
}

// cipher checks the cipher's name as upstream does. A cipher alone
// encrypts nothing (upstream needs a key as well, which is refused), so
// a valid one is accepted with a warning.
func cipher(d *confparse.Decoder, name string, v *confparse.Value) {
	var s string
	if !d.Str(name, v, &s) {
		return
	}
	switch strings.ToLower(s) {
	case "chacha", "chachapoly", "aes":
		d.Warnf(v.Pos, "%s has no effect: jetstream encryption is not supported yet", name)
	default:
		d.Errorf(v.Pos, config.ErrBadValue, "Unknown cipher type: %q", s)
	}
}

// serverLimits parses jetstream { limits {} }.
func serverLimits(d *confparse.Decoder, name string, v *confparse.Value, l *ServerLimits) {
	if v.Kind != confparse.KindMap {
		d.TypeError(name, "a map", v)
		return
	}
	for i := range v.Map.Entries {
		me := &v.Map.Entries[i]
		mv := me.Value
		key := strings.ToLower(me.Key)
		kname := name + " " + key
		switch key {
		case "max_ack_pending":
			d.Int(kname, mv, &l.MaxAckPending)
		case "max_ha_assets":
			d.Int(kname, mv, &l.MaxHAAssets)
		case "max_request_batch":
			d.Int(kname, mv, &l.MaxRequestBatch)
		case "duplicate_window":
			d.StrictDuration(kname, mv, &l.Duplicates)
		default:
			if !me.UsedAsVariable {
				d.Errorf(me.KeyPos, config.ErrUnknownField, "unknown field %q", me.Key)
			}
		}
	}
}

// defaultDomains parses default_js_domain: account name -> domain.
func (c *confState) defaultDomains(d *confparse.Decoder, e *confparse.Entry) {
	v := e.Value
	if v.Kind != confparse.KindMap {
		d.TypeError(e.Key, "a map of account names to domains", v)
		return
	}
	for i := range v.Map.Entries {
		me := &v.Map.Entries[i]
		var dom string
		if !d.Str(e.Key+" "+me.Key, me.Value, &dom) {
			continue
		}
		if c.o.DefaultDomains == nil {
			c.o.DefaultDomains = make(map[string]string)
		}
		c.o.DefaultDomains[me.Key] = dom
	}
}

// account parses the jetstream key of an account's block.
func (c *confState) account(d *confparse.Decoder, account string, e *confparse.Entry) {
	v := e.Value
	on, lim := false, Unlimited
	switch v.Kind {
	case confparse.KindBool:
		on = v.Bool
	case confparse.KindString:
		var ok bool
		if on, ok = enabledString(d, v); !ok {
			return
		}
	case confparse.KindMap:
		on = true
		if !accountLimits(d, account, v.Map, &lim) {
			return
		}
	default:
		d.TypeError("account "+account+" jetstream", "a map, a boolean or a string", v)
		return
	}
	if !on {
		delete(c.o.Accounts, account)
		return
	}
	if c.o.Accounts == nil {
		c.o.Accounts = make(map[string]api.AccountLimits)
	}
	c.o.Accounts[account] = lim
}

// accountLimits parses an account's jetstream {} block of limits with
// upstream's keys and aliases; it reports whether all were valid.
func accountLimits(d *confparse.Decoder, account string, m *confparse.Map, l *api.AccountLimits) bool {
	n := len(d.Errors)
	for i := range m.Entries {
		me := &m.Entries[i]
		mv := me.Value
		key := strings.ToLower(me.Key)
		name := "account " + account + " jetstream " + key
		switch key {
		case "max_memory", "max_mem", "mem", "memory":
			d.Int64(name, mv, &l.MaxMemory)
		case "max_store", "max_file", "max_disk", "store", "disk":
			d.Int64(name, mv, &l.MaxStore)
		case "max_streams", "streams":
			d.Int(name, mv, &l.MaxStreams)
		case "max_consumers", "consumers":
			d.Int(name, mv, &l.MaxConsumers)
		case "max_bytes_required", "max_stream_bytes", "max_bytes":
			d.Bool(name, mv, &l.MaxBytesRequired)
		case "mem_max_stream_bytes", "memory_max_stream_bytes":
			d.Int64(name, mv, &l.MemoryMaxStreamBytes)
		case "disk_max_stream_bytes", "store_max_stream_bytes":
			d.Int64(name, mv, &l.StoreMaxStreamBytes)
		case "max_ack_pending":
			d.Int(name, mv, &l.MaxAckPending)
		case "cluster_traffic":
			// Which account replication traffic is charged to: only
			// meaningful in a JetStream cluster, which natsd does not
			// have; checked and accepted.
			var s string
			if d.Str(name, mv, &s) && s != "system" && s != "owner" {
				d.Errorf(mv.Pos, config.ErrBadValue, "Expected 'system' or 'owner' string value for %q, got %s", me.Key, s)
			}
		default:
			if !me.UsedAsVariable {
				d.Errorf(me.KeyPos, config.ErrUnknownField, "unknown field %q", me.Key)
			}
		}
	}
	return len(d.Errors) == n
}
