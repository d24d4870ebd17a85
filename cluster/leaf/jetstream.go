package leaf

import "fmt"

// JetStream across a leaf node connection, as upstream decides it when a
// connection binds its account:
//
//   - The API without a domain ($JS.API.>) and the KV and object store
//     prefixes ($KV.>, $OBJ.>) never cross, both ways, for every account
//     but one that default_js_domain maps to the empty domain (upstream's
//     compatibility with set-ups older than domains). In the system
//     account, JetStream's cluster and Raft subjects ($JSC.>, $NRG.>) do
//     not cross either: natsd never extends a JetStream domain over a
//     leaf node connection.
//   - A domain's API ($JS.<domain>.API.>) crosses: a client reaches the
//     JetStream of another domain through it (nats.go
//     jetstream.NewWithDomain, the CLI's --js-domain), and the server
//     whose domain it is serves it ($KV and $OBJ under it too).
//   - When this server runs JetStream with a domain and the two sides are
//     not one domain (the domains differ, the peer has none, or there is
//     no system account), messages on $JS.<our domain>.API.> do not leave
//     over the connection: a peer configured with our domain by mistake
//     does not answer for us.

// jsPolicy is what a connection denies of JetStream's subjects: both ways
// (messages and interest), and the messages it sends out on top.
type jsPolicy struct {
	both *denyList
	out  *denyList // both, plus the outgoing guard of our domain
}

// jsPolicy computes the policy of a connection bound to account, whose
// peer announced remoteDomain (its CONNECT, or the hub's INFO).
func (lf *Leaf) jsPolicy(prefix, account, remoteDomain string) jsPolicy {
	sys := lf.s.SystemAccount()
	isSys := sys != nil && sys.Name == account
	if d, ok := lf.o.DefaultJSDomains[account]; ok && d == "" && !isSys {
		lf.log.Debug(fmt.Sprintf("%s - Skipping deny %q for account %q due to default domain", prefix, "$JS.API.>", account))
		return jsPolicy{}
	}
	si := lf.s.ServerInfo()
	local := si.Domain
	mismatch := local != remoteDomain || (!si.JetStream && local == "") || sys == nil
	var p jsPolicy
	switch {
	case isSys:
		p.both = jsDenyAll
		if mismatch {
			lf.log.Info(prefix + " - JetStream not extended, domains differ")
		}
	default:
		p.both = jsDenyClient
		if mismatch {
			lf.log.Info(fmt.Sprintf("%s - JetStream using domains: local %q, remote %q", prefix, local, remoteDomain))
		}
	}
	p.out = p.both
	if mismatch && si.JetStream && local != "" && !isSys {
		guard := jsDomainAPI(local)
		if d, err := compileDeny("domain", append(p.both.subjects(), guard)); err == nil {
			p.out = d
			lf.log.Debug(fmt.Sprintf("%s - Adding deny %q for outgoing messages to account %q", prefix, guard, account))
		}
	}
	return p
}

// jsDomainAPI is the API subject space of a JetStream domain.
func jsDomainAPI(domain string) string { return "$JS." + domain + ".API.>" }
