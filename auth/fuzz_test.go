package auth_test

import (
	"reflect"
	"strings"
	"testing"

	"natsd.dev/auth"
	"natsd.dev/confparse"
	"natsd.dev/sublist"
)

// tokenMatch is the brute-force form of how upstream's trie matches a
// subscription filter (subject) against a permission entry (filter): the
// subject's tokens are taken literally, the filter's wildcards as such.
func tokenMatch(subject, filter string) bool {
	st, ft := strings.Split(subject, "."), strings.Split(filter, ".")
	for i, f := range ft {
		if f == ">" && i == len(ft)-1 {
			return len(st) > i
		}
		if i >= len(st) || (f != "*" && f != st[i]) {
			return false
		}
	}
	return len(st) == len(ft)
}

type entry struct{ subject, queue string }

func entries(list []string) []entry {
	var es []entry
	for _, s := range list {
		f := strings.Fields(s)
		e := entry{subject: f[0]}
		if len(f) > 1 {
			e.queue = f[1]
		}
		es = append(es, e)
	}
	return es
}

func queueOK(queue, name string) bool {
	return queue == name || (!sublist.IsLiteral(name) && sublist.IsSubsetMatch(queue, name))
}

// oracleSubscribe evaluates the subscribe rules documented on
// CanSubscribe by brute force.
func oracleSubscribe(sp *auth.SubjectPermission, subject, queue string) bool {
	if sp == nil {
		return true
	}
	if len(sp.Allow) > 0 {
		allowed, grouped, inGroup := false, false, false
		for _, e := range entries(sp.Allow) {
			if !sublist.IsSubsetMatch(subject, e.subject) {
				continue
			}
			if e.queue == "" {
				allowed = true
			} else {
				grouped = true
				inGroup = inGroup || queueOK(queue, e.queue)
			}
		}
		if queue != "" && grouped {
			allowed = inGroup
		}
		if !allowed {
			return false
		}
	}
	for _, e := range entries(sp.Deny) {
		if tokenMatch(subject, e.subject) && (e.queue == "" || (queue != "" && queueOK(queue, e.queue))) {
			return false
		}
	}
	return true
}

