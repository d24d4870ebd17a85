// Package jetstream implements NATS JetStream: streams, consumers and their
// storage.
//
// With a domain (Options.Domain) the API is also served on
// $JS.<domain>.API.>, and $JS.<domain>.API.$KV.> and $JS.<domain>.API.$OBJ.>
// are taken as $KV.> and $OBJ.>, as upstream's domain mappings do, so that
// clients across a leaf node connection reach this JetStream through its
// domain. DefaultDomainMappings are the mappings default_js_domain installs
// in the accounts it names (the plain API sent to another domain's).
package jetstream
