package server

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"natsd.dev/server/internal/replies"
	"natsd.dev/sublist"
)

// Cross-account delivery: stream imports, service imports with their
// response subjects, and subject mappings. An account without any of them
// has nil links and its messages take the plain path of deliverMsg. The
// links are built in New and rebuilt whole by a reload, which swaps each
// account's pointer (Account.links): a delivery loads it once and reads
// it without a lock. The pending responses live on the account
// (Account.resp, with a lock of its own) so that a reload keeps them.

// maxImportDepth bounds how many accounts a message may cross through
// chained service imports (and their responses); it also ends import
// cycles.
const maxImportDepth = 8

// accountLinks are an account's mappings, the stream imports of its
// exports, its service imports and the pending responses of its service
// exports.
type accountLinks struct {
	mappings *sublist.Sublist[*mapping]
	// importers holds, by exporter-side subject, the stream imports
	// other accounts made of this account's exports.
	importers *sublist.Sublist[*streamImport]
	// services holds this account's service imports by local subject.
	services *sublist.Sublist[*serviceImport]
	// exportsServices: replies to "_R_." subjects may be pending here.
	exportsServices bool
}

// mapping is a compiled Mapping.
type mapping struct {
	dests []mapDest
	// scoped: some destinations name a cluster.
	scoped bool
}

type mapDest struct {
	tr      *sublist.Transform
	weight  int
	cluster string
}

// streamImport is one stream import, seen from the exporter.
type streamImport struct {
	to     *Account
	prefix string             // "<prefix>." or ""
	tr     *sublist.Transform // with To; nil otherwise
	// allowTrace: a message trace goes on into the importer.
	allowTrace bool
}

// serviceImport is one service import, seen from the importer.
type serviceImport struct {
	to        *Account           // the exporter
	tr        *sublist.Transform // local to exporter subject; nil if the same
	single    bool               // singleton responses
	threshold time.Duration
	// allowTrace: a message trace goes on into the exporter.
	allowTrace bool
}

// pendingResponse says where the answers to one "_R_." subject go.
type pendingResponse struct {
	acc   *Account // the requester's account
	reply string   // the requester's reply subject there
}

// linkSet holds the links being built for a set of accounts, before a
// reload (or New) publishes them.
type linkSet map[*Account]*accountLinks

func (ls linkSet) of(a *Account) *accountLinks {
	l := ls[a]
	if l == nil {
		l = &accountLinks{}
		ls[a] = l
	}
	return l
}

// setupLinks validates, builds and publishes the exports, imports and
// mappings of o, and the system imports of every account. It runs in New
// after the accounts exist.
func (s *Server) setupLinks(o *Options) error {
	ls, err := s.buildLinks(o, s.accounts)
	if err != nil {
		return err
	}
	for _, acc := range s.accounts {
		if err := s.systemImports(acc); err != nil {
			return err
		}
	}
	s.respTag = replies.Tag(s.id)
	s.publishLinks(ls, s.accounts)
	return s.subscribeResponses(s.accounts)
}

// publishLinks gives each account of accs its links of ls (nil without).
func (s *Server) publishLinks(ls linkSet, accs map[string]*Account) {
	for _, acc := range accs {
		acc.links.Store(ls[acc])
	}
}

// buildLinks validates the exports, imports and mappings of o against the
// accounts accs and builds their links, touching no account.
func (s *Server) buildLinks(o *Options, accs map[string]*Account) (linkSet, error) {
	ls := linkSet{}
	known := func(name string) bool { return accs[name] != nil }
	for i := range o.Exports {
		e := &o.Exports[i]
		if !known(e.Account) {
			return nil, fmt.Errorf("%w: export of undefined account %q", ErrBadOptions, e.Account)
		}
		if err := CheckExport(e); err != nil {
			return nil, fmt.Errorf("%w: account %s: %v", ErrBadOptions, e.Account, err)
		}
		if e.Service {
			ls.of(accs[e.Account]).exportsServices = true
		}
	}
	for i := range o.Imports {
		im := &o.Imports[i]
		if !known(im.Account) {
			return nil, fmt.Errorf("%w: import into undefined account %q", ErrBadOptions, im.Account)
		}
		if err := CheckImport(im, o.Exports, known); err != nil {
			return nil, fmt.Errorf("%w: account %s: %v", ErrBadOptions, im.Account, err)
		}
		if err := addImport(ls, accs[im.Account], accs[im.From], im, findExport(im, o.Exports)); err != nil {
			return nil, fmt.Errorf("%w: account %s: %v", ErrBadOptions, im.Account, err)
		}
	}
	if sys := s.sysAcc; sys != nil && accs[sys.Name] == sys {
		// The system account's services answer through response subjects.
		ls.of(sys).exportsServices = true
	}
	for i := range o.Mappings {
		m := &o.Mappings[i]
		name := m.Account
		if name == "" {
			name = GlobalAccountName
		}
		acc := accs[name]
		if acc == nil {
			return nil, fmt.Errorf("%w: mapping in undefined account %q", ErrBadOptions, name)
		}
		cm, err := checkMapping(m)
		if err != nil {
			return nil, fmt.Errorf("%w: account %s: %v", ErrBadOptions, name, err)
		}
		l := ls.of(acc)
		if l.mappings == nil {
			l.mappings = sublist.New[*mapping]()
		}
		if err := l.mappings.Insert(m.Source, "", cm); err != nil {
			return nil, fmt.Errorf("%w: account %s: mapping %q: %v", ErrBadOptions, name, m.Source, err)
		}
	}
	return ls, nil
}

