package config

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"natsd.dev/auth"
	"natsd.dev/confparse"
	"natsd.dev/server"
	"natsd.dev/sublist"
)

// accountState collects the accounts {} block and the account keys of
// authorization users while a file is applied; finishAccounts checks and
// applies them once every key has been read, since the blocks may come in
// any order.
type accountState struct {
	accUsers []auth.User              // users of the accounts {} block, Account set
	accPos   map[string]confparse.Pos // declared accounts, at their key
	userRefs []userAccountRef
	sysAcc   *confparse.Entry // the system_account entry
	exportImportState
}

// userAccountRef is the account key of an authorization {} user.
type userAccountRef struct {
	user, nkey, account string
	pos                 confparse.Pos
}

// takeUserAccounts returns a copy of the authorization map m without the
// account keys of its users, which auth does not know, and remembers them
// for finishAccounts. m itself is left alone.
func (a *applier) takeUserAccounts(m *confparse.Map) *confparse.Map {
	out := &confparse.Map{Entries: slices.Clone(m.Entries)}
	for i := range out.Entries {
		ue := &out.Entries[i]
		if !strings.EqualFold(ue.Key, "users") || ue.Value.Kind != confparse.KindArray {
			continue
		}
		arr := *ue.Value
		arr.Array = slices.Clone(arr.Array)
		for j, uv := range arr.Array {
			if uv.Kind != confparse.KindMap {
				continue
			}
			user := *uv
			user.Map = &confparse.Map{Entries: slices.DeleteFunc(slices.Clone(uv.Map.Entries), func(e confparse.Entry) bool {
				return strings.EqualFold(e.Key, "account")
			})}
			if len(user.Map.Entries) != len(uv.Map.Entries) {
				a.userAccountRef(uv.Map)
				arr.Array[j] = &user
			}
		}
		ue.Value = &arr
	}
	return out
}

// userAccountRef remembers the account key of the user map m.
func (a *applier) userAccountRef(m *confparse.Map) {
	ref := userAccountRef{}
	for i := range m.Entries {
		e := &m.Entries[i]
		switch strings.ToLower(e.Key) {
		case "user", "username":
			ref.user = e.Value.Str
		case "nkey":
			ref.nkey = e.Value.Str
		case "account":
			if a.Str("account", e.Value, &ref.account) {
				ref.pos = e.Value.Pos
			}
		}
	}
	if ref.account != "" {
		a.userRefs = append(a.userRefs, ref)
	}
}

// accounts parses the accounts {} block: one map per account, whose users
// (and default_permissions) are parsed with auth's parser.
func (a *applier) accounts(e *confparse.Entry) {
	v := e.Value
	if v.Kind != confparse.KindMap {
		a.TypeError(e.Key, "a map", v)
		return
	}
	if a.accPos == nil {
		a.accPos = make(map[string]confparse.Pos)
	}
	o := &a.c.Options
	for i := range v.Map.Entries {
		ae := &v.Map.Entries[i]
		name := ae.Key
		if _, dup := a.accPos[name]; dup {
			a.Errorf(ae.KeyPos, ErrBadValue, "duplicate account %q", name)
			continue
		}
		if name == server.GlobalAccountName {
			a.Errorf(ae.KeyPos, ErrBadValue, "account name %q is reserved for the global account", name)
			continue
		}
		a.accPos[name] = ae.KeyPos
		o.Accounts = append(o.Accounts, name)
		if ae.Value.Kind != confparse.KindMap {
			a.TypeError("account "+name, "a map", ae.Value)
			continue
		}
		var users []auth.User
		var perms *auth.Permissions
		for j := range ae.Value.Map.Entries {
			ke := &ae.Value.Map.Entries[j]
			key := strings.ToLower(ke.Key)
			switch {
			case key == "users":
				us, err := auth.ParseUsers(ke.Value)
				a.authErrs(ke.Value, err)
				users = append(users, us...)
			case key == "default_permissions" || key == "default_permission":
				p, err := auth.ParsePermissions(ke.Value)
				a.authErrs(ke.Value, err)
				perms = p
			case key == "limits":
				a.accountLimits(name, ke.Value)
			case accountLimitKeys[key] != "":
				a.accountLimit(name, ke)
			case key == "exports":
				a.exports(name, ke.Value)
			case key == "imports":
				a.imports(name, ke.Value)
			case key == "mappings" || key == "maps":
				a.mappings(name, ke.Value)
			case key == "msg_trace" || key == "trace_dest":
				a.msgTrace(name, ke)
			default:
				a.otherAccountKey(name, key, ke)
			}
		}
		for k := range users {
			users[k].Account = name
			if users[k].Permissions == nil {
				users[k].Permissions = perms
			}
		}
		a.accUsers = append(a.accUsers, users...)
	}
}

