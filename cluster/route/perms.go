package route

import (
	"fmt"
	"strings"
	"unsafe"

	"natsd.dev/sublist"
)

// subjectFilter is a compiled SubjectPermission. A short list (up to
// linearMax subjects) is matched token by token, in order: for the few
// subjects permissions usually name that is a few nanoseconds per entry,
// with no lock, no shared counter and no allocation. A longer list is a
// sublist without match cache, whose walk costs the same whatever the
// list's length (and takes its read lock). Either way the filter never
// changes after compile, so any goroutine may use it, and a check
// allocates nothing. A nil *subjectFilter allows everything.
type subjectFilter struct {
	allow, deny list
}

// list is one side of a filter: the subjects, split into tokens, and
// the sublist holding them when there are more than linearMax.
type list struct {
	subjects []string
	patterns []pattern
	sl       *sublist.Sublist[int]
}

// pattern is one subject of a short list, split into tokens; a final
// ">" is kept as fwc.
type pattern struct {
	toks []string
	fwc  bool
}

// linearMax is the longest list matched without a sublist.
const linearMax = 16

// compileFilter compiles p; nil for a nil p or one with no subject.
func compileFilter(what string, p *SubjectPermission) (*subjectFilter, error) {
	if p == nil || (len(p.Allow) == 0 && len(p.Deny) == 0) {
		return nil, nil
	}
	f := &subjectFilter{}
	var err error
	if f.allow, err = compileList(what, p.Allow); err != nil {
		return nil, err
	}
	if f.deny, err = compileList(what, p.Deny); err != nil {
		return nil, err
	}
	return f, nil
}

func compileList(what string, subjects []string) (list, error) {
	l := list{subjects: subjects}
	for _, s := range subjects {
		if !sublist.ValidSubject(s) {
			return l, fmt.Errorf("cluster: permissions %s: subject %q is not a valid subject", what, s)
		}
	}
	if len(subjects) <= linearMax {
		for _, s := range subjects {
			toks := strings.Split(s, ".")
			p := pattern{toks: toks}
			if toks[len(toks)-1] == ">" {
				p.toks, p.fwc = toks[:len(toks)-1], true
			}
			l.patterns = append(l.patterns, p)
		}
		return l, nil
	}
	l.sl = sublist.NewWithOptions[int](sublist.Options{NoCache: true})
	for i, s := range subjects {
		if err := l.sl.Insert(s, "", i); err != nil {
			return l, fmt.Errorf("cluster: permissions %s: subject %q: %w", what, s, err)
		}
	}
	return l, nil
}

// match reports whether an entry of l matches subject, whose tokens
// (toks, nil when one is empty) are taken literally, as a sublist takes
// them: a "*" of an entry matches any one token, a final ">" one or
// more, and a "*" or ">" in subject is only matched by a wildcard.
func (l *list) match(subject string, toks []string) bool {
	if l.sl != nil {
		return l.sl.HasInterest(subject)
	}
	if toks == nil {
		return false // a subject with an empty token matches nothing
	}
	for i := range l.patterns {
		if l.patterns[i].match(toks) {
			return true
		}
	}
	return false
}

func (p *pattern) match(toks []string) bool {
	if p.fwc {
		if len(toks) <= len(p.toks) {
			return false
		}
	} else if len(toks) != len(p.toks) {
		return false
	}
	for i, t := range p.toks {
		if t != "*" && t != toks[i] {
			return false
		}
	}
	return true
}

// tokenize appends the tokens of subject to toks; nil if one is empty.
func tokenize(subject string, toks []string) []string {
	for rest, more := subject, true; more; {
		var tok string
		tok, rest, more = sublist.NextToken(rest)
		if tok == "" {
			return nil
		}
		toks = append(toks, tok)
	}
	return toks
}

// allows reports whether subject (which may have wildcard tokens, taken
// literally) is permitted.
func (f *subjectFilter) allows(subject string) bool {
	if f == nil {
		return true
	}
	var buf [32]string
	var toks []string
	if f.allow.sl == nil || f.deny.sl == nil {
		toks = tokenize(subject, buf[:0])
	}
	return (len(f.allow.subjects) == 0 || f.allow.match(subject, toks)) &&
		(len(f.deny.subjects) == 0 || !f.deny.match(subject, toks))
}

// Allow is allows for a subject held in bytes (a view of a read buffer):
// the routed-message path. It implements server.LinkFilter.
func (f *subjectFilter) Allow(subject []byte) bool {
	if f == nil || len(subject) == 0 {
		return f == nil
	}
	// Neither the patterns nor HasInterest keep the subject (the sublists
	// have no cache), so a view without a copy is safe.
	return f.allows(unsafe.String(unsafe.SliceData(subject), len(subject)))
}

// routeFilters are the compiled RoutePermissions.
type routeFilters struct {
	imp, exp *subjectFilter
}

func compileRoutePermissions(p *RoutePermissions) (routeFilters, error) {
	var rf routeFilters
	if p == nil {
		return rf, nil
	}
	var err error
	if rf.imp, err = compileFilter("import", p.Import); err != nil {
		return rf, err
	}
	if rf.exp, err = compileFilter("export", p.Export); err != nil {
		return rf, err
	}
	return rf, nil
}
