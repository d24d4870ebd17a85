package confparse

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits that keep hostile input from exhausting the stack or the patience
// of whoever reads the error list.
const (
	// MaxDepth is the deepest nesting of maps and arrays accepted (each
	// include also counts as one level).
	MaxDepth = 256
	// MaxErrors is how many errors a parse collects before it stops.
	MaxErrors = 100
	// MaxExpansion bounds the nodes all variable substitutions of a parse
	// may copy by reference (a value used twice counts twice). Without it
	// a few lines of nested references would make a tree that Interface or
	// Format expand exponentially ("billion laughs").
	MaxExpansion = 1 << 22
)

// Options tunes a parse. The zero value is ready to use.
type Options struct {
	// Pedantic reports as errors (wrapping ErrDuplicateKey) the keys that
	// upstream silently overwrites: a key defined twice in one block,
	// including twice with different case (option processing lower-cases
	// keys, so they collide) and a key redefined by an included file.
	// Upstream's own pedantic checks (unknown fields, ...) belong to option
	// processing; Entry.UsedAsVariable supports them.
	Pedantic bool

	// Env looks up environment variables for $references not defined in
	// an enclosing block. Nil means os.LookupEnv.
	Env func(name string) (string, bool)

	// ReadFile reads included files (and the file itself for
	// ParseFileWithOptions). Nil means os.ReadFile. Tests and tools can
	// serve files from memory, or refuse includes.
	ReadFile func(name string) ([]byte, error)
}

// Parse parses an in-memory configuration. Includes are resolved relative
// to the working directory; positions have no file name.
func Parse(data []byte) (*Map, error) {
	return ParseWithOptions("", data, Options{})
}

// ParseFile reads and parses the configuration file at path. If the file
// cannot be read, the error is the read error (an *fs.PathError) wrapped,
// not an ErrorList.
func ParseFile(path string) (*Map, error) {
	return ParseFileWithOptions(path, Options{})
}

// ParseFileWithOptions reads and parses the configuration file at path.
func ParseFileWithOptions(path string, o Options) (*Map, error) {
	read := o.ReadFile
	if read == nil {
		read = os.ReadFile
	}
	data, err := read(path)
	if err != nil {
		return nil, fmt.Errorf("confparse: %w", err)
	}
	return ParseWithOptions(path, data, o)
}

// ParseWithOptions parses data. The name is used in positions and its
// directory resolves relative includes ("" means the working directory).
//
// On success it returns the top-level block. Otherwise it returns a nil map
// and an ErrorList holding every problem found (up to MaxErrors).
func ParseWithOptions(name string, data []byte, o Options) (*Map, error) {
	if o.Env == nil {
		o.Env = os.LookupEnv
	}
	if o.ReadFile == nil {
		o.ReadFile = os.ReadFile
	}
	sh := &shared{opts: &o}
	// Size the first chunks from the input: a value takes at least a few
	// bytes of text, so small files allocate little and big files do not
	// go through many small chunks.
	sh.valSlab.hint(len(data) / 14)
	sh.entrySlab.hint(len(data) / 16)
	sh.mapSlab.hint(len(data) / 48)
	sh.elemSlab.hint(len(data) / 24)
	sh.entries = make([]Entry, 0, 32)
	sh.vals = make([]*Value, 0, 32)
	sh.freeScopes = sh.freeBuf[:0]
	p := newParser(sh, name, string(data), 0)
	p.scopes = sh.scopeStack[:0]
	if name != "" {
		// The absolute path is only needed once an include shows up.
		sh.includes = append(sh.includes, include{"", name})
	}
	m := p.parseDocument()
	if len(sh.errs) > 0 {
		sortErrors(sh.errs)
		return nil, sh.errs
	}
	return m, nil
}