// newServiceImport builds the service import of im (of export e) into
// the exporter.
func newServiceImport(exporter *Account, im *Import, e *Export) (*serviceImport, error) {
	var tr *sublist.Transform
	if im.To != "" && im.To != im.Subject {
		var err error
		if tr, err = importTransform(im); err != nil {
			return nil, err
		}
	}
	si := &serviceImport{to: exporter, tr: tr, single: e.ResponseType == ResponseSingleton, threshold: e.ResponseThreshold, allowTrace: e.AllowTrace}
	if si.threshold == 0 {
		si.threshold = DefaultResponseThreshold
	}
	return si, nil
}

// addImport adds im (of export e) to the links ls of the importer or
// the exporter.
func addImport(ls linkSet, importer, exporter *Account, im *Import, e *Export) error {
	if !im.Service {
		var tr *sublist.Transform
		if im.To != "" && im.To != im.Subject {
			var err error
			if tr, err = importTransform(im); err != nil {
				return err
			}
		}
		si := &streamImport{to: importer, tr: tr, allowTrace: im.AllowTrace}
		if im.Prefix != "" {
			si.prefix = im.Prefix + "."
		}
		l := ls.of(exporter)
		if l.importers == nil {
			l.importers = sublist.New[*streamImport]()
		}
		return l.importers.Insert(im.Subject, "", si)
	}
	si, err := newServiceImport(exporter, im, e)
	if err != nil {
		return err
	}
	local := im.To
	if local == "" {
		local = im.Subject
	}
	l := ls.of(importer)
	if l.services == nil {
		l.services = sublist.New[*serviceImport]()
	}
	return l.services.Insert(local, "", si)
}

// systemImports gives acc, unless it is the system account or already
// has them, the service imports upstream gives every account, so that
// its users can ask about themselves: $SYS.REQ.USER.INFO, and
// $SYS.REQ.SERVER.PING.CONNZ, $SYS.REQ.ACCOUNT.PING.CONNZ and
// $SYS.REQ.ACCOUNT.PING.STATZ answered for their own account only. They
// are set before acc is shared (New, or a reload that adds acc) and
// never change.
func (s *Server) systemImports(acc *Account) error {
	sys := s.sysAcc
	if sys == nil || acc == sys || acc.sysImports != nil || !sublist.ValidLiteralSubject(acc.Name) || strings.Contains(acc.Name, ".") {
		return nil
	}
	single := &Export{}
	imports := sublist.New[*serviceImport]()
	accReq := sysAccountReqPrefix + acc.Name + "."
	for _, im := range []Import{
		{To: sysUserInfo, Subject: sysUserInfo},
		{To: sysServerPing + "." + KindConnz, Subject: accReq + KindConnz},
		{To: sysAccountReqPrefix + "PING." + KindConnz, Subject: accReq + KindConnz},
		{To: sysAccountPingStatz, Subject: accReq + "STATZ"},
	} {
		im.Account, im.From, im.Service = acc.Name, sys.Name, true
		si, err := newServiceImport(sys, &im, single)
		if err != nil {
			return err
		}
		if err := imports.Insert(im.To, "", si); err != nil {
			return err
		}
	}
	acc.sysImports = imports
	return nil
}

