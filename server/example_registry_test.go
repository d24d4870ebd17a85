package server_test

import (
	"encoding/json"
	"fmt"

	"natsd.dev/server"
	"natsd.dev/server/snapshot"
)

// A module that runs leaf nodes registers its LEAFZ provider and its
// section of /varz once; the monitor's /leafz and $SYS.REQ.SERVER.PING.LEAFZ
// then both answer with it.
func ExampleServer_RegisterProvider() {
	s, err := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort})
	if err != nil {
		panic(err)
	}
	s.RegisterProvider(server.KindLeafz, server.ProviderFunc(func(o *snapshot.LeafzOptions) (*snapshot.Leafz, error) {
		return &snapshot.Leafz{ID: s.ID(), NumLeafs: 1, Leafs: []*snapshot.LeafInfo{{Name: "spoke", Account: "$G"}}}, nil
	}))
	s.RegisterVarz("leaf", server.VarzFunc(func(v *snapshot.Varz) {
		v.LeafNode.Port = 7422
		v.Leafs = 1
	}))

	d, _ := s.Snapshot(server.KindLeafz, &snapshot.LeafzOptions{})
	fmt.Println(d.(*snapshot.Leafz).Leafs[0].Name)
	v, _ := s.Varz(nil)
	leaf, _ := json.Marshal(v.LeafNode)
	fmt.Println(string(leaf), v.Leafs)

	// Unregistered, LEAFZ answers upstream's empty document again.
	s.RegisterProvider(server.KindLeafz, nil)
	d, _ = s.Snapshot(server.KindLeafz, nil)
	fmt.Println(len(d.(*snapshot.Leafz).Leafs))
	// Output:
	// spoke
	// {"port":7422} 1
	// 0
}