// sortErrors orders errors by position: files in the order their first
// error was found, then line and column.
func sortErrors(errs ErrorList) {
	rank := map[string]int{}
	for _, e := range errs {
		if _, ok := rank[e.Pos.File]; !ok {
			rank[e.Pos.File] = len(rank)
		}
	}
	slices.SortStableFunc(errs, func(a, b *Error) int {
		return cmp.Or(
			cmp.Compare(rank[a.Pos.File], rank[b.Pos.File]),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col))
	})
}

// shared is the state common to a parse and every included file and
// environment value parsed for it.
type shared struct {
	opts     *Options
	errs     ErrorList
	aborted  bool      // stop: depth limit or too many errors
	includes []include // the files being parsed, outermost first
	env      []string  // environment variables being expanded, for cycles

	// Scratch stacks: a block's entries and an array's elements are
	// collected here and copied out at their end in one exact allocation.
	entries    []Entry
	vals       []*Value
	freeScopes []*scope
	expanded   int // nodes copied by variable substitutions

	// First scopes and stack slots, so that usual nesting allocates none.
	scopeBuf   [8]scope
	scopeUsed  int
	freeBuf    [8]*scope
	scopeStack [8]*scope

	// Slabs the tree's nodes are carved from.
	valSlab   slab[Value]
	mapSlab   slab[Map]
	entrySlab slab[Entry]
	elemSlab  slab[*Value]
}

// include identifies a file being parsed, to detect include cycles.
type include struct {
	id   string // absolute path
	name string // as written, for messages
}

// scope is a block being built, where $references are looked up.
type scope struct {
	base int            // its entries are sh.entries[base:end]
	idx  map[string]int // key -> index into sh.entries, for big blocks
	lidx map[string]int // lower-cased key -> index (pedantic only)
}

// idxThreshold is the block size above which keys are indexed.
const idxThreshold = 24

type parser struct {
	sh     *shared
	src    string
	file   string // for positions
	dir    string // for relative includes
	i      int
	depth  int
	scopes []*scope

	// Position cache: the line and column of offset lcOff, and where
	// that line starts.
	lcOff, lcLine, lcStart, lcCol int
}

func newParser(sh *shared, file, src string, depth int) *parser {
	p := &parser{sh: sh, src: src, file: file, depth: depth, lcLine: 1, lcCol: 1}
	if file != "" {
		p.dir = filepath.Dir(file)
	}
	return p
}

// pos converts a byte offset into a position. Offsets mostly grow, so
// it continues from the previous answer: the line by counting newlines
// since then, the column by counting runes since then (or since the line
// start), which keeps a parse linear even on very long lines.
func (p *parser) pos(off int) Pos {
	if off > len(p.src) {
		off = len(p.src)
	}
	switch {
	case off >= p.lcOff:
		seg := p.src[p.lcOff:off]
		if nl := strings.LastIndexByte(seg, '\n'); nl >= 0 {
			p.lcLine += strings.Count(seg, "\n")
			p.lcStart = p.lcOff + nl + 1
			p.lcCol = utf8.RuneCountInString(p.src[p.lcStart:off]) + 1
		} else {
			p.lcCol += utf8.RuneCountInString(seg)
		}
	case off >= p.lcStart:
		p.lcCol = utf8.RuneCountInString(p.src[p.lcStart:off]) + 1
	default:
		// Back to an earlier line (an error at an opening quote or
		// bracket): rare, start over.
		p.lcOff, p.lcLine, p.lcStart, p.lcCol = 0, 1, 0, 1
		return p.pos(off)
	}
	p.lcOff = off
	return Pos{File: p.file, Line: p.lcLine, Col: p.lcCol}
}

func (p *parser) errorf(off int, kind error, format string, args ...any) {
	p.errorAt(p.pos(off), kind, fmt.Sprintf(format, args...))
}

func (p *parser) errorAt(pos Pos, kind error, msg string) {
	sh := p.sh
	if sh.aborted {
		return
	}
	sh.errs = append(sh.errs, &Error{Pos: pos, Msg: msg, Err: kind})
	if len(sh.errs) >= MaxErrors {
		sh.errs = append(sh.errs, &Error{Pos: pos, Msg: "too many errors", Err: kind})
		sh.aborted = true
	}
}