// deliverLinked is deliverMsg for an account with links. It reports
// whether any subscription took part, which decides no-responders.
func (s *Server) deliverLinked(pc *pubCtx, from *client, acc *Account, subject, reply []byte, hdrLen int, payload []byte, depth int) bool {
	l := acc.links.Load()
	if l == nil {
		l = &noLinks // only system imports
	}
	if depth == 0 && l.mappings != nil {
		mapped := l.mapSubject(s, subject)
		if pc.mt != nil && string(mapped) != string(subject) {
			pc.mt.mapped(mapped)
		}
		subject = mapped
	}
	if l.exportsServices && replies.IsReply(subject) {
		if r, ok := acc.resp.Take(string(subject)); ok {
			if depth >= maxImportDepth {
				return false
			}
			if mt := pc.mt; mt != nil {
				// A trace ends at the account boundary (msgtrace.go).
				if mt.only {
					return true
				}
				pc.mt, pc.mtCut = nil, mt
				defer func() { pc.mt, pc.mtCut = mt, nil }()
				hdrLen, payload = mt.disabled(hdrLen, payload)
			}
			return s.deliverIn(pc, from, r.acc, []byte(r.reply), nil, hdrLen, payload, depth+1)
		}
	}
	matched := s.deliverLocal(pc, from, acc, subject, reply, hdrLen, payload)
	mt := pc.mt
	if mt != nil {
		// A trace ends at the account boundary (msgtrace.go): what
		// crosses it is delivered untraced (or not at all, trace only).
		pc.mt, pc.mtCut = nil, mt
		defer func() { pc.mt, pc.mtCut = mt, nil }()
	}
	if l.importers != nil {
		for _, si := range l.importers.MatchBytes(subject).Plain {
			var local []byte
			local, pc.subjBuf = si.localSubject(pc.subjBuf[:0], subject)
			if mt != nil {
				mt.streamExport(si.to, local)
				if si.allowTrace {
					// The importer lets the trace go on.
					pc.mt, pc.mtCut = mt, nil
					ok := s.deliverLocal(pc, from, si.to, local, reply, hdrLen, payload)
					pc.mt, pc.mtCut = nil, mt
					matched = matched || ok
					continue
				}
				if mt.only {
					continue
				}
			}
			if s.deliverLocal(pc, from, si.to, local, reply, hdrLen, payload) {
				matched = true
			}
		}
	}
	if depth < maxImportDepth {
		if si := acc.serviceImport(l, subject); si != nil && s.deliverService(pc, from, acc, si, subject, reply, hdrLen, payload, depth) {
			matched = true
		}
	}
	return matched
}

// serviceImport returns the service import of a (with links l) that takes
// subject, or nil.
func (a *Account) serviceImport(l *accountLinks, subject []byte) *serviceImport {
	if a.sysImports != nil && hasSysPrefix(subject) {
		if r := a.sysImports.MatchBytes(subject); len(r.Plain) > 0 {
			return r.Plain[0]
		}
	}
	if l.services != nil {
		if r := l.services.MatchBytes(subject); len(r.Plain) > 0 {
			return r.Plain[0]
		}
	}
	return nil
}

// noLinks stands for the links of an account that has only system
// imports.
var noLinks accountLinks

// sysPrefix starts the subjects of the system account's services.
const sysPrefix = "$SYS."

func hasSysPrefix(subject []byte) bool {
	return len(subject) > len(sysPrefix) && string(subject[:len(sysPrefix)]) == sysPrefix
}

// linked reports whether a message published in a on subject takes the
// cross-account path: a has links, or subject may be one of the system
// imports. Plain accounts pay a nil test.
func (a *Account) linked(subject []byte) bool {
	return a.links.Load() != nil || (a.sysImports != nil && hasSysPrefix(subject))
}

// deliverRoutedResponse delivers a message that came over a route if it
// answers a pending response of acc held here, and reports whether it did.
func (s *Server) deliverRoutedResponse(pc *pubCtx, from *client, acc *Account, subject []byte, hdrLen int, payload []byte) bool {
	l := acc.links.Load()
	if l == nil || !l.exportsServices || !replies.IsReply(subject) {
		return false
	}
	r, ok := acc.resp.Take(string(subject))
	if !ok {
		return false
	}
	s.deliverIn(pc, from, r.acc, []byte(r.reply), nil, hdrLen, payload, 1)
	return true
}

// deliverIn delivers into acc, through its links when it has some.
func (s *Server) deliverIn(pc *pubCtx, from *client, acc *Account, subject, reply []byte, hdrLen int, payload []byte, depth int) bool {
	if acc.linked(subject) {
		return s.deliverLinked(pc, from, acc, subject, reply, hdrLen, payload, depth)
	}
	return s.deliverLocal(pc, from, acc, subject, reply, hdrLen, payload)
}

