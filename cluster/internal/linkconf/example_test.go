package linkconf_test

import (
	"fmt"

	"natsd.dev/cluster/internal/linkconf"
	"natsd.dev/confparse"
)

// A kind's parser reads listen through Listen, then maps the port to its
// Options' convention.
func ExampleListen() {
	m, err := confparse.ParseWithOptions("x.conf", []byte(`cluster { listen: "127.0.0.1:-1", bad: "h:70000" }`), confparse.Options{})
	if err != nil {
		panic(err)
	}
	var d confparse.Decoder
	var host string
	var port int
	for i, k := range []string{"listen", "bad"} {
		e := m.Lookup("cluster").Value.Map.Entries[i]
		if linkconf.Listen(&d, "cluster "+k, e.Value, &host, &port) {
			fmt.Println(host, port, linkconf.UpstreamPort(port))
		}
	}
	fmt.Println(d.Errors)
	// Output:
	// 127.0.0.1 -1 0
	// x.conf:1:40: 70000 is not a port number
}