func (p *parser) eof() bool {
	if p.sh.aborted {
		p.i = len(p.src)
	}
	return p.i >= len(p.src)
}

func (p *parser) newValue(pos Pos, k Kind) *Value {
	v := &p.sh.valSlab.take(1)[0]
	v.Pos = pos
	v.Kind = k
	return v
}

func (p *parser) newMap() *Map {
	return &p.sh.mapSlab.take(1)[0]
}

// slab hands out pieces of larger allocations: a parse allocates a few
// chunks instead of one object per node. Chunks grow from 16 to 1024
// elements so that small inputs stay small.
type slab[T any] struct {
	buf  []T
	size int
}

// hint makes the first chunk hold about n elements.
func (s *slab[T]) hint(n int) { s.size = min(n, 1024) / 2 }

// take returns n zeroed elements whose capacity is exactly n, so that
// appending to them never writes over a neighbour.
func (s *slab[T]) take(n int) []T {
	if len(s.buf) < n {
		s.size = min(max(2*s.size, 16), 1024)
		s.buf = make([]T, max(n, s.size))
	}
	out := s.buf[:n:n]
	s.buf = s.buf[n:]
	return out
}

// describe names the byte at off for error messages.
func (p *parser) describe(off int) string {
	if off >= len(p.src) {
		return "end of input"
	}
	switch c := p.src[off]; c {
	case '\n', '\r':
		return "end of line"
	default:
		r, _ := utf8.DecodeRuneInString(p.src[off:])
		return strconv.QuoteRune(r)
	}
}

// skipWS skips blanks (not newlines).
func (p *parser) skipWS() {
	for p.i < len(p.src) && (p.src[p.i] == ' ' || p.src[p.i] == '\t') {
		p.i++
	}
}

// atComment reports whether a comment starts at the current offset.
func (p *parser) atComment() bool {
	if p.i >= len(p.src) {
		return false
	}
	c := p.src[p.i]
	return c == '#' || (c == '/' && p.i+1 < len(p.src) && p.src[p.i+1] == '/')
}

// skipComment skips to the end of the line, leaving the newline.
func (p *parser) skipComment() {
	j := strings.IndexByte(p.src[p.i:], '\n')
	if j < 0 {
		p.i = len(p.src)
		return
	}
	p.i += j
}

// skipSpace skips blanks, newlines and comments.
func (p *parser) skipSpace() {
	for p.i < len(p.src) {
		switch p.src[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		case '#':
			p.skipComment()
		case '/':
			if !p.atComment() {
				return
			}
			p.skipComment()
		default:
			return
		}
	}
}

// lineEnd returns the offset of the newline ending the line that holds
// off: where parsing resumes after a string that never ends, since the
// rest of the input is more likely meant as entries than as its text.
func (p *parser) lineEnd(off int) int {
	if j := strings.IndexByte(p.src[off:], '\n'); j >= 0 {
		return off + j
	}
	return len(p.src)
}

// recover skips the rest of a broken line after an error, up to the
// newline, stopping early before a '}' or ']' that closes a block opened
// before the line.
func (p *parser) recover() {
	depth := 0
	for ; p.i < len(p.src); p.i++ {
		switch p.src[p.i] {
		case '\n':
			return
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return
			}
			depth--
		}
	}
}

// parseDocument parses a whole file: a block with or without braces.
func (p *parser) parseDocument() *Map {
	return p.parseBlock(0, -1)
}

// onlyClosersLeft reports whether nothing but blanks, comments and '}'
// follows: upstream accepts such trailing braces.
func (p *parser) onlyClosersLeft() bool {
	save := p.i
	defer func() { p.i = save }()
	for {
		p.skipSpace()
		if p.i >= len(p.src) {
			return true
		}
		if p.src[p.i] != '}' {
			return false
		}
		p.i++
	}
}

