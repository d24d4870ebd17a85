package route_test

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"natsd.dev/cluster/internal/linkconf/linkconftest"
	"natsd.dev/cluster/route"
	"natsd.dev/confparse"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// parseCluster parses text as a configuration file and hands its cluster
// entry to route.ParseConfig.
func parseCluster(t *testing.T, text string) (*route.Options, confparse.ErrorList, error) {
	t.Helper()
	return route.ParseConfig(linkconftest.Entry(t, text, "cluster"))
}

func TestParseConfigAllKeys(t *testing.T) {
	o, warns, err := parseCluster(t, `
cluster {
  name: "east"
  listen: 127.0.0.1:6222
  advertise: "east.example.com:6222"
  no_advertise: true
  routes: [
    nats-route://ruser:T0pS3cr3t@10.0.0.2:6222
    nats://10.0.0.3:6222
  ]
  authorization { user: ruser, password: T0pS3cr3t, timeout: 0.5 }
  connect_retries: 5
  connect_backoff: true
  pool_size: 5
  accounts: [A, B]
  compression: { mode: s2_auto, rtt_thresholds: ["5ms", "20ms", "40ms"] }
  ping_interval: "20s"
  ping_max: 4
}
`)
	if err != nil || len(warns) != 0 {
		t.Fatalf("err %v warns %v", err, warns)
	}
	ms := time.Millisecond
	if o.Name != "east" || o.Host != "127.0.0.1" || o.Port != 6222 || o.Advertise != "east.example.com:6222" || !o.NoAdvertise ||
		o.Username != "ruser" || o.Password != "T0pS3cr3t" || o.AuthTimeout != 500*ms || o.ConnectRetries != 5 || !o.ConnectBackoff || o.PoolSize != 5 ||
		strings.Join(o.PinnedAccounts, ",") != "A,B" || o.PingInterval != 20*time.Second || o.MaxPingsOut != 4 {
		t.Errorf("options %+v", o)
	}
	if c := o.Compression; c.Mode != route.CompressionS2Auto || fmt.Sprint(c.RTTThresholds) != "[5ms 20ms 40ms]" {
		t.Errorf("compression %+v", c)
	}
	if len(o.Routes) != 2 || o.Routes[0].Host != "10.0.0.2:6222" || o.Routes[0].User.Username() != "ruser" || o.Routes[1].Scheme != "nats" {
		t.Errorf("routes %v", o.Routes)
	}
}

func TestParseConfigPorts(t *testing.T) {
	for _, tc := range []struct {
		block string
		host  string
		port  int
	}{
		{"cluster { name: x }", "", -1}, // no port: clustering off
		{"cluster { port: 0 }", "", -1},
		{"cluster { port: -1 }", "", 0}, // random
		{"cluster { listen: 6222 }", "", 6222},
		{"cluster { listen: \":-1\" }", "", 0},
		{"cluster { host: 127.0.0.1, port: 7000 }", "127.0.0.1", 7000},
		{"cluster { net: 0.0.0.0, listen: \"127.0.0.2:7001\" }", "127.0.0.2", 7001},
	} {
		o, _, err := parseCluster(t, tc.block)
		if err != nil || o.Host != tc.host || o.Port != tc.port {
			t.Errorf("%s: host %q port %d err %v, want %q %d", tc.block, o.Host, o.Port, err, tc.host, tc.port)
		}
	}
}

func TestParseConfigCompressionForms(t *testing.T) {
	for _, tc := range []struct{ value, mode string }{
		{"true", route.CompressionS2Fast},
		{"false", route.CompressionOff},
		{"s2_best", route.CompressionS2Best},
		{`"Accept"`, route.CompressionAccept},
		{"{ mode: better }", route.CompressionS2Better},
		{"{ rtt_thresholds: [\"1ms\"], mode: auto }", route.CompressionS2Auto},
	} {
		o, _, err := parseCluster(t, "cluster { compression: "+tc.value+" }")
		if err != nil || o.Compression.Mode != tc.mode {
			t.Errorf("%s: %+v %v, want %s", tc.value, o, err, tc.mode)
		}
	}
	o, _, _ := parseCluster(t, "cluster { port: 1 }")
	if o.Compression.Mode != "" {
		t.Errorf("default mode %q, want \"\" (accept)", o.Compression.Mode)
	}
}