// authErrs adds the errors of one of auth's parsers, which already carry
// file:line:col.
func (a *applier) authErrs(v *confparse.Value, err error) {
	if err == nil {
		return
	}
	var list confparse.ErrorList
	if errors.As(err, &list) {
		a.Errors = append(a.Errors, list...)
		return
	}
	a.Errorf(v.Pos, ErrBadValue, "%v", err)
}

// finishAccounts adds the account users to the authorization users,
// binds authorization users to the account they name, and checks that
// every named account exists.
func (a *applier) finishAccounts() {
	o := &a.c.Options
	exists := func(name string) bool {
		_, ok := a.accPos[name]
		return ok || name == server.GlobalAccountName
	}
	for _, ref := range a.userRefs {
		if !exists(ref.account) {
			a.Errorf(ref.pos, ErrBadValue, "account %q not defined", ref.account)
			continue
		}
		if o.Authorization == nil {
			continue // the block had errors
		}
		for i := range o.Authorization.Users {
			u := &o.Authorization.Users[i]
			if u.Account == "" && ((ref.nkey != "" && u.Nkey == ref.nkey) || (ref.nkey == "" && u.Name == ref.user)) {
				u.Account = ref.account
				break
			}
		}
	}
	a.finishLinks(func(name string) bool {
		return exists(name) || (name == o.SystemAccount && !o.NoSystemAccount)
	})
	if a.sysAcc != nil && o.SystemAccount == server.GlobalAccountName {
		a.Errorf(a.sysAcc.Value.Pos, ErrBadValue, "system_account cannot be the global account %q", server.GlobalAccountName)
	}
	if len(a.accUsers) == 0 {
		return
	}
	if o.Authorization == nil {
		o.Authorization = &auth.Config{}
	}
	users := a.accUsers
	if dp := o.Authorization.DefaultPermissions; dp != nil {
		for i := range users {
			if users[i].Permissions == nil {
				users[i].Permissions = dp
			}
		}
	}
	o.Authorization.Users = append(o.Authorization.Users, users...)
}

// accountLimitKeys maps the keys of an account's limits (in its limits {}
// block or directly in the account) to their canonical name.
var accountLimitKeys = map[string]string{
	"max_connections": "max_connections", "max_conn": "max_connections",
	"max_subscriptions": "max_subscriptions", "max_subs": "max_subscriptions",
	"max_payload": "max_payload", "max_pay": "max_payload",
	"max_leafnodes": "max_leafnodes", "max_leafs": "max_leafnodes",
}

// accountLimits parses an account's limits {} block.
func (a *applier) accountLimits(acc string, v *confparse.Value) {
	if v.Kind != confparse.KindMap {
		a.TypeError("limits", "a map", v)
		return
	}
	for i := range v.Map.Entries {
		le := &v.Map.Entries[i]
		if accountLimitKeys[strings.ToLower(le.Key)] == "" {
			a.Errorf(le.KeyPos, ErrUnknownField, "unknown field %q in account %s limits", le.Key, acc)
			continue
		}
		a.accountLimit(acc, le)
	}
}

