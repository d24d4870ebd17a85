package jetstream

import (
	"slices"
	"strings"

	"natsd.dev/server"
)

// A JetStream with a domain serves its API under $JS.<domain>.API. too
// (apiPrefixes), and, as upstream's domain mappings do, takes the KV and
// object store subjects under it: $JS.<domain>.API.$KV.> is published
// again on $KV.>, $JS.<domain>.API.$OBJ.> on $OBJ.>. Clients elsewhere
// (on a leaf node of another domain) write to a bucket with nats.go's
// jetstream.NewWithDomain that way. These are subscriptions, so their
// interest reaches the leaf node connections that carry the requests.

// serveDomainStores subscribes the account's fast client to the KV and
// object store subjects under the domain's API.
func (a *account) serveDomainStores() error {
	d := a.js.opts.Domain
	if d == "" || a.fast == nil {
		return nil
	}
	prefix := "$JS." + d + ".API."
	for _, t := range []string{"$KV.>", "$OBJ.>"} {
		if _, err := a.fast.Subscribe(prefix+t, "", func(m *server.Msg) {
			subj, ok := strings.CutPrefix(string(m.Subject), prefix)
			if !ok {
				return
			}
			_ = a.fast.Publish(subj, string(m.Reply), m.Header, m.Data)
		}); err != nil {
			return err
		}
	}
	return nil
}

// DefaultDomainMappings are the subject mappings default_js_domain
// installs, as upstream: in each account mapped to a domain, the API
// without a domain and the KV and object store prefixes go to that
// domain's API, so that the clients of a server without JetStream (a
// leaf node) use the JetStream of the named domain (its hub) with the
// plain API. An account mapped to the empty domain gets none (the leaf
// node connections then let the plain API cross instead). The result is
// sorted by account, then in upstream's table order.
func DefaultDomainMappings(domains map[string]string) []server.Mapping {
	var accounts []string
	for acc, d := range domains {
		if d != "" {
			accounts = append(accounts, acc)
		}
	}
	slices.Sort(accounts)
	var out []server.Mapping
	for _, acc := range accounts {
		p := "$JS." + domains[acc] + ".API."
		for _, pr := range [][2]string{
			{"$JS.API.INFO", p + "INFO"},
			{"$JS.API.STREAM.>", p + "STREAM.>"},
			{"$JS.API.CONSUMER.>", p + "CONSUMER.>"},
			{"$JS.API.DIRECT.>", p + "DIRECT.>"},
			{"$JS.API.META.>", p + "META.>"},
			{"$JS.API.SERVER.>", p + "SERVER.>"},
			{"$JS.API.ACCOUNT.>", p + "ACCOUNT.>"},
			{"$KV.>", p + "$KV.>"},
			{"$OBJ.>", p + "$OBJ.>"},
		} {
			out = append(out, server.Mapping{Account: acc, Source: pr[0], Destinations: []server.MapDestination{{Subject: pr[1]}}})
		}
	}
	return out
}
