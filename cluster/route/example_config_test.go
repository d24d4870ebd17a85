package route_test

import (
	"fmt"
	"time"

	"natsd.dev/cluster/route"
	"natsd.dev/confparse"
)

// ExampleParseConfig turns the cluster {} block of a configuration file
// into Options.
func ExampleParseConfig() {
	m, err := confparse.Parse([]byte(`
cluster {
  name: east
  listen: 0.0.0.0:6222
  routes: [nats-route://ruser:pwd@seed.example.com:6222]
  compression: s2_auto
}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	o, warnings, err := route.ParseConfig(m.Lookup("cluster"))
	if err != nil {
		fmt.Println(err) // one "line:col: message" per problem
		return
	}
	fmt.Println(o.Name, o.Port, o.Routes[0].Host, o.Compression.Mode, o.Compression.RTTThresholds, len(warnings))
	// Output: east 6222 seed.example.com:6222 s2_auto [10ms 50ms 100ms] 0
}

// ExampleSelectCompression shows upstream's negotiation of the route
// compression mode and s2_auto's choice of a level by RTT.
func ExampleSelectCompression() {
	for _, pair := range [][2]string{
		{route.CompressionAccept, route.CompressionAccept},
		{route.CompressionAccept, route.CompressionS2Best},
		{route.CompressionS2Fast, route.CompressionOff},
		{route.CompressionS2Auto, route.CompressionAccept},
	} {
		mode, _ := route.SelectCompression(pair[0], pair[1])
		fmt.Printf("%s + %s = %s\n", pair[0], pair[1], mode)
	}
	fmt.Println(route.AutoLevel(30*time.Millisecond, nil))
	// Output:
	// accept + accept = off
	// accept + s2_best = s2_best
	// s2_fast + off = off
	// s2_auto + accept = s2_auto
	// s2_fast
}
