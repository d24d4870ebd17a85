package config

import (
	"strings"

	"natsd.dev/auth"
	"natsd.dev/confparse"
	"natsd.dev/server"
)

// The operator mode keys (operator.go): operator (and its aliases),
// trusted_keys, resolver with resolver_preload, default_sentinel. They
// are gathered while the file is read and turned into
// Options.Operator by finishOperator once it is read whole.

// operatorKeys are the top-level keys of operator mode Apply handles.
const operatorKeys = `operator operators root roots root_operator root_operators
	trusted trusted_keys resolver account_resolver accounts_resolver resolver_preload
	default_sentinel`

// operatorUnsupported are operator mode keys natsd does not have yet.
const operatorUnsupported = `resolver_tls resolver_pinned_accounts`

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
		str := strings.TrimSpace(v.Str)
		switch {
		case v.Kind == confparse.KindString && strings.EqualFold(str, "MEMORY"):
			st.memory = true
		case v.Kind == confparse.KindMap || (v.Kind == confparse.KindString && strings.HasPrefix(strings.ToUpper(str), "URL(")):
			a.Errorf(v.Pos, ErrNotSupported, "%s: only MEMORY is implemented, this resolver is not supported yet", e.Key)
		default:
			a.Errorf(v.Pos, ErrBadValue, "%s: expected MEMORY, URL(...) or a resolver map", e.Key)
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
	op := &server.OperatorOptions{Operators: st.operators, TrustedKeys: st.trustedKeys, DefaultSentinel: st.sentinel}
	if st.memory {
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
		op.Resolver = server.NewMemoryResolver(st.preload)
	}
	a.c.Options.Operator = op
}

func (st *operatorState) resolverPos() confparse.Pos {
	if st.resolver != nil {
		return st.resolver.KeyPos
	}
	return confparse.Pos{}
}
