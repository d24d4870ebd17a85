package cluster_test

import (
	"context"
	"testing"

	"natsd.dev/cluster"
	"natsd.dev/confparse"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// The former single-package API still starts and parses routes.
func TestCompatibleAPI(t *testing.T) {
	root, err := confparse.Parse([]byte("cluster { name: c, listen: 127.0.0.1:-1 }"))
	if err != nil {
		t.Fatal(err)
	}
	o, _, err := cluster.ParseConfig(root.Lookup("cluster"))
	if err != nil {
		t.Fatal(err)
	}
	s := servertest.Start(t, server.Options{})
	c, err := cluster.Start(s, o)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr() == nil || c.Name() != "c" {
		t.Fatalf("addr %v name %q", c.Addr(), c.Name())
	}
	if err := c.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}