// deliverService forwards a request of acc to the exporting account of si,
// with a fresh reply subject there that leads the responses back.
func (s *Server) deliverService(pc *pubCtx, from *client, acc *Account, si *serviceImport, subject, reply []byte, hdrLen int, payload []byte, depth int) bool {
	target := subject
	if si.tr != nil {
		mapped, err := si.tr.Apply(string(subject))
		if err != nil {
			return false
		}
		target = []byte(mapped)
	}
	if mt := pc.mtCut; mt != nil {
		if depth == 0 {
			mt.serviceImport(si.to, subject, target)
		}
		switch {
		case depth == 0 && si.allowTrace:
			// The exporter lets the trace go on; what it and the
			// servers further on trace goes back to the importer's
			// destination through a pending response, as upstream's.
			pc.mt, pc.mtCut = mt, nil
			defer func() { pc.mt, pc.mtCut = nil, mt }()
			td := si.to.resp.Add(s.respTag, &pendingResponse{acc: mt.acc, reply: mt.dest}, false, si.threshold)
			h := withHeader(payload[:hdrLen], traceDestHeader, td)
			hdrLen, payload = len(h), append(h, payload[hdrLen:]...)
		case mt.only:
			return true
		default:
			hdrLen, payload = mt.disabled(hdrLen, payload)
		}
	}
	var rs string
	el := &si.to.resp
	if len(reply) > 0 {
		rs = el.Add(s.respTag, &pendingResponse{acc: acc, reply: string(reply)}, si.single, si.threshold)
	}
	var rb []byte
	if rs != "" {
		rb = []byte(rs)
	}
	hdrLen, payload = stripRequestInfo(hdrLen, payload)
	if s.deliverIn(pc, from, si.to, target, rb, hdrLen, payload, depth+1) {
		return true
	}
	if rs != "" {
		el.Remove(rs)
	}
	return false
}

// localSubject returns subject as the importer sees it, built in buf when
// it differs, and buf for reuse.
func (si *streamImport) localSubject(buf, subject []byte) (local, _ []byte) {
	switch {
	case si.tr != nil:
		mapped, err := si.tr.Apply(string(subject))
		if err != nil {
			return subject, buf
		}
		buf = append(buf, mapped...)
	case si.prefix != "":
		buf = append(append(buf, si.prefix...), subject...)
	default:
		return subject, buf
	}
	return buf, buf
}

// mapSubject applies the first mapping whose source matches subject,
// picking a destination by weight; a subject no mapping (or no weight)
// takes is returned unchanged. As upstream, when some destinations name
// the cluster s belongs to, only those apply there (their weights on
// their own); elsewhere only the destinations without a cluster do.
func (l *accountLinks) mapSubject(s *Server, subject []byte) []byte {
	r := l.mappings.MatchBytes(subject)
	if len(r.Plain) == 0 {
		return subject
	}
	m := r.Plain[0]
	scope := ""
	if m.scoped {
		if cn := s.cluster(); cn != "" && m.hasCluster(cn) {
			scope = cn
		}
	}
	n := rand.IntN(100)
	for _, d := range m.dests {
		if d.cluster != scope {
			continue
		}
		if n < d.weight {
			mapped, err := d.tr.Apply(string(subject))
			if err != nil {
				return subject
			}
			return []byte(mapped)
		}
		n -= d.weight
	}
	return subject
}

// hasCluster reports whether some destination of m names cluster cn.
func (m *mapping) hasCluster(cn string) bool {
	for _, d := range m.dests {
		if d.cluster == cn {
			return true
		}
	}
	return false
}

// subscribeResponses gives each account that exports services a
// subscription to its server's response subjects, so that routes carry
// the responses published on other servers here; deliverLinked and
// deliverRoutedResponse forward them, the handler never sees one that a
// pending response claims.
//
// It runs in New and after a reload published new links (accounts that
// export services for the first time get theirs), under Server.reloadMu.
func (s *Server) subscribeResponses(accs map[string]*Account) error {
	for _, acc := range accs {
		l := acc.links.Load()
		if acc.respIC != nil || l == nil || !l.exportsServices {
			continue
		}
		ic, err := s.NewInternalClient(acc.Name)
		if err != nil {
			return err
		}
		acc.respIC = ic
		if _, err := ic.Subscribe(replies.Prefix+s.respTag+".>", "", func(*Msg) {}); err != nil {
			return err
		}
	}
	return nil
}

// hasInterest reports whether a message published in a on subject may
// reach someone: a subscription of a, or a stream import of it (whose
// importer may have subscribers).
func (a *Account) hasInterest(subject string) bool {
	if a.sl.HasInterest(subject) {
		return true
	}
	l := a.links.Load()
	return l != nil && l.importers != nil && l.importers.HasInterest(subject)
}
