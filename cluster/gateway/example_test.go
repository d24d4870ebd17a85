package gateway_test

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"natsd.dev/cluster/gateway"
	"natsd.dev/confparse"
	"natsd.dev/server"
)

// Two clusters of one server each: east dials west, and west learns east
// from the connection.
func ExampleStart() {
	start := func(name string) *server.Server {
		s, err := server.New(server.Options{ServerName: name, Host: "127.0.0.1", Port: server.RandomPort})
		if err != nil {
			panic(err)
		}
		if err := s.Start(); err != nil {
			panic(err)
		}
		return s
	}
	eastSrv, westSrv := start("e1"), start("w1")
	west, err := gateway.Start(westSrv, &gateway.Options{Name: "west", Host: "127.0.0.1", Port: 0})
	if err != nil {
		panic(err)
	}
	east, err := gateway.Start(eastSrv, &gateway.Options{Name: "east", Host: "127.0.0.1", Port: 0,
		Gateways: []gateway.RemoteGateway{{Name: "west", URLs: []*url.URL{{Scheme: "nats", Host: west.Addr().String()}}}}})
	if err != nil {
		panic(err)
	}
	for deadline := time.Now().Add(5 * time.Second); (len(east.OutboundGateways()) == 0 || len(west.OutboundGateways()) == 0) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Println("east ->", east.OutboundGateways(), "west ->", west.OutboundGateways())
	_ = east.Shutdown(context.Background())
	_ = west.Shutdown(context.Background())
	_ = eastSrv.Shutdown(context.Background())
	_ = westSrv.Shutdown(context.Background())
	// Output: east -> [west] west -> [east]
}

// ParseConfig reads a gateway {} block.
func ExampleParseConfig() {
	m, err := confparseParse(`gateway {
  name: east
  listen: "127.0.0.1:7222"
  gateways: [ { name: west, urls: ["nats://10.0.0.2:7222"] } ]
}`)
	if err != nil {
		panic(err)
	}
	o, _, err := gateway.ParseConfig(m.Lookup("gateway"))
	if err != nil {
		panic(err)
	}
	fmt.Println(o.Name, o.Port, o.Gateways[0].Name, o.Gateways[0].URLs[0].Host)
	// Output: east 7222 west 10.0.0.2:7222
}

func confparseParse(text string) (*confparse.Map, error) {
	return confparse.ParseWithOptions("example.conf", []byte(text), confparse.Options{})
}

// CheckReload says what a reload of the gateway {} block changes, or
// why it is refused.
func ExampleCheckReload() {
	b, _ := url.Parse("nats://b.example.com:7222")
	old := &gateway.Options{Name: "A", Port: 7222}
	nu := &gateway.Options{Name: "A", Port: 7222, RejectUnknown: true,
		Gateways: []gateway.RemoteGateway{{Name: "B", URLs: []*url.URL{b}}}}
	changes, err := gateway.CheckReload(old, nu)
	fmt.Println(changes, err)
	_, err = gateway.CheckReload(old, &gateway.Options{Name: "Z", Port: 7222})
	fmt.Println(err)
	// Output:
	// [gateway reject_unknown_cluster = true gateway remote "B" added] <nil>
	// config reload not supported for Gateway: field "Name": old=A, new=Z
}
