package leaf

import (
	"fmt"
	"strings"

	"natsd.dev/sublist"
)

// denyList is a compiled deny_imports or deny_exports list: a subject is
// denied when it lies within one of the patterns (for a wildcard subject,
// when every subject it matches does). It never changes after compile, so
// publishers use it without a lock, and a check allocates nothing. A nil
// *denyList denies nothing.
type denyList struct {
	patterns [][]string
}

func compileDeny(what string, subjects []string) (*denyList, error) {
	if len(subjects) == 0 {
		return nil, nil
	}
	d := &denyList{}
	for _, s := range subjects {
		if !sublist.ValidFilter(s) {
			return nil, fmt.Errorf("leaf: %s: subject %q is not a valid subject", what, s)
		}
		d.patterns = append(d.patterns, strings.Split(s, "."))
	}
	return d, nil
}

// Allow implements server.LinkFilter: a message on subject may cross.
func (d *denyList) Allow(subject []byte) bool { return !d.denies(subject) }

// denies reports whether subject lies within one of the patterns.
func (d *denyList) denies(subject []byte) bool {
	if d == nil {
		return false
	}
	for _, p := range d.patterns {
		if within(subject, p) {
			return true
		}
	}
	return false
}

func (d *denyList) deniesString(subject string) bool {
	if d == nil {
		return false
	}
	for _, p := range d.patterns {
		if within([]byte(subject), p) {
			return true
		}
	}
	return false
}

// within reports whether every subject that subject matches is matched
// by pattern (for a literal subject: pattern matches it).
func within(subject []byte, pattern []string) bool {
	i := 0
	for n, pt := range pattern {
		if i > len(subject) {
			return false
		}
		j := i
		for j < len(subject) && subject[j] != '.' {
			j++
		}
		tok := subject[i:j]
		switch {
		case pt == ">":
			return n == len(pattern)-1 && len(tok) > 0
		case pt == "*":
			if len(tok) == 0 || string(tok) == ">" {
				return false
			}
		default:
			if string(tok) != pt {
				return false
			}
		}
		i = j + 1
	}
	return i == len(subject)+1
}

// JetStream's subjects that never cross a leaf node connection, both
// ways (see jsPolicy): its API without a domain and the KV and object
// store prefixes for every account, and in the system account its
// cluster and Raft traffic too.
var (
	jsDenyClient = mustDeny("$JS.API.>", "$KV.>", "$OBJ.>")
	jsDenyAll    = mustDeny("$JSC.>", "$NRG.>", "$JS.API.>", "$KV.>", "$OBJ.>")
)

func mustDeny(subjects ...string) *denyList {
	d, err := compileDeny("builtin", subjects)
	if err != nil {
		panic(err)
	}
	return d
}

// subjects are the patterns of the list.
func (d *denyList) subjects() []string {
	if d == nil {
		return nil
	}
	out := make([]string, 0, len(d.patterns))
	for _, p := range d.patterns {
		out = append(out, strings.Join(p, "."))
	}
	return out
}

// pairFilter is the server.LinkFilter of a connection: neither list may
// deny the subject.
type pairFilter struct{ a, b *denyList }

// Allow implements server.LinkFilter.
func (f pairFilter) Allow(subject []byte) bool { return !f.a.denies(subject) && !f.b.denies(subject) }

// permFilter is a hub's import or export permissions (allow and deny
// lists) as its leaf node applies them, with the connection's own filter
// (deny_exports, JetStream's subjects) for messages. A subject passes when it lies within an
// allow pattern (if there are any) and within no deny pattern. A nil
// *permFilter passes everything.
type permFilter struct {
	allow, deny *denyList
	own         pairFilter
}

// newPermFilter compiles p; subjects upstream would not send are skipped.
func newPermFilter(p *subjectPerm, own pairFilter) *permFilter {
	f := &permFilter{own: own}
	f.allow, _ = compileDeny("allow", validOnly(p.Allow))
	f.deny, _ = compileDeny("deny", validOnly(p.Deny))
	if len(p.Allow) > 0 && f.allow == nil {
		// Nothing valid is allowed: nothing passes.
		f.allow = &denyList{}
	}
	return f
}

func validOnly(subjects []string) []string {
	var ok []string
	for _, s := range subjects {
		if sublist.ValidFilter(s) {
			ok = append(ok, s)
		}
	}
	return ok
}

// Allow implements server.LinkFilter: a message on subject may cross.
func (f *permFilter) Allow(subject []byte) bool {
	if f == nil {
		return true
	}
	if !f.own.Allow(subject) || f.deny.denies(subject) {
		return false
	}
	return f.allow == nil || f.allow.denies(subject)
}

func (f *permFilter) permitsString(subject string) bool {
	if f == nil {
		return true
	}
	if f.deny.deniesString(subject) {
		return false
	}
	return f.allow == nil || f.allow.deniesString(subject)
}

// deliverFilter is a hub's filter of messages to a leaf node whose user
// has permissions: the leaf node's deny_pub, and subjects its subscribe
// permissions deny that a wildcard interest would still match.
type deliverFilter struct {
	deny, js *denyList
	perms    permissions
}

// Allow implements server.LinkFilter.
func (f *deliverFilter) Allow(subject []byte) bool {
	return !f.deny.denies(subject) && !f.js.denies(subject) && f.perms.CanDeliver(subject)
}
