package config

import (
	"crypto/tls"
	"os"
	"regexp"
	"strings"

	"natsd.dev/auth"
	"natsd.dev/confparse"
	"natsd.dev/server"
	"natsd.dev/server/resolver"
)

// The operator mode keys (operator.go): operator (and its aliases),
// trusted_keys, resolver with resolver_preload, default_sentinel. They
// are gathered while the file is read and turned into
// Options.Operator by finishOperator once it is read whole.

// operatorKeys are the top-level keys of operator mode Apply handles.
const operatorKeys = `operator operators root roots root_operator root_operators
	trusted trusted_keys resolver account_resolver accounts_resolver resolver_preload
	default_sentinel resolver_tls resolver_pinned_accounts`

// operatorUnsupported are operator mode keys natsd does not have yet.
const operatorUnsupported = ``

var operatorUnsupportedKeys = keySet(operatorUnsupported)

// operatorState is what the operator keys leave for finishOperator.
type operatorState struct {
	operators   []*auth.Operator
	trustedKeys []string
	resolver    *confparse.Entry
	memory      bool
	preload     map[string]string
	preloadPos  map[string]confparse.Pos
	sentinel    string
	seen        bool
	// url is the URL resolver's base URL; dir the directory resolver's
	// options (dirType "full" or "cache"); tls the resolver_tls block.
	url     string
	dirType string
	dirOpts resolver.Options
	tls     *tls.Config
	pinned  []string
}

// operatorKey applies one operator mode key; it reports whether key is
// one.
func (a *applier) operatorKey(key string, e *confparse.Entry) bool {
	st := &a.op
	v := e.Value
	switch key {
	case "operator", "operators", "root", "roots", "root_operator", "root_operators":
		st.seen = true
		for _, s := range a.stringOrList(key, v) {
			op, err := auth.ReadOperator(s.Str)
			if err != nil {
				a.Errorf(s.Pos, ErrBadValue, "error parsing operator JWT: %v", strings.TrimPrefix(err.Error(), "error parsing operator JWT: "))
				continue
			}
			st.operators = append(st.operators, op)
		}
	case "trusted", "trusted_keys":
		st.seen = true
		for _, s := range a.stringOrList(key, v) {
			if _, err := auth.NewTrust(nil, []string{s.Str}); err != nil {
				a.Errorf(s.Pos, ErrBadValue, "%v", err)
				continue
			}
			st.trustedKeys = append(st.trustedKeys, s.Str)
		}
	case "resolver", "account_resolver", "accounts_resolver":
		st.resolver = e
		st.memory, st.url, st.dirType = false, "", ""
		switch v.Kind {
		case confparse.KindString:
			str := strings.TrimSpace(v.Str)
			if m := memResolverRe.FindStringSubmatch(str); m != nil {
				st.memory = true
			} else if m := urlResolverRe.FindStringSubmatch(str); m != nil && m[1] != "" {
				st.url = m[1]
			} else {
				a.Errorf(v.Pos, ErrBadValue, "error parsing account resolver, should be MEM or  URL(\"url\")")
			}
		case confparse.KindMap:
			a.dirResolver(v)
		default:
			a.Errorf(v.Pos, ErrBadValue, "error parsing operator resolver, wrong type %s", v.Kind)
		}
	case "resolver_tls":
		tb, errs := ParseDialTLSBlock(key, v)
		if len(errs) > 0 {
			a.Errors = append(a.Errors, errs...)
			return true
		}
		cfg := tb.Config.Clone()
		if cfg.RootCAs == nil && cfg.ClientCAs != nil {
			cfg.RootCAs, cfg.ClientCAs = cfg.ClientCAs, nil
		}
		st.tls = cfg
	case "resolver_pinned_accounts":
		for _, s := range a.stringOrList(key, v) {
			if !auth.IsAccountKey(s.Str) {
				a.Errorf(s.Pos, ErrBadValue, "error parsing resolver_pinned_accounts: %q is not a valid public account nkey", s.Str)
				continue
			}
			st.pinned = append(st.pinned, s.Str)
		}
	case "resolver_preload":
		if v.Kind != confparse.KindMap {
			a.TypeError(key, "map", v)
			return true
		}
		if st.preload == nil {
			st.preload, st.preloadPos = map[string]string{}, map[string]confparse.Pos{}
		}
		for i := range v.Map.Entries {
			pe := &v.Map.Entries[i]
			if pe.Value.Kind != confparse.KindString {
				a.TypeError(pe.Key, "string", pe.Value)
				continue
			}
			st.preload[pe.Key] = strings.TrimSpace(pe.Value.Str)
			st.preloadPos[pe.Key] = pe.Value.Pos
		}
	case "default_sentinel":
		a.Str(key, v, &st.sentinel)
	default:
		return false
	}
	return true
}

// stringOrList reads a string or a list of strings.
func (a *applier) stringOrList(key string, v *confparse.Value) []*confparse.Value {
	switch v.Kind {
	case confparse.KindString:
		return []*confparse.Value{v}
	case confparse.KindArray:
		var out []*confparse.Value
		for _, it := range v.Array {
			if it.Kind != confparse.KindString {
				a.TypeError(key, "string", it)
				continue
			}
			out = append(out, it)
		}
		return out
	}
	a.TypeError(key, "string or array of strings", v)
	return nil
}