func oraclePublish(sp *auth.SubjectPermission, subject string) bool {
	if sp == nil {
		return true
	}
	if sp.Allow != nil {
		allowed := false
		for _, a := range sp.Allow {
			allowed = allowed || sublist.SubjectMatchesFilter(subject, a)
		}
		if !allowed {
			return false
		}
	}
	for _, d := range sp.Deny {
		if sublist.SubjectMatchesFilter(subject, d) {
			return false
		}
	}
	return true
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func validEntries(list []string, queues bool) bool {
	for _, s := range list {
		if !queues {
			if !sublist.ValidSubject(s) {
				return false
			}
			continue
		}
		f := strings.Fields(s)
		if len(f) == 0 || len(f) > 2 || !sublist.ValidSubject(f[0]) ||
			(len(f) == 2 && !sublist.ValidSubject(f[1])) {
			return false
		}
	}
	return true
}

// FuzzChecker compares Checker with a brute-force evaluation of the
// allow and deny lists (entries separated by commas).
func FuzzChecker(f *testing.F) {
	f.Add("foo.*,bar.>", "foo.secret", "foo.>,q.* grp", "foo.bar,x grp", "foo.baz", "foo.*", "")
	f.Add(">", "$SYS.>", "*.*", "a.b", "$SYS.x", "a.*", "grp")
	f.Add("", "a.>", "a.* *.dev,>", "a.b v1", "a.c", "a.b", "x.dev")
	f.Add("a", "", "a.> q,a.b", "", "a", "a.>", "q")
	f.Fuzz(func(t *testing.T, pubAllow, pubDeny, subAllow, subDeny, pubSubject, subSubject, queue string) {
		p := &auth.Permissions{
			Publish:   &auth.SubjectPermission{Allow: split(pubAllow), Deny: split(pubDeny)},
			Subscribe: &auth.SubjectPermission{Allow: split(subAllow), Deny: split(subDeny)},
		}
		valid := validEntries(p.Publish.Allow, false) && validEntries(p.Publish.Deny, false) &&
			validEntries(p.Subscribe.Allow, true) && validEntries(p.Subscribe.Deny, true)
		c, err := auth.NewChecker(p)
		if (err == nil) != valid {
			t.Fatalf("NewChecker error %v, entries valid: %v", err, valid)
		}
		if err != nil {
			return
		}
		if sublist.ValidLiteralSubject(pubSubject) {
			want := oraclePublish(p.Publish, pubSubject)
			for range 2 { // miss, then hit
				if got := c.CanPublish([]byte(pubSubject)); got != want {
					t.Fatalf("CanPublish(%q) = %v, oracle %v", pubSubject, got, want)
				}
			}
			wantDeliver := true
			for _, e := range entries(p.Subscribe.Deny) {
				if e.queue == "" && sublist.SubjectMatchesFilter(pubSubject, e.subject) {
					wantDeliver = false
				}
			}
			if got := c.CanDeliver([]byte(pubSubject)); got != wantDeliver {
				t.Fatalf("CanDeliver(%q) = %v, oracle %v", pubSubject, got, wantDeliver)
			}
			// A wildcard subscription that receives a message the deny
			// list forbids must be flagged for filtering.
			if !wantDeliver && !sublist.IsLiteral(subSubject) && sublist.ValidFilter(subSubject) &&
				sublist.SubjectMatchesFilter(pubSubject, subSubject) && !c.NeedsDeliveryFilter(subSubject) {
				t.Fatalf("NeedsDeliveryFilter(%q) false, but %q is denied", subSubject, pubSubject)
			}
		}
		if sublist.ValidFilter(subSubject) && (queue == "" || sublist.ValidSubject(queue)) {
			want := oracleSubscribe(p.Subscribe, subSubject, queue)
			if got := c.CanSubscribe(subSubject, queue); got != want {
				t.Fatalf("CanSubscribe(%q, %q) = %v, oracle %v", subSubject, queue, got, want)
			}
		}
	})
}

// FuzzParsePermissions parses a permissions block. Whatever it accepts
// must compile.
func FuzzParsePermissions(f *testing.F) {
	f.Add(`publish: ["a", "b.*"], subscribe: {allow: "c.> grp", deny: ["c.x"]}`)
	f.Add(`pub: ">", allow_responses: {max: 3, expires: "5s"}`)
	f.Add(`sub: {allow: [], deny: "x y"}, allow_responses: true`)
	f.Fuzz(func(t *testing.T, body string) {
		m, err := confparse.ParseWithOptions("", []byte("p: {"+body+"\n}"), confparse.Options{
			Env:      func(string) (string, bool) { return "", false },
			ReadFile: func(string) ([]byte, error) { return nil, confparse.ErrInclude },
		})
		if err != nil {
			return
		}
		v, ok := m.Get("p")
		if !ok {
			return
		}
		p, err := auth.ParsePermissions(v)
		if err != nil {
			if _, ok := err.(confparse.ErrorList); !ok {
				t.Fatalf("error %T is not an ErrorList", err)
			}
			return
		}
		if _, err := auth.NewChecker(p); err != nil {
			t.Fatalf("parsed permissions do not compile: %v", err)
		}
		// Round trip: written back as configuration, p parses to itself.
		text := confparse.Format(&confparse.Map{Entries: []confparse.Entry{{Key: "p", Value: permValue(p)}}})
		m2, err := confparse.Parse(text)
		if err != nil {
			t.Fatalf("formatted permissions do not parse: %v\n%s", err, text)
		}
		v2, _ := m2.Get("p")
		p2, err := auth.ParsePermissions(v2)
		if err != nil || !reflect.DeepEqual(p, p2) {
			t.Fatalf("round trip: %v\n%s\n%+v\n%+v", err, text, p, p2)
		}
	})
}

// permValue renders p as a configuration value.
func permValue(p *auth.Permissions) *confparse.Value {
	m := &confparse.Map{}
	add := func(key string, v *confparse.Value) {
		m.Entries = append(m.Entries, confparse.Entry{Key: key, Value: v})
	}
	list := func(ss []string) *confparse.Value {
		v := &confparse.Value{Kind: confparse.KindArray}
		for _, s := range ss {
			v.Array = append(v.Array, &confparse.Value{Kind: confparse.KindString, Str: s})
		}
		return v
	}
	subj := func(key string, sp *auth.SubjectPermission) {
		if sp == nil {
			return
		}
		sm := &confparse.Map{}
		if sp.Allow != nil && (len(sp.Allow) > 0 || p.Response == nil) {
			sm.Entries = append(sm.Entries, confparse.Entry{Key: "allow", Value: list(sp.Allow)})
		}
		if sp.Deny != nil {
			sm.Entries = append(sm.Entries, confparse.Entry{Key: "deny", Value: list(sp.Deny)})
		}
		if len(sm.Entries) > 0 || p.Response == nil {
			add(key, &confparse.Value{Kind: confparse.KindMap, Map: sm})
		}
	}
	subj("publish", p.Publish)
	subj("subscribe", p.Subscribe)
	if r := p.Response; r != nil {
		add("allow_responses", &confparse.Value{Kind: confparse.KindMap, Map: &confparse.Map{Entries: []confparse.Entry{
			{Key: "max", Value: &confparse.Value{Kind: confparse.KindInt, Int: int64(r.MaxMsgs)}},
			{Key: "expires", Value: &confparse.Value{Kind: confparse.KindString, Str: r.Expires.String()}},
		}}})
	}
	return &confparse.Value{Kind: confparse.KindMap, Map: m}
}
