package server

import (
	"slices"

	"natsd.dev/auth"
	"natsd.dev/server/snapshot"
)

// The links and JWT fields of an /accountz account_detail, in upstream's
// shapes: the mappings, exports and imports the account has (from the
// options and, in operator mode, its JWT), the system imports every
// account gets, and an operator mode account's JWT.

// accountLinksInfo fills info's Mappings, Exports and Imports for
// account a from the server's current options (with the JWT accounts'
// links in operator mode).
func (s *Server) accountLinksInfo(a *Account, info *snapshot.AccountInfo) {
	base := s.Options()
	o := s.withJWT(&base)
	for i := range o.Exports {
		e := &o.Exports[i]
		if e.Account != a.Name {
			continue
		}
		// Upstream shows neither allow_trace nor response_threshold.
		x := snapshot.ExtExport{Subject: e.Subject, Type: "stream"}
		if e.Service {
			x.Type = "service"
			x.ResponseType = upstreamResponseType(e.ResponseType)
		}
		for _, acc := range e.Accounts {
			if acc == "" {
				// A JWT export that needs an activation token.
				x.TokenReq = true
				continue
			}
			x.ApprovedAccounts = append(x.ApprovedAccounts, acc)
		}
		info.Exports = append(info.Exports, x)
	}
	serverJS, accountJS := s.jetStreamOf(a.Name)
	info.JetStream = accountJS
	if sys := s.sysAcc; sys == a {
		info.Exports = append(info.Exports, systemExports()...)
		if serverJS {
			info.Exports = append(info.Exports, snapshot.ExtExport{Subject: jsAPIAll, Type: "service", ResponseType: "Singleton"})
		}
	}
	for i := range o.Imports {
		im := &o.Imports[i]
		if im.Account != a.Name {
			continue
		}
		x := snapshot.ExtImport{Subject: im.Subject, Account: im.From, Type: "stream", Share: im.Share}
		switch {
		case im.Service:
			x.Type = "service"
			x.To = im.Subject
			if im.To != "" {
				x.To = im.To
			}
			x.LocalSubject = x.To
		case im.To != "":
			x.LocalSubject = im.To
		case im.Prefix != "":
			x.LocalSubject = im.Prefix + "." + im.Subject
		default:
			x.LocalSubject = im.Subject
		}
		info.Imports = append(info.Imports, x)
	}
	info.Imports = append(info.Imports, s.systemImportsInfo(a)...)
	if sys := s.sysAcc; serverJS && sys != nil && sys != a {
		// Upstream imports the JetStream API into every account from
		// the system account; natsd's JetStream serves it in each.
		info.Imports = append(info.Imports, snapshot.ExtImport{Subject: jsAPIAll, Account: sys.Name, To: jsAPIAll, LocalSubject: jsAPIAll, Type: "service", Share: true})
	}
	info.Responses = responsesInfo(a)
	for i := range o.Mappings {
		m := &o.Mappings[i]
		name := m.Account
		if name == "" {
			name = GlobalAccountName
		}
		if name != a.Name {
			continue
		}
		if info.Mappings == nil {
			info.Mappings = map[string][]*snapshot.MapDest{}
		}
		info.Mappings[m.Source] = mapDests(m)
	}
}

// mapDests returns m's destinations as upstream shows them: those for
// every cluster first, then those of each cluster (by name); each
// weight added to those of the destinations before it in its group, and
// where a group's weights leave part of 100 unmapped, a last destination
// that is the source subject itself, at 100.
func mapDests(m *Mapping) []*snapshot.MapDest {
	var clusters []string
	for _, d := range m.Destinations {
		if d.Cluster != "" && !slices.Contains(clusters, d.Cluster) {
			clusters = append(clusters, d.Cluster)
		}
	}
	slices.Sort(clusters)
	dests := make([]*snapshot.MapDest, 0, len(m.Destinations)+1)
	for _, c := range append([]string{""}, clusters...) {
		sum, n := 0, 0
		for _, d := range m.Destinations {
			if d.Cluster != c {
				continue
			}
			w := int(d.Weight)
			if len(m.Destinations) == 1 && w == 0 {
				w = 100
			}
			sum += w
			n++
			dests = append(dests, &snapshot.MapDest{Subject: d.Subject, Weight: uint8(min(sum, 100)), Cluster: c})
		}
		if n > 0 && sum < 100 {
			dests = append(dests, &snapshot.MapDest{Subject: m.Source, Weight: 100, Cluster: c})
		}
	}
	return dests
}