// parseBlock parses entries up to closer ('}', or 0 for the end of the
// file).
//
// At the top of a file, braces where a key is expected only group
// entries, as in upstream: "{ a: 1 }" (a JSON object) and "{ { a: 1 } }"
// both give a: 1, and trailing '}' are ignored.
func (p *parser) parseBlock(closer byte, open int) *Map {
	sc := p.pushScope()
	var groups []int // offsets of the open top-level braces
	entryCloser := closer
	if closer == 0 {
		entryCloser = '}'
	}
	for {
		p.skipSpace()
		if p.eof() {
			if closer != 0 {
				p.errorf(open, ErrSyntax, "'{' is never closed")
			} else if len(groups) > 0 {
				p.errorf(groups[len(groups)-1], ErrSyntax, "'{' is never closed")
			}
			break
		}
		c := p.src[p.i]
		if c == closer {
			p.i++
			break
		}
		if closer == 0 {
			switch {
			case c == '{':
				groups = append(groups, p.i)
				p.i++
				continue
			case c == '}' && len(groups) > 0:
				groups = groups[:len(groups)-1]
				p.i++
				continue
			case c == '}' && p.onlyClosersLeft():
				p.i = len(p.src)
				continue
			}
		}
		switch c {
		case '}', ']', ',', ';':
			p.errorf(p.i, ErrSyntax, "unexpected %s, expected a key", p.describe(p.i))
			p.i++
			continue
		case '{', '[':
			// A value without a key: report it and skip it whole.
			p.errorf(p.i, ErrSyntax, "unexpected %s, expected a key", p.describe(p.i))
			p.parseValue("")
			continue
		case '=', ':':
			p.errorf(p.i, ErrSyntax, "missing key before %s", p.describe(p.i))
			p.recover()
			continue
		}
		p.parseEntry(sc, entryCloser)
	}
	p.scopes = p.scopes[:len(p.scopes)-1]
	p.sh.freeScopes = append(p.sh.freeScopes, sc)
	m := p.newMap()
	region := p.sh.entries[sc.base:]
	if len(region) > 0 {
		m.Entries = p.sh.entrySlab.take(len(region))
		copy(m.Entries, region)
		p.sh.entries = p.sh.entries[:sc.base]
	}
	return m
}

// pushScope opens a block, reusing scope records so that a parse
// allocates as many as its deepest nesting.
func (p *parser) pushScope() *scope {
	sh := p.sh
	var sc *scope
	switch n := len(sh.freeScopes); {
	case n > 0:
		sc = sh.freeScopes[n-1]
		sh.freeScopes = sh.freeScopes[:n-1]
		*sc = scope{}
	case sh.scopeUsed < len(sh.scopeBuf):
		sc = &sh.scopeBuf[sh.scopeUsed]
		sh.scopeUsed++
	default:
		sc = new(scope)
	}
	sc.base = len(sh.entries)
	p.scopes = append(p.scopes, sc)
	return sc
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// isKeyByte reports whether c may appear in an unquoted key.
func isKeyByte(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '=', ':', '{', '}', '[', ']', ',', ';', '#', '"', '\'':
		return false
	}
	return true
}