// finishOperator sets Options.Operator from the operator keys: the
// server itself refuses the combinations upstream refuses (users,
// accounts, no resolver). Preloaded account JWTs are checked against the
// operators here, with upstream's text.
func (a *applier) finishOperator() {
	st := &a.op
	if !st.seen {
		if st.resolver != nil || st.preload != nil {
			// Upstream ignores a resolver without operators; so do we.
			a.Warnf(st.resolverPos(), "resolver is ignored without operator or trusted_keys")
		}
		return
	}
	if st.preload != nil {
		trust, err := auth.NewTrust(st.operators, st.trustedKeys)
		if err == nil {
			for pub, tok := range st.preload {
				ac, err := trust.DecodeAccount(tok)
				if err == nil && ac.PublicKey != pub {
					err = auth.ErrBadJWT
				}
				if err != nil {
					a.Errorf(st.preloadPos[pub], ErrBadValue, "preload account error for %q: %v", pub, err)
				}
			}
		}
	}
	op := &server.OperatorOptions{Operators: st.operators, TrustedKeys: st.trustedKeys, DefaultSentinel: st.sentinel,
		PinnedAccounts: st.pinned}
	switch {
	case len(a.Errors) > 0:
		// A bad file starts no resolver (no directory is created).
	case st.url != "":
		r, err := resolver.NewURL(st.url, st.tls, 0)
		if err != nil {
			a.Errorf(st.resolverPos(), ErrBadValue, "%v", err)
		} else {
			op.Resolver = r
		}
	case st.dirType != "":
		newRes := resolver.NewFull
		if st.dirType == "cache" {
			newRes = resolver.NewCache
		}
		r, err := newRes(st.dirOpts)
		if err != nil {
			a.Errorf(st.resolverPos(), ErrBadValue, "%v", err)
			break
		}
		// resolver_preload seeds the directory (a newer JWT there stays).
		for pub, tok := range st.preload {
			if _, err := r.Store().SaveIfNewer(pub, tok); err != nil {
				a.Errorf(st.preloadPos[pub], ErrBadValue, "preload account error for %q: %v", pub, err)
			}
		}
		op.Resolver = r
	}
	if st.memory {
		op.Resolver = resolver.NewMemory(st.preload)
	}
	a.c.Options.Operator = op
}

// The string forms of the resolver key, as upstream matches them.
var (
	memResolverRe = regexp.MustCompile(`(?i)^(MEM|MEMORY)\s*$`)
	urlResolverRe = regexp.MustCompile(`(?i)^URL\(\s*"?([^\s"]*)"?\s*\)\s*$`)
)

// dirResolver reads the resolver {} block of the full and cache
// resolvers, with upstream's checks and texts.
func (a *applier) dirResolver(v *confparse.Value) {
	st := &a.op
	o := resolver.Options{}
	var typ string
	var del, hdel, hdelSet bool
	for i := range v.Map.Entries {
		e := &v.Map.Entries[i]
		switch strings.ToLower(e.Key) {
		case "type":
			a.Str(e.Key, e.Value, &typ)
		case "dir":
			a.Str(e.Key, e.Value, &o.Dir)
		case "allow_delete":
			a.Bool(e.Key, e.Value, &del)
		case "hard_delete":
			hdelSet = a.Bool(e.Key, e.Value, &hdel)
		case "limit":
			a.Int64(e.Key, e.Value, &o.Limit)
		case "ttl":
			a.Duration(e.Key, e.Value, &o.TTL)
		case "interval":
			a.Duration(e.Key, e.Value, &o.Interval)
		case "timeout":
			a.Duration(e.Key, e.Value, &o.Timeout)
		default:
			a.Warnf(e.KeyPos, "unknown field %q in resolver", e.Key)
		}
	}
	pos := v.Pos
	if o.Dir == "" {
		a.Errorf(pos, ErrBadValue, "dir has no value and needs to point to a directory")
		return
	}
	if info, err := os.Stat(o.Dir); err == nil && (!info.IsDir() || info.Mode().Perm()&(1<<7) == 0) {
		a.Errorf(pos, ErrBadValue, "dir needs to point to an accessible directory")
		return
	}
	switch strings.ToUpper(typ) {
	case "CACHE":
		if o.Interval != 0 {
			a.Errorf(pos, ErrBadValue, "CACHE does not accept sync")
		}
		if del {
			a.Errorf(pos, ErrBadValue, "CACHE does not accept allow_delete")
		}
		if hdelSet {
			a.Errorf(pos, ErrBadValue, "CACHE does not accept hard_delete")
		}
		st.dirType = "cache"
	case "FULL":
		if o.TTL != 0 {
			a.Errorf(pos, ErrBadValue, "FULL does not accept ttl")
		}
		if hdelSet && !del {
			a.Errorf(pos, ErrBadValue, "hard_delete has no effect without delete")
		}
		if del {
			o.Delete = resolver.RenameDeleted
			if hdel {
				o.Delete = resolver.HardDelete
			}
		}
		st.dirType = "full"
	case "MEM", "MEMORY":
		st.memory = true
		return
	default:
		a.Errorf(pos, ErrBadValue, "error parsing account resolver, should be MEM or  URL(\"url\")")
		return
	}
	st.dirOpts = o
}

func (st *operatorState) resolverPos() confparse.Pos {
	if st.resolver != nil {
		return st.resolver.KeyPos
	}
	return confparse.Pos{}
}