// responsesInfo lists the pending responses of a's service exports by
// reply subject, nil without any.
func responsesInfo(a *Account) map[string]snapshot.ExtResponse {
	var out map[string]snapshot.ExtResponse
	a.resp.Range(func(subj string, p *pendingResponse) bool {
		if out == nil {
			out = map[string]snapshot.ExtResponse{}
		}
		out[subj] = snapshot.ExtResponse{Subject: p.reply, Account: p.acc.Name, To: subj, LocalSubject: subj, Type: 2}
		return true
	})
	return out
}

// jsAPIAll is every subject of the JetStream API.
const jsAPIAll = "$JS.API.>"

// jetStreamOf reports, from the JSZ provider, whether JetStream runs on
// the server and whether it is enabled for the account name.
func (s *Server) jetStreamOf(name string) (server, account bool) {
	d, err := s.Snapshot(KindJsz, &snapshot.JszOptions{Account: name})
	if err != nil {
		return false, false
	}
	ji, ok := d.(*snapshot.JSInfo)
	if !ok || ji == nil || ji.Disabled {
		return false, false
	}
	return true, len(ji.AccountDetails) > 0
}

// upstreamResponseType is upstream's name of a service export's response
// type in /accountz: Singleton, Streamed or Chunked.
func upstreamResponseType(r ResponseType) string {
	switch r {
	case ResponseStream:
		return "Streamed"
	case ResponseChunked:
		return "Chunked"
	}
	return "Singleton"
}

// systemExports are the services the system account exports to every
// account (see systemImports), as upstream lists them.
func systemExports() []snapshot.ExtExport {
	return []snapshot.ExtExport{
		{Subject: sysAccountReqPrefix + "*." + KindConnz, Type: "service", ResponseType: "Streamed"},
		{Subject: sysAccountReqPrefix + "*.STATZ", Type: "service", ResponseType: "Streamed"},
		{Subject: sysUserPrefix + "*.INFO", Type: "service", ResponseType: "Singleton"},
	}
}

// sysUserPrefix starts upstream's per-account user info subject
// $SYS.REQ.USER.<account>.INFO, the subject $SYS.REQ.USER.INFO is
// imported from.
const sysUserPrefix = "$SYS.REQ.USER."

// systemImportsInfo lists the system imports of a (systemImports) as
// upstream shows them: each local subject imported from the system
// account's per-account subject. The system account imports only its
// user info service.
func (s *Server) systemImportsInfo(a *Account) []snapshot.ExtImport {
	sys := s.sysAcc
	if sys == nil {
		return nil
	}
	userInfo := snapshot.ExtImport{Subject: sysUserPrefix + a.Name + ".INFO", Account: sys.Name, To: sysUserInfo, LocalSubject: sysUserInfo, Type: "service", Share: true}
	if a == sys {
		return []snapshot.ExtImport{userInfo}
	}
	if a.sysImports == nil {
		return nil
	}
	accReq := sysAccountReqPrefix + a.Name + "."
	imp := func(subject, local string) snapshot.ExtImport {
		return snapshot.ExtImport{Subject: subject, Account: sys.Name, To: local, LocalSubject: local, Type: "service"}
	}
	return []snapshot.ExtImport{
		imp(accReq+KindConnz, sysAccountReqPrefix+"PING."+KindConnz),
		imp(accReq+KindConnz, sysServerPing+"."+KindConnz),
		imp(accReq+"STATZ", sysAccountPingStatz),
		userInfo,
	}
}

// accountJWTInfo fills info's JWT fields for an operator mode account:
// the token, its issuer, name, tags, decoded claims and revoked users.
func (s *Server) accountJWTInfo(name string, info *snapshot.AccountInfo) {
	info.NameTag = s.accountNameTag(name)
	if s.op == nil {
		return
	}
	ac := s.op.cached(name)
	if ac == nil || ac.JWT == "" {
		return
	}
	info.JWT = ac.JWT
	d, err := auth.DescribeAccountJWT(ac.JWT)
	if err != nil {
		return
	}
	info.IssuerKey = d.Issuer
	info.Tags = d.Tags
	info.Claim = d.Claims
	for _, v := range d.Issues {
		info.Vr = append(info.Vr, snapshot.ExtVrIssues{Description: v.Description, Blocking: v.Blocking, Time: v.TimeCheck})
	}
	info.RevokedUser = d.Revoked
}