func TestParseConfigErrorsAllReported(t *testing.T) {
	_, warns, err := parseCluster(t, `cluster {
  name: "my cluster"
  listen: "0.0.0.0:XXXX"
  routes: [
    "0.0.0.0:6222"
    nats-route://a:6222
    nats-route://a:6222
  ]
  authorization { users: [] }
  compression: s2_medium
  pool_size: -2
  permissions: { import: "foo..bar" }
  bogus: 1
  port: 70000
  ping_interval: 90
  connect_retries: "x"
}
`)
	want := []string{
		`test.conf:2:9: cluster name cannot contain spaces or new lines`,
		`test.conf:3:11: could not parse port "XXXX"`,
		`test.conf:5:5: error parsing route url ["0.0.0.0:6222"]`,
		`test.conf:9:17: Cluster authorization does not allow multiple users`,
		`test.conf:10:16: cluster: invalid compression: unsupported compression mode "s2_medium"`,
		`test.conf:11:14: cluster pool_size: -2 is not a pool size (-1 turns pooling off)`,
		`test.conf:12:26: subject "foo..bar" is not a valid subject`,
		`test.conf:13:3: unknown field "bogus"`,
		`test.conf:14:9: cluster port: 70000 is not a port number`,
		`test.conf:16:20: cluster connect_retries: expected an integer, got string "x"`,
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Errorf("got:\n%v\nwant:\n%s", err, strings.Join(want, "\n"))
	}
	wantWarns := []string{
		`test.conf:7:5: Duplicate route entry detected`,
		`test.conf:15:18: invalid use of field "cluster ping_interval": cluster ping_interval should be converted to a duration`,
		`test.conf:15:18: Cluster 'ping_interval' will reset to 30s which is the max for routes`,
	}
	if warns.Error() != strings.Join(wantWarns, "\n") || !errors.Is(warns, server.ErrConfigWarning) {
		t.Errorf("warnings:\n%v", warns)
	}
	linkconftest.CheckKinds(t, err, map[error]int{server.ErrUnknownField: 1, server.ErrNotSupported: 0, server.ErrBadValue: 9})
}

func TestParseConfigBadTypes(t *testing.T) {
	for _, tc := range []struct{ text, err string }{
		{"cluster: 6222", `test.conf:1:10: cluster: expected a map, got integer 6222`},
		{"cluster { routes: \"nats://a:1\" }", `test.conf:1:19: cluster routes: expected an array of URLs, got string "nats://a:1"`},
		{"cluster { authorization { token: abc } }", `test.conf:1:25: Cluster authorization does not support tokens`},
		{"cluster { permissions: { allow_responses: true } }", `test.conf:1:26: Cluster permissions do not support dynamic responses`},
		{"cluster { permissions: [foo] }", `test.conf:1:24: Expected permissions to be a map/struct, got array`},
		{"cluster { compression: 1 }", `test.conf:1:24: field "compression" should be a boolean or a structure, got int64`}, // upstream 2.15.2 -t text
		{"cluster { compression: { mode: auto, rtt_thresholds: [\"50ms\", \"10ms\"] } }", `test.conf:1:24: cluster: invalid compression: RTT threshold values [50ms 10ms] should be in ascending order`},
		{"cluster { compression: { level: 3 } }", `test.conf:1:26: unknown field "level"`},
		{"cluster { accounts: A }", `test.conf:1:21: cluster accounts: expected an array of account names, got string "A"`},
		{"cluster { no_advertise: 1 }", `test.conf:1:25: cluster no_advertise: expected a boolean, got integer 1`},
		{"cluster { connect_backoff: \"yes please\" }", `test.conf:1:28: cluster connect_backoff: expected a boolean, got string "yes please"`},
		{"cluster { write_deadline: \"1s\" }", `test.conf:1:11: cluster write_deadline is not supported yet`},
		{"cluster { tls { cert_file: a, ocsp_peer: true } }", `test.conf:1:31: tls ocsp_peer is not supported yet`},
	} {
		_, _, err := parseCluster(t, tc.text)
		if err == nil || err.Error() != tc.err {
			t.Errorf("%s:\n got %v\nwant %s", tc.text, err, tc.err)
		}
	}
}

func TestParseConfigVariables(t *testing.T) {
	o, _, err := parseCluster(t, "cluster {\n  P: 7222\n  port: $P\n}\n")
	if err != nil || o.Port != 7222 {
		t.Fatalf("%+v %v", o, err)
	}
}

func TestParseConfigTLS(t *testing.T) {
	f := servertest.NewPKI(t).Files()
	cert, key := f.Cert, f.Key
	o, _, err := parseCluster(t, fmt.Sprintf("cluster {\n port: 1\n tls { cert_file: %q, key_file: %q, ca_file: %q, timeout: 3 }\n}\n", cert, key, f.CA))
	if err != nil {
		t.Fatal(err)
	}
	c := o.TLSConfig
	if c == nil || len(c.Certificates) != 1 || c.ClientAuth != tls.RequireAndVerifyClientCert || c.RootCAs == nil || c.ClientCAs == nil || o.TLSTimeout != 3*time.Second {
		t.Errorf("tls %+v timeout %v", c, o.TLSTimeout)
	}
	_, _, err = parseCluster(t, fmt.Sprintf("cluster {\n tls {\n  cert_file: %q, key_file: %q\n  verify_and_map: true\n }\n}\n", cert, key))
	if err == nil || err.Error() != `test.conf:4:3: cluster tls verify_and_map is not supported yet` {
		t.Errorf("verify_and_map: %v", err)
	}
	_, _, err = parseCluster(t, "cluster {\n tls { cert_file: \"/nonexistent.pem\", key_file: \"/nonexistent.key\" }\n}\n")
	if err == nil || !strings.HasPrefix(err.Error(), "test.conf:2:6: error parsing X509 certificate/key pair") {
		t.Errorf("missing files: %v", err)
	}
}

func TestParseRouteURL(t *testing.T) {
	for _, s := range []string{"nats-route://u:p@127.0.0.1:6222", " nats://h:1 ", "tls://[::1]:4"} {
		if _, err := route.ParseRouteURL(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range []string{"127.0.0.1:6222", "nats://host", "nats://%zz:1", ""} {
		if _, err := route.ParseRouteURL(s); err == nil {
			t.Errorf("%q parsed", s)
		}
	}
}
