// Variable references, environment values and include directives.

package confparse

import (
	"path/filepath"
	"strings"
)

// bcryptPrefixes are the bcrypt hash versions: an unquoted "$2a$10$..." is
// a password hash, not a variable reference.
var bcryptPrefixes = [...]string{"2a$", "2b$", "2y$"}

// variable resolves a $reference: in the enclosing blocks, innermost first,
// among the entries defined before it, then in the environment, whose
// value is parsed as a value (a number stays a number).
func (p *parser) variable(text string, off int, pos Pos) *Value {
	name := text[1:]
	if name == "" {
		p.errorf(off, ErrSyntax, "missing variable name after '$'")
		return nil
	}
	for _, pre := range bcryptPrefixes {
		if strings.HasPrefix(name, pre) {
			v := p.newValue(pos, KindString)
			v.Str = text
			return v
		}
	}
	sh := p.sh
	end := len(sh.entries)
	for s := len(p.scopes) - 1; s >= 0; s-- {
		sc := p.scopes[s]
		if i := p.find(sc, end, name); i >= 0 {
			e := &sh.entries[i]
			e.UsedAsVariable = true
			if !p.expand(e.Value, off) {
				return nil
			}
			v := p.newValue(pos, e.Value.Kind)
			*v = *e.Value
			v.Pos = pos
			v.Var = name
			return v
		}
		end = sc.base
	}
	val, ok := sh.opts.Env(name)
	if !ok {
		p.errorf(off, ErrUndefinedVariable, "variable $%s is not defined in an enclosing block or the environment", name)
		return nil
	}
	for i, n := range sh.env {
		if n == name {
			chain := "$" + strings.Join(sh.env[i:], " -> $") + " -> $" + name
			p.errorf(off, ErrVariableCycle, "environment variable cycle: %s", chain)
			return nil
		}
	}
	return p.envValue(name, val, off, pos)
}

// expand accounts for a substitution of v; it reports false (after an
// error that stops the parse) once MaxExpansion is exceeded.
func (p *parser) expand(v *Value, off int) bool {
	sh := p.sh
	var walk func(v *Value) bool
	walk = func(v *Value) bool {
		sh.expanded++
		if sh.expanded > MaxExpansion {
			return false
		}
		switch v.Kind {
		case KindMap:
			for _, e := range v.Map.Entries {
				if !walk(e.Value) {
					return false
				}
			}
		case KindArray:
			for _, e := range v.Array {
				if !walk(e) {
					return false
				}
			}
		}
		return true
	}
	if v.Kind != KindMap && v.Kind != KindArray {
		sh.expanded++
		return true
	}
	if !walk(v) {
		p.errorf(off, ErrSyntax, "variables expand to more than %d values", MaxExpansion)
		sh.aborted = true
		return false
	}
	return true
}

// envValue parses the value of environment variable name like a value in
// the file. A value that does not parse as one value (e.g. "two words") is
// taken as a plain string; undefined variables and cycles in it are errors
// at the reference.
func (p *parser) envValue(name, val string, off int, pos Pos) *Value {
	sh := p.sh
	sh.env = append(sh.env, name)
	defer func() { sh.env = sh.env[:len(sh.env)-1] }()

	nerr := len(sh.errs)
	sub := newParser(sh, "", val, p.depth)
	sub.skipWS()
	var v *Value
	if !sub.eof() {
		v = sub.parseValue(name)
	}
	sub.skipWS()
	clean := v != nil && sub.i == len(val) && len(sh.errs) == nerr
	if sh.aborted {
		return nil
	}
	if !clean {
		keep := false
		for _, e := range sh.errs[nerr:] {
			if e.Err == ErrUndefinedVariable || e.Err == ErrVariableCycle {
				keep = true
			}
		}
		if keep {
			for _, e := range sh.errs[nerr:] {
				e.Pos = pos
				if e.Err != ErrVariableCycle {
					e.Msg = "in environment variable $" + name + ": " + e.Msg
				}
			}
			return nil
		}
		sh.errs = sh.errs[:nerr]
		v = p.newValue(pos, KindString)
		v.Str = val
	}
	setPos(v, pos)
	v.Var = name
	return v
}

// setPos gives every node of an environment value the reference's position.
func setPos(v *Value, pos Pos) {
	v.Pos = pos
	switch v.Kind {
	case KindMap:
		for i := range v.Map.Entries {
			v.Map.Entries[i].KeyPos = pos
			setPos(v.Map.Entries[i].Value, pos)
		}
	case KindArray:
		for _, e := range v.Array {
			setPos(e, pos)
		}
	}
}

// parseInclude handles `include path` and merges the file's entries into
// the block sc. The included file is parsed on its own: it sees the
// environment but not the variables of the including file (as upstream).
func (p *parser) parseInclude(sc *scope, keyOff int) {
	p.skipWS()
	off := p.i
	var path string
	if p.eof() {
		p.errorf(off, ErrSyntax, "expected a file name after include")
		return
	}
	switch q := p.src[p.i]; q {
	case '"', '\'':
		end := p.i + 1
		for end < len(p.src) && p.src[end] != q && p.src[end] != '\n' {
			end++
		}
		if end >= len(p.src) || p.src[end] != q {
			p.errorf(off, ErrSyntax, "unterminated include file name")
			p.i = end
			p.recover()
			return
		}
		path = p.src[p.i+1 : end]
		p.i = end + 1
	case '\n', '\r', ';', '}', ',':
		p.errorf(off, ErrSyntax, "expected a file name after include, found %s", p.describe(off))
		return
	case '{', '[', '(':
		p.errorf(off, ErrSyntax, "expected a file name after include, found %s", p.describe(off))
		p.recover()
		return
	default:
		for p.i < len(p.src) && !isValueEnd(p.src[p.i]) {
			p.i++
		}
		path = p.src[off:p.i]
	}
	if path == "" {
		p.errorf(off, ErrInclude, "empty include file name")
		return
	}
	full := path
	if !filepath.IsAbs(path) {
		full = filepath.Join(p.dir, path)
	}
	sh := p.sh
	id := full
	if abs, err := filepath.Abs(full); err == nil {
		id = abs
	}
	if len(sh.includes) > 0 && sh.includes[0].id == "" {
		sh.includes[0].id, _ = filepath.Abs(sh.includes[0].name)
	}
	for i, f := range sh.includes {
		if f.id == id {
			var chain []string
			for _, g := range sh.includes[i:] {
				chain = append(chain, g.name)
			}
			chain = append(chain, full)
			p.errorf(off, ErrInclude, "include cycle: %s", strings.Join(chain, " -> "))
			return
		}
	}
	if p.depth >= MaxDepth {
		p.errorf(off, ErrSyntax, "nesting deeper than %d levels", MaxDepth)
		sh.aborted = true
		return
	}
	data, err := sh.opts.ReadFile(full)
	if err != nil {
		p.errorf(off, ErrInclude, "cannot include %s: %v", path, err)
		return
	}
	sh.includes = append(sh.includes, include{id, full})
	child := newParser(sh, full, string(data), p.depth+1)
	m := child.parseDocument()
	sh.includes = sh.includes[:len(sh.includes)-1]
	for _, e := range m.Entries {
		p.setEntry(sc, e)
	}
}
