package gateway_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"natsd.dev/cluster/gateway"
	"natsd.dev/cluster/internal/linkconf/linkconftest"
	"natsd.dev/confparse"
	"natsd.dev/server"
)

func parseGateway(t *testing.T, text string) (*gateway.Options, confparse.ErrorList, error) {
	t.Helper()
	return gateway.ParseConfig(linkconftest.Entry(t, text, "gateway"))
}

func TestParseConfigAllKeys(t *testing.T) {
	o, warns, err := parseGateway(t, `
gateway {
  name: "east"
  listen: 127.0.0.1:7222
  advertise: "east.example.com:7222"
  connect_retries: 5
  connect_backoff: true
  reject_unknown_cluster: true
  write_deadline: "3s"
  write_timeout: close
  authorization { user: gwu, password: gwp, timeout: 0.5 }
  gateways: [
    { name: west, url: "nats://gwu:gwp@10.0.0.2:7222" }
    { name: north, urls: ["nats://10.0.0.3:7222", "nats://10.0.0.4:7222"] }
  ]
}
`)
	if err != nil || len(warns) != 0 {
		t.Fatalf("err %v warns %v", err, warns)
	}
	if o.Name != "east" || o.Host != "127.0.0.1" || o.Port != 7222 || o.Advertise != "east.example.com:7222" ||
		o.ConnectRetries != 5 || !o.ConnectBackoff || !o.RejectUnknown || o.Username != "gwu" || o.Password != "gwp" ||
		o.AuthTimeout != 500*time.Millisecond || !o.On() || o.WriteDeadline != 3*time.Second || o.WriteTimeout != "close" {
		t.Fatalf("options %+v", o)
	}
	if len(o.Gateways) != 2 || o.Gateways[0].Name != "west" || len(o.Gateways[0].URLs) != 1 ||
		o.Gateways[0].URLs[0].User.Username() != "gwu" || o.Gateways[1].Name != "north" || len(o.Gateways[1].URLs) != 2 {
		t.Fatalf("gateways %+v", o.Gateways)
	}
}

func TestParseConfigPorts(t *testing.T) {
	for _, tc := range []struct {
		text string
		port int
		host string
	}{
		{`gateway { name: a, port: -1 }`, 0, ""},
		{`gateway { name: a, port: 7222, host: 127.0.0.1 }`, 7222, "127.0.0.1"},
		{`gateway { name: a, listen: 7333 }`, 7333, ""},
		{`gateway { name: a, listen: "0.0.0.0:-1" }`, 0, "0.0.0.0"},
		{`gateway { reject_unknown: true }`, -1, ""},
		{`gateway { }`, -1, ""},
	} {
		o, _, err := parseGateway(t, tc.text)
		if err != nil {
			t.Fatalf("%s: %v", tc.text, err)
		}
		if o.Port != tc.port || o.Host != tc.host {
			t.Fatalf("%s: port %d host %q", tc.text, o.Port, tc.host)
		}
	}
}