// accountLimit applies one limit key of the account acc. -1, as upstream's
// "unlimited", is accepted as no limit.
func (a *applier) accountLimit(acc string, e *confparse.Entry) {
	key := accountLimitKeys[strings.ToLower(e.Key)]
	var n int
	if !a.Int(e.Key, e.Value, &n) {
		return
	}
	if n < -1 {
		a.Errorf(e.Value.Pos, ErrBadValue, "account %s: %s must be -1 (no limit) or more", acc, e.Key)
		return
	}
	n = max(n, 0)
	o := &a.c.Options
	if o.AccountLimits == nil {
		o.AccountLimits = make(map[string]server.AccountLimits)
	}
	l := o.AccountLimits[acc]
	switch key {
	case "max_connections":
		l.MaxConnections = n
	case "max_subscriptions":
		l.MaxSubscriptions = n
	case "max_payload":
		l.MaxPayload = n
	case "max_leafnodes":
		l.MaxLeafNodes = n
	}
	o.AccountLimits[acc] = l
}

// msgTrace parses an account's msg_trace: a destination subject, or
// { dest, sampling } with sampling an integer or a percentage ("50%")
// from 1 to 100; trace_dest is the destination alone. Texts are
// upstream's.
func (a *applier) msgTrace(acc string, e *confparse.Entry) {
	var t server.AccountMsgTrace
	samplingPos := e.KeyPos
	switch v := e.Value; v.Kind {
	case confparse.KindString:
		t.Dest = v.Str
	case confparse.KindMap:
		if e.Key == "trace_dest" {
			a.TypeError(e.Key, "a subject", v)
			return
		}
		for i := range v.Map.Entries {
			ke := &v.Map.Entries[i]
			switch strings.ToLower(ke.Key) {
			case "dest":
				if !a.Str(ke.Key, ke.Value, &t.Dest) {
					return
				}
			case "sampling":
				samplingPos = ke.Value.Pos
				n, ok := a.traceSampling(ke)
				if !ok {
					return
				}
				t.Sampling = n
			default:
				a.Errorf(ke.KeyPos, ErrUnknownField, "Unknown field %q parsing account message trace map/struct %q", ke.Key, e.Key)
				return
			}
		}
	default:
		a.TypeError(e.Key, "a subject or a map", v)
		return
	}
	if t.Dest == "" {
		if t.Sampling != 0 {
			a.Warnf(samplingPos, "Trace destination sampling ignored since no destination was set")
		}
		return
	}
	if !sublist.ValidLiteralSubject(t.Dest) {
		a.Errorf(e.Value.Pos, ErrBadValue, "Trace destination %q is not valid", t.Dest)
		return
	}
	o := &a.c.Options
	if o.AccountMsgTrace == nil {
		o.AccountMsgTrace = make(map[string]server.AccountMsgTrace)
	}
	o.AccountMsgTrace[acc] = t
}

// traceSampling parses msg_trace's sampling.
func (a *applier) traceSampling(e *confparse.Entry) (int, bool) {
	var n int64
	switch v := e.Value; v.Kind {
	case confparse.KindInt:
		n = v.Int
	case confparse.KindString:
		var err error
		if n, err = strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v.Str), "%"), 10, 32); err != nil {
			a.Errorf(v.Pos, ErrBadValue, "Invalid trace destination sampling value %q", v.Str)
			return 0, false
		}
	default:
		a.Errorf(v.Pos, ErrBadValue, "Trace destination sampling field %q should be an integer or a percentage, got %s", e.Key, v.Kind)
		return 0, false
	}
	if n < 1 || n > 100 {
		// Upstream's text, its typo included.
		a.Errorf(e.Value.Pos, ErrBadValue, "Ttrace destination sampling value %d is invalid, needs to be [1..100]", n)
		return 0, false
	}
	return int(n), true
}