func (p *parser) parseEntry(sc *scope, closer byte) {
	keyOff := p.i
	var key string
	quoted := false
	switch q := p.src[p.i]; q {
	case '"', '\'':
		end := p.i + 1
		for end < len(p.src) && p.src[end] != q && p.src[end] != '\n' && p.src[end] != '\r' {
			end++
		}
		if end >= len(p.src) || p.src[end] != q {
			p.errorf(keyOff, ErrSyntax, "unterminated quoted key")
			p.i = end
			p.recover()
			return
		}
		key = p.src[p.i+1 : end]
		p.i = end + 1
		quoted = true
	default:
		for p.i < len(p.src) && isKeyByte(p.src[p.i]) {
			p.i++
		}
		key = p.src[keyOff:p.i]
		if key == "" {
			p.errorf(keyOff, ErrSyntax, "unexpected %s, expected a key", p.describe(p.i))
			p.i++
			p.recover()
			return
		}
	}
	// Positions are cheapest in increasing order: take the key's now.
	keyPos := p.pos(keyOff)
	if !quoted && len(key) == 7 && strings.EqualFold(key, "include") &&
		p.i < len(p.src) && isSpace(p.src[p.i]) {
		p.parseInclude(sc, keyOff)
		p.valueEnd(closer)
		return
	}
	// Like upstream, a key may be followed by its value on a later line
	// when there is no separator (a brace on the next line).
	for p.i < len(p.src) {
		c := p.src[p.i]
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			break
		}
		p.i++
	}
	if p.i < len(p.src) && (p.src[p.i] == '=' || p.src[p.i] == ':') {
		p.i++
		p.skipWS()
	}
	v := p.parseValue(key)
	if v == nil {
		return
	}
	p.setEntry(sc, Entry{Key: key, KeyPos: keyPos, Value: v})
	p.valueEnd(closer)
}

// valueEnd consumes what may follow a value in a block.
func (p *parser) valueEnd(closer byte) {
	p.skipWS()
	if p.eof() {
		return
	}
	switch c := p.src[p.i]; {
	case c == ',' || c == ';':
		p.i++
		return
	case c == '\n' || c == '\r' || p.atComment():
		p.leadingSep(",;")
		return
	case c == closer && closer != 0:
		return
	}
	p.errorf(p.i, ErrSyntax, "unexpected %s after value, expected a new line, ',' or ';'", p.describe(p.i))
	p.recover()
}

// leadingSep is called at a newline or comment that ends a value: it
// also accepts one separator from seps at the start of a following line,
// for the "leading comma" style some JSON writers use.
func (p *parser) leadingSep(seps string) {
	p.skipSpace()
	if p.i < len(p.src) && strings.IndexByte(seps, p.src[p.i]) >= 0 {
		p.i++
	}
}

// setEntry adds e to the innermost block, replacing an entry with the same
// key.
func (p *parser) setEntry(sc *scope, e Entry) {
	sh := p.sh
	if i := p.find(sc, len(sh.entries), e.Key); i >= 0 {
		old := &sh.entries[i]
		if sh.opts.Pedantic {
			p.errorAt(e.KeyPos, ErrDuplicateKey, fmt.Sprintf("duplicate key %q, first defined at %s", e.Key, old.KeyPos))
		}
		e.UsedAsVariable = e.UsedAsVariable || old.UsedAsVariable
		*old = e
		return
	}
	if sh.opts.Pedantic {
		if i := p.findFold(sc, e.Key); i >= 0 {
			old := &sh.entries[i]
			p.errorAt(e.KeyPos, ErrDuplicateKey, fmt.Sprintf("key %q duplicates %q defined at %s (keys are case-insensitive)", e.Key, old.Key, old.KeyPos))
		}
	}
	sh.entries = append(sh.entries, e)
	n := len(sh.entries) - sc.base
	switch {
	case sc.idx != nil:
		sc.idx[e.Key] = len(sh.entries) - 1
		if sc.lidx != nil {
			sc.lidx[strings.ToLower(e.Key)] = len(sh.entries) - 1
		}
	case n > idxThreshold:
		sc.idx = make(map[string]int, 2*n)
		if sh.opts.Pedantic {
			sc.lidx = make(map[string]int, 2*n)
		}
		for i := sc.base; i < len(sh.entries); i++ {
			sc.idx[sh.entries[i].Key] = i
			if sc.lidx != nil {
				sc.lidx[strings.ToLower(sh.entries[i].Key)] = i
			}
		}
	}
}

// find returns the index in sh.entries of key in the block sc, whose
// entries end at end, or -1.
func (p *parser) find(sc *scope, end int, key string) int {
	if sc.idx != nil {
		if i, ok := sc.idx[key]; ok && i < end {
			return i
		}
		return -1
	}
	for i := end - 1; i >= sc.base; i-- {
		if p.sh.entries[i].Key == key {
			return i
		}
	}
	return -1
}

