package jetstream_test

import (
	"fmt"

	"natsd.dev/jetstream"
)

// The subject mappings default_js_domain installs: a leaf node without
// JetStream sends its global account's plain API to its hub's domain.
func ExampleDefaultDomainMappings() {
	for _, m := range jetstream.DefaultDomainMappings(map[string]string{"$G": "hub", "OLD": ""}) {
		fmt.Println(m.Account, m.Source, "->", m.Destinations[0].Subject)
	}
	// Output:
	// $G $JS.API.INFO -> $JS.hub.API.INFO
	// $G $JS.API.STREAM.> -> $JS.hub.API.STREAM.>
	// $G $JS.API.CONSUMER.> -> $JS.hub.API.CONSUMER.>
	// $G $JS.API.DIRECT.> -> $JS.hub.API.DIRECT.>
	// $G $JS.API.META.> -> $JS.hub.API.META.>
	// $G $JS.API.SERVER.> -> $JS.hub.API.SERVER.>
	// $G $JS.API.ACCOUNT.> -> $JS.hub.API.ACCOUNT.>
	// $G $KV.> -> $JS.hub.API.$KV.>
	// $G $OBJ.> -> $JS.hub.API.$OBJ.>
}