// TestParseConfigErrors checks that every problem of a block is reported
// at once, each with upstream's text, its kind and its position.
func TestParseConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string
		kind error
	}{
		{"gateway {\n port: 7222\n}", []string{"test.conf:1:1: gateway has no name"}, server.ErrBadValue},
		{"gateway {\n name: a\n}", []string{`test.conf:1:1: gateway "a" has no port specified (select -1 for random port)`}, server.ErrBadValue},
		{"gateway {\n name: \"a b\", port: -1\n}", []string{"gateway name cannot contain spaces"}, server.ErrBadValue},
		{"gateway {\n name: a, port: -1\n authorization { users: [] }\n}", []string{"test.conf:3:16: Gateway authorization does not allow multiple users"}, server.ErrBadValue},
		{"gateway {\n name: a, port: -1\n authorization { token: x }\n}", []string{"Gateway authorization does not support tokens"}, server.ErrBadValue},
		{"gateway {\n name: a, port: -1\n gateways: [ { url: \"nats://h:1\" } ]\n}", []string{"gateway in the list 0 has no name"}, server.ErrBadValue},
		{"gateway {\n name: a, port: -1\n gateways: [ { name: b } ]\n}", []string{`gateway "b" has no URL`}, server.ErrBadValue},
		{"gateway {\n name: a, port: -1\n gateways: [ { name: b, url: \"h\" } ]\n}", []string{`error parsing gateway url ["h"]`}, server.ErrBadValue},
		{"gateway {\n name: a, port: -1\n gateways: 1\n}", []string{"Expected gateways field to be an array"}, server.ErrBadValue},
		{"gateway {\n name: a, port: -1\n gateways: [ 1 ]\n}", []string{"Expected gateway entry to be a map/struct"}, server.ErrBadValue},
		{"gateway {\n name: a, port: -1\n bogus: 1\n}", []string{`test.conf:3:2: unknown field "bogus"`}, server.ErrUnknownField},
		{"gateway {\n name: a, port: -1\n write_deadline: \"x\"\n}", []string{`test.conf:3:18: error parsing write_deadline: time: invalid duration "x"`}, server.ErrBadValue},
		{"gateway {\n name: a, port: -1\n write_timeout: bogus\n}", []string{"test.conf:3:17: write_timeout must be 'default', 'close' or 'retry'"}, server.ErrBadValue},
		{"gateway {\n name: a, port: 70000\n}", []string{"70000 is not a port number"}, server.ErrBadValue},
		{"gateway: 1", []string{"Expected gateway to be a map"}, server.ErrBadValue},
	} {
		_, _, err := parseGateway(t, tc.text)
		var list confparse.ErrorList
		if !errors.As(err, &list) {
			t.Fatalf("%q: err %v is not an ErrorList", tc.text, err)
		}
		if len(list) != len(tc.want) {
			t.Fatalf("%q: errors %v, want %d", tc.text, list, len(tc.want))
		}
		for i, e := range list {
			if !strings.Contains(e.Error(), tc.want[i]) || !errors.Is(e, tc.kind) {
				t.Fatalf("%q: error %q (kind %v), want %q (%v)", tc.text, e.Error(), e.Err, tc.want[i], tc.kind)
			}
		}
	}
}

func TestParseConfigAllErrorsAtOnce(t *testing.T) {
	_, _, err := parseGateway(t, "gateway {\n name: a, port: -1\n bogus: 1\n gateways: [ { name: b } ]\n authorization { token: t }\n}")
	var list confparse.ErrorList
	if !errors.As(err, &list) || len(list) != 3 {
		t.Fatalf("want 3 errors, got %v", err)
	}
}

// TestParseConfigWriteDeadline: write_deadline takes a duration, or as
// upstream an integer number of seconds with a warning; write_timeout
// upstream's three policies.
func TestParseConfigWriteDeadline(t *testing.T) {
	o, warns, err := parseGateway(t, "gateway { name: a, port: -1, write_deadline: 4, write_timeout: retry }")
	if err != nil || o.WriteDeadline != 4*time.Second || o.WriteTimeout != "retry" {
		t.Fatalf("err %v options %+v", err, o)
	}
	if len(warns) != 1 || !strings.Contains(warns[0].Error(), `invalid use of field "write_deadline": write_deadline should be converted to a duration`) {
		t.Fatalf("warnings %v", warns)
	}
	for _, w := range []string{"default", "close", "retry"} {
		if o, _, err := parseGateway(t, "gateway { name: a, port: -1, write_timeout: "+w+" }"); err != nil || o.WriteTimeout != w {
			t.Fatalf("%s: %v %+v", w, err, o)
		}
	}
}

func TestCheckClusterName(t *testing.T) {
	for _, tc := range []struct {
		cluster, gw, want string
		err               bool
	}{
		{"", "", "", false},
		{"a", "", "a", false},
		{"", "b", "b", false},
		{"c", "c", "c", false},
		{"c", "d", "", true},
	} {
		got, err := gateway.CheckClusterName(tc.cluster, tc.gw)
		if got != tc.want || (err != nil) != tc.err {
			t.Fatalf("%q %q: %q %v", tc.cluster, tc.gw, got, err)
		}
		if err != nil && err.Error() != "cluster name conflicts between cluster and gateway definitions" {
			t.Fatalf("text %q", err)
		}
	}
}