func (p *parser) findFold(sc *scope, key string) int {
	if sc.lidx != nil {
		if i, ok := sc.lidx[strings.ToLower(key)]; ok {
			return i
		}
		return -1
	}
	for i := len(p.sh.entries) - 1; i >= sc.base; i-- {
		if strings.EqualFold(p.sh.entries[i].Key, key) {
			return i
		}
	}
	return -1
}

// parseValue parses the value at the current offset. On error it reports,
// skips the broken rest of the line and returns nil. key names the entry
// for error messages ("" inside arrays).
func (p *parser) parseValue(key string) *Value {
	if p.eof() {
		p.missingValue(key)
		return nil
	}
	off := p.i
	switch c := p.src[off]; c {
	case '\n', '\r', ',', ';', '}', ']':
		p.missingValue(key)
		if c != '}' && c != ']' {
			p.recover()
		}
		return nil
	case '{', '[':
		if p.depth >= MaxDepth {
			p.errorf(off, ErrSyntax, "nesting deeper than %d levels", MaxDepth)
			p.sh.aborted = true
			p.i = len(p.src)
			return nil
		}
		p.i++
		p.depth++
		var v *Value
		if c == '{' {
			v = p.newValue(p.pos(off), KindMap)
			v.Map = p.parseBlock('}', off)
		} else {
			v = p.parseArray(off)
		}
		p.depth--
		return v
	case '"':
		s, ok := p.quoted()
		if !ok {
			return nil
		}
		v := p.newValue(p.pos(off), KindString)
		v.Str = s
		return v
	case '\'':
		end := strings.IndexByte(p.src[off+1:], '\'')
		if end < 0 {
			p.errorf(off, ErrSyntax, "unterminated string")
			p.i = p.lineEnd(off)
			return nil
		}
		p.i = off + 1 + end + 1
		v := p.newValue(p.pos(off), KindString)
		v.Str = p.src[off+1 : off+1+end]
		return v
	case '(':
		return p.block()
	}
	return p.unquoted()
}

func (p *parser) missingValue(key string) {
	if key != "" {
		p.errorf(p.i, ErrSyntax, "expected a value for key %q, found %s", key, p.describe(p.i))
	} else {
		p.errorf(p.i, ErrSyntax, "expected a value, found %s", p.describe(p.i))
	}
}

func (p *parser) parseArray(open int) *Value {
	sh := p.sh
	v := p.newValue(p.pos(open), KindArray)
	base := len(sh.vals)
	for {
		p.skipSpace()
		if p.eof() {
			p.errorf(open, ErrSyntax, "'[' is never closed")
			break
		}
		c := p.src[p.i]
		if c == ']' {
			p.i++
			break
		}
		if c == ',' {
			p.errorf(p.i, ErrSyntax, "unexpected ',' in array, expected a value")
			p.i++
			continue
		}
		if c == '}' {
			// Probably a missing ']': leave the '}' to the enclosing block.
			p.errorf(open, ErrSyntax, "'[' is never closed (found '}')")
			break
		}
		if e := p.parseValue(""); e != nil {
			sh.vals = append(sh.vals, e)
		}
		p.skipWS()
		if p.eof() {
			continue
		}
		switch c := p.src[p.i]; {
		case c == ',':
			p.i++
		case c == '\n' || c == '\r' || p.atComment():
			p.leadingSep(",")
		case c == ']' || c == '}':
		default:
			p.errorf(p.i, ErrSyntax, "unexpected %s after array element, expected ',' or ']'", p.describe(p.i))
			p.recover()
		}
	}
	if n := len(sh.vals) - base; n > 0 {
		v.Array = sh.elemSlab.take(n)
		copy(v.Array, sh.vals[base:])
		sh.vals = sh.vals[:base]
	} else {
		v.Array = []*Value{}
	}
	return v
}
