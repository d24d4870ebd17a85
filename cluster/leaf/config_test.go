package leaf_test

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nkeys"

	"natsd.dev/cluster/internal/linkconf/linkconftest"
	"natsd.dev/cluster/leaf"
	"natsd.dev/confparse"
	"natsd.dev/server"
	"natsd.dev/server/servertest"
)

// parseLeaf parses text as a configuration file and hands its leafnodes
// (or leaf) entry to leaf.ParseConfig.
func parseLeaf(t *testing.T, text string) (*leaf.Options, confparse.ErrorList, error) {
	t.Helper()
	return leaf.ParseConfig(linkconftest.Entry(t, text, "leafnodes", "leaf"))
}

func userSeed(t *testing.T) string {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, err := kp.Seed()
	if err != nil {
		t.Fatal(err)
	}
	return string(seed)
}

func TestParseConfigAllKeys(t *testing.T) {
	creds := filepath.Join(t.TempDir(), "hub.creds")
	if err := os.WriteFile(creds, []byte("creds"), 0o600); err != nil {
		t.Fatal(err)
	}
	seed := userSeed(t)
	o, warns, err := parseLeaf(t, fmt.Sprintf(`
leafnodes {
  host: 127.0.0.1
  port: 7422
  advertise: "leaf.example.com:7422"
  no_advertise: true
  authorization {
    users: [
      { user: leaf1, password: p1, account: A }
      { username: leaf2, pass: p2 }
    ]
    timeout: 0.5
  }
  compression: { mode: s2_auto, rtt_thresholds: ["5ms", "20ms", "40ms"] }
  reconnect: "3s"
  dial_timeout: "4s"
  min_version: "2.10.0"
  remotes: [
    {
      urls: [nats-leaf://u:pw@hub1:7422, nats-leaf://hub2:7422]
      account: A
      credentials: %q
      hub: true
      deny_imports: ["foo.>", "bar"]
      deny_exports: baz.*
      compression: off
      first_info_timeout: "2s"
      dial_timeout: "5s"
      disabled: true
      no_randomize: true
    }
    {
      url: "wss://hub3:443"
      local: B
      seed: %q
      ws_compression: true
      ws_no_masking: true
    }
  ]
}
`, creds, seed))
	if err != nil || len(warns) != 0 {
		t.Fatalf("err %v warns %v", err, warns)
	}
	ms := time.Millisecond
	if o.Host != "127.0.0.1" || o.Port != 7422 || o.Advertise != "leaf.example.com:7422" || !o.NoAdvertise ||
		o.AuthTimeout != 500*ms || o.Reconnect != 3*time.Second || o.DialTimeout != 4*time.Second || o.MinVersion != "2.10.0" {
		t.Errorf("options %+v", o)
	}
	if fmt.Sprint(o.Users) != "[{leaf1 p1 A} {leaf2 p2 }]" {
		t.Errorf("users %v", o.Users)
	}
	if c := o.Compression; c.Mode != leaf.CompressionS2Auto || fmt.Sprint(c.RTTThresholds) != "[5ms 20ms 40ms]" {
		t.Errorf("compression %+v", c)
	}
	if len(o.Remotes) != 2 {
		t.Fatalf("remotes %v", o.Remotes)
	}
	r := o.Remotes[0]
	if len(r.URLs) != 2 || r.URLs[0].Host != "hub1:7422" || r.URLs[0].User.Username() != "u" || r.URLs[1].Scheme != "nats-leaf" ||
		r.Account != "A" || r.Credentials != creds || !r.Hub || strings.Join(r.DenyImports, ",") != "foo.>,bar" ||
		strings.Join(r.DenyExports, ",") != "baz.*" || r.Compression.Mode != leaf.CompressionOff || r.FirstInfoTimeout != 2*time.Second ||
		r.DialTimeout != 5*time.Second || !r.Disabled || !r.NoRandomize || r.TLS {
		t.Errorf("remote 0 %+v", r)
	}
	r = o.Remotes[1]
	if len(r.URLs) != 1 || r.URLs[0].Scheme != "wss" || r.Account != "B" || r.Nkey != seed || !r.WSCompression || !r.WSNoMasking || !r.TLS || r.Hub {
		t.Errorf("remote 1 %+v", r)
	}
}

func TestParseConfigSingleUser(t *testing.T) {
	o, warns, err := parseLeaf(t, `leaf { listen: "0.0.0.0:-1", authorization { user: u, password: p, account: ACC, timeout: "3s" } }`)
	if err != nil || len(warns) != 0 {
		t.Fatalf("err %v warns %v", err, warns)
	}
	if o.Host != "0.0.0.0" || o.Port != -1 || o.Username != "u" || o.Password != "p" || o.Account != "ACC" || o.AuthTimeout != 3*time.Second || o.Users != nil {
		t.Errorf("options %+v", o)
	}
}

func TestParseConfigPorts(t *testing.T) {
	for _, tc := range []struct {
		block string
		host  string
		port  int
	}{
		{"leafnodes { remotes: [] }", "", 0}, // no listener
		{"leafnodes { port: -1 }", "", -1},   // random
		{"leafnodes { listen: 7422 }", "", 7422},
		{"leafnodes { listen: \":7423\" }", "", 7423},
		{"leafnodes { net: 0.0.0.0, port: 7000 }", "0.0.0.0", 7000},
		{"leafnodes { host: h, listen: \"127.0.0.2:7001\" }", "127.0.0.2", 7001},
	} {
		o, _, err := parseLeaf(t, tc.block)
		if err != nil || o.Host != tc.host || o.Port != tc.port {
			t.Errorf("%s: %+v err %v, want %q %d", tc.block, o, err, tc.host, tc.port)
		}
	}
}

func TestParseConfigDurations(t *testing.T) {
	o, warns, err := parseLeaf(t, "leafnodes {\n reconnect_delay: 2\n remotes [ { url: nats://h:1, first_info_timeout: 3, dial_timeout: \"250ms\" } ]\n}\n")
	if err != nil || o.Reconnect != 2*time.Second || o.Remotes[0].FirstInfoTimeout != 3*time.Second || o.Remotes[0].DialTimeout != 250*time.Millisecond {
		t.Fatalf("%+v %v", o, err)
	}
	want := []string{
		`test.conf:2:19: invalid use of field "reconnect": reconnect should be converted to a duration`,
		`test.conf:3:51: invalid use of field "first_info_timeout": first_info_timeout should be converted to a duration`,
	}
	if warns.Error() != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%v", warns)
	}
	o, _, err = parseLeaf(t, `leafnodes { reconnect_interval: "1m" }`)
	if err != nil || o.Reconnect != time.Minute {
		t.Errorf("reconnect_interval: %+v %v", o, err)
	}
	_, warns, err = parseLeaf(t, "leafnodes { authorization { timeout: 90 } }")
	if err != nil || warns.Error() != `test.conf:1:38: invalid use of field "timeout": timeout of 90 (90.000000 seconds) is high, consider keeping it under 60 seconds. possibly caused by unquoted duration; use '1m' instead of 1m, for example` {
		t.Errorf("timeout warning: %v %v", warns, err)
	}
}

func TestParseConfigCompressionForms(t *testing.T) {
	for _, tc := range []struct{ value, mode string }{
		{"true", leaf.CompressionS2Auto}, // s2_auto for leaf nodes, s2_fast for routes
		{"false", leaf.CompressionOff},
		{"on", leaf.CompressionS2Auto},
		{"s2_best", leaf.CompressionS2Best},
		{`"Accept"`, leaf.CompressionAccept},
		{"{ mode: better }", leaf.CompressionS2Better},
		{"{ rtt_thresholds: [\"1ms\"], mode: auto }", leaf.CompressionS2Auto},
		{"{ rtts: [\"1ms\"] }", ""}, // no mode: the default
	} {
		o, _, err := parseLeaf(t, "leafnodes { compression: "+tc.value+", remotes [ { url: \"nats://h:1\", compression: "+tc.value+" } ] }")
		if err != nil || o.Compression.Mode != tc.mode || o.Remotes[0].Compression.Mode != tc.mode {
			t.Errorf("%s: %+v %v, want %s", tc.value, o, err, tc.mode)
		}
	}
	o, _, _ := parseLeaf(t, "leafnodes { port: 1 }")
	if o.Compression.Mode != "" {
		t.Errorf("default mode %q, want \"\" (s2_auto)", o.Compression.Mode)
	}
}

func TestParseConfigURLs(t *testing.T) {
	for _, tc := range []struct{ in, scheme, host string }{
		{"nats-leaf://h:7422", "nats-leaf", "h:7422"},
		{"nats://u:p@h:4222", "nats", "h:4222"},
		{"tls://h:7422", "tls", "h:7422"},
		{"ws://h:8080", "ws", "h:8080"},
		{"wss://h", "wss", "h"},
		{"hub.example.com:7422", "nats-leaf", "hub.example.com:7422"}, // bare host:port
		{" nats-leaf://h:1 ", "nats-leaf", "h:1"},
	} {
		u, err := leaf.ParseRemoteURL(tc.in)
		if err != nil || u.Scheme != tc.scheme || u.Host != tc.host {
			t.Errorf("%q: %v %v, want %s %s", tc.in, u, err, tc.scheme, tc.host)
		}
	}
	for _, s := range []string{"127.0.0.1:7422", "nats://%zz:1", "::1"} {
		if _, err := leaf.ParseRemoteURL(s); err == nil || err.Error() != fmt.Sprintf("error parsing leafnode url [%q]", s) {
			t.Errorf("%q: %v", s, err)
		}
	}
	o, _, err := parseLeaf(t, `leafnodes { remotes [ { url: "tls://h:1" }, { url: "wss://h:1" } ] }`)
	if err != nil {
		t.Fatal(err)
	}
	if r := o.Remotes[0]; !r.TLS || r.TLSConfig != nil {
		t.Errorf("tls:// remote %+v", r)
	}
	if r := o.Remotes[1]; !r.TLS || r.TLSConfig != nil {
		t.Errorf("wss:// remote %+v", r)
	}
}

func TestParseConfigTLS(t *testing.T) {
	f := servertest.NewPKI(t).Files()
	o, _, err := parseLeaf(t, fmt.Sprintf(`leafnodes {
 port: 1
 tls { cert_file: %q, key_file: %q, ca_file: %q, verify: true, timeout: 3, handshake_first: true }
 remotes [ { url: "tls://hub:7422", tls { cert_file: %q, key_file: %q, ca_file: %q, timeout: 4 } } ]
}`, f.Cert, f.Key, f.CA, f.Cert, f.Key, f.CA))
	if err != nil {
		t.Fatal(err)
	}
	if c := o.TLSConfig; c == nil || len(c.Certificates) != 1 || c.ClientCAs == nil || o.TLSTimeout != 3*time.Second || !o.TLSHandshakeFirst || o.TLSMap {
		t.Errorf("tls %+v timeout %v", c, o.TLSTimeout)
	}
	if r := o.Remotes[0]; !r.TLS || r.TLSConfig == nil || r.TLSConfig.RootCAs == nil || r.TLSTimeout != 4*time.Second {
		t.Errorf("remote tls %+v", r)
	}
	o, _, err = parseLeaf(t, fmt.Sprintf("leafnodes { tls { cert_file: %q, key_file: %q, ca_file: %q, verify_and_map: true }, remotes [ { url: \"nats://h:1\", tls { ca_file: %q } } ] }", f.Cert, f.Key, f.CA, f.CA))
	if err != nil || !o.TLSMap || !o.Remotes[0].TLS || o.Remotes[0].TLSTimeout != leaf.DefaultTLSTimeout || o.Remotes[0].TLSConfig.RootCAs == nil {
		t.Errorf("verify_and_map: %+v %v", o, err)
	}
	_, _, err = parseLeaf(t, "leafnodes {\n tls { cert_file: \"/nonexistent.pem\", key_file: \"/nonexistent.key\" }\n}\n")
	if err == nil || !strings.HasPrefix(err.Error(), "test.conf:2:6: error parsing X509 certificate/key pair") {
		t.Errorf("missing files: %v", err)
	}
}

func TestParseConfigCredentialsMissing(t *testing.T) {
	o, warns, err := parseLeaf(t, "leafnodes {\n remotes [ { url: \"nats://h:1\", credentials: \"/nonexistent/leaf.creds\" } ]\n}\n")
	if err != nil || o.Remotes[0].Credentials != "/nonexistent/leaf.creds" {
		t.Fatalf("%+v %v", o, err)
	}
	want := `test.conf:2:46: Error reading LeafNode Remote Credentials file "/nonexistent/leaf.creds": open /nonexistent/leaf.creds: no such file or directory`
	if warns.Error() != want || !errors.Is(warns, server.ErrConfigWarning) {
		t.Errorf("warnings:\n%v\nwant\n%s", warns, want)
	}
}

func TestParseConfigErrorsAllReported(t *testing.T) {
	seed := userSeed(t)
	_, warns, err := parseLeaf(t, fmt.Sprintf(`leafnodes {
  listen: "0.0.0.0:XXXX"
  min_version: "2.7.9"
  compression: s2_medium
  bogus: 1
  port: 70000
  authorization { users: [ { user: a, password: b }, { user: a, password: c } ] }
  remotes: [
    { url: "127.0.0.1:7422" }
    { urls: ["ws://h:1", "nats://h:2", "nats://h:2"] }
    { url: "nats://h:3", nkey: "SUxxx" }
    { url: "nats://h:4", credentials: "/c.creds", seed: %q }
    { url: "nats://h:5", deny_imports: "foo..bar", extra: 1 }
    { url: "nats://h:6" }
    { url: "nats://h:6" }
    "nats://h:7"
  ]
  write_deadline: "1s"
}
`, seed))
	want := []string{
		`test.conf:2:11: could not parse port "XXXX"`,
		`test.conf:3:16: the minimum version should be at least 2.8.0`,
		`test.conf:4:16: unsupported compression mode "s2_medium"`,
		`test.conf:5:3: unknown field "bogus"`,
		`test.conf:6:9: leafnodes port: 70000 is not a port number`,
		`test.conf:7:3: duplicate user "a" detected in leafnode authorization`,
		`test.conf:9:12: error parsing leafnode url ["127.0.0.1:7422"]`,
		`test.conf:10:5: remote leaf node configuration cannot have a mix of websocket and non-websocket urls: ["ws://h:1" "nats://h:2"]`,
		`test.conf:11:32: Remote leafnode nkey is not a valid seed: "SUxxx"`,
		`test.conf:12:57: Remote leafnode can not have both creds and nkey defined`,
		`test.conf:13:40: subject "foo..bar" is not a valid subject`,
		`test.conf:13:52: unknown field "extra"`,
		`test.conf:15:5: duplicate remote urls=["nats://h:6"], account="$G"`,
		`test.conf:16:5: Expected remote leafnode entry to be a map/struct, got nats://h:7`,
		`test.conf:18:3: leafnodes write_deadline is not supported yet`,
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Errorf("got:\n%v\nwant:\n%s", err, strings.Join(want, "\n"))
	}
	if warns.Error() != `test.conf:10:40: invalid use of field "nats://h:2": Duplicate leafnode entry detected` {
		t.Errorf("warnings:\n%v", warns)
	}
	linkconftest.CheckKinds(t, err, map[error]int{server.ErrUnknownField: 2, server.ErrNotSupported: 1, server.ErrBadValue: 12})
}

func TestParseConfigBadValues(t *testing.T) {
	for _, tc := range []struct{ text, err string }{
		{"leafnodes: 7422", `test.conf:1:12: Expected map to define a leafnode, got int64`},
		{"leafnodes { port: \"x\" }", `test.conf:1:19: leafnodes port: expected an integer, got string "x"`},
		{"leafnodes { listen: true }", `test.conf:1:21: leafnodes listen: expected host:port, got boolean true`},
		{"leafnodes { min_version: \"abc\" }", `test.conf:1:26: invalid leafnode's minimum version: invalid semver`},
		{"leafnodes { min_version: 2 }", `test.conf:1:26: leafnodes min_version: expected a string, got integer 2`},
		{"leafnodes { no_advertise: 1 }", `test.conf:1:27: leafnodes no_advertise: expected a boolean, got integer 1`},
		{"leafnodes { reconnect: \"soon\" }", `test.conf:1:24: error parsing reconnect: time: invalid duration "soon"`},
		{"leafnodes { authorization { token: abc } }", `test.conf:1:29: unknown field "token"`},
		{"leafnodes { authorization { nkey: UABC } }", `test.conf:1:29: leafnodes authorization nkey is not supported yet`},
		{"leafnodes { authorization { user: a, users: [ { user: b } ] } }", `test.conf:1:13: can not have a single user/pass and a users array`},
		{"leafnodes { authorization { users: a } }", `test.conf:1:36: Expected users field to be an array, got a`},
		{"leafnodes { authorization { users: [ a ] } }", `test.conf:1:38: Expected user entry to be a map/struct, got a`},
		{"leafnodes { authorization { users: [ { user: a, proxy_required: true } ] } }", `test.conf:1:49: leafnodes authorization users proxy_required is not supported yet`},
		{"leafnodes { authorization { users: [ { user: a, perms: 1 } ] } }", `test.conf:1:49: unknown field "perms"`},
		{"leafnodes { authorization { timeout: \"x\" } }", `test.conf:1:38: error parsing leafnode authorization config, 'timeout' time: invalid duration "x"`},
		{"leafnodes { authorization { timeout: true } }", `test.conf:1:38: error parsing leafnode authorization config, 'timeout' wrong type`},
		{"leafnodes { authorization: 1 }", `test.conf:1:28: leafnodes authorization: expected a map, got integer 1`},
		{"leafnodes { remotes: { url: \"nats://h:1\" } }", `test.conf:1:22: Expected remotes field to be an array, got map[string]interface {}`},
		{"leafnodes { remotes: [ { url: 1 } ] }", `test.conf:1:31: Expected remote leafnode url to be an array or string, got 1`},
		{"leafnodes { remotes: [ { urls: [1] } ] }", `test.conf:1:33: leafnodes remotes urls: expected a string, got integer 1`},
		{"leafnodes { remotes: [ { url: \"nats://h:1\", deny_exports: 1 } ] }", `test.conf:1:59: Expected subject permissions to be a subject, or array of subjects, got int64`},
		{"leafnodes { remotes: [ { url: \"nats://h:1\", deny_exports: [1] } ] }", `test.conf:1:60: Subject in permissions array cannot be cast to string`},
		{"leafnodes { remotes: [ { url: \"nats://h:1\", hub: yes_please } ] }", `test.conf:1:50: leafnodes remotes hub: expected a boolean, got string "yes_please"`},
		{"leafnodes { remotes: [ { url: \"nats://h:1\", proxy: { url: \"http://p:1\" } } ] }", `test.conf:1:45: leafnodes remotes proxy is not supported yet`},
		{"leafnodes { remotes: [ { url: \"nats://h:1\", tls { bogus: 1 } } ] }", `test.conf:1:51: error parsing tls config, unknown field "bogus"`},
		{"leafnodes { compression: 1 }", `test.conf:1:26: field "compression" should be a boolean or a structure, got int64`},
		{"leafnodes { compression: { mode: auto, rtt_thresholds: [\"50ms\", \"10ms\"] } }", `test.conf:1:26: RTT threshold values [50ms 10ms] should be in ascending order`},
		{"leafnodes { compression: { rtt: [\"x\"] } }", `test.conf:1:34: time: invalid duration "x"`},
		{"leafnodes { compression: { rtt: \"1ms\" } }", `test.conf:1:33: compression rtt: expected an array of durations, got string "1ms"`},
		{"leafnodes { compression: { mode: 1 } }", `test.conf:1:34: compression mode: expected a string, got integer 1`},
		{"leafnodes { compression: { level: 3 } }", `test.conf:1:28: unknown field "level"`},
		{"leafnodes { isolate_leafnode_interest: true }", `test.conf:1:13: leafnodes isolate_leafnode_interest is not supported yet`},
	} {
		_, _, err := parseLeaf(t, tc.text)
		if err == nil || err.Error() != tc.err {
			t.Errorf("%s:\n got %v\nwant %s", tc.text, err, tc.err)
		}
	}
}

func TestParseConfigVariables(t *testing.T) {
	o, _, err := parseLeaf(t, "leafnodes {\n  P: 7423\n  port: $P\n}\n")
	if err != nil || o.Port != 7423 {
		t.Fatalf("%+v %v", o, err)
	}
}

func TestCheckMinVersion(t *testing.T) {
	for v, want := range map[string]string{
		"2.8.0":                    "",
		"2.12.1":                   "",
		"3.0.0-beta.1":             "",
		"2.7.99":                   "the minimum version should be at least 2.8.0",
		"1.9.0":                    "the minimum version should be at least 2.8.0",
		"2.8":                      "invalid leafnode's minimum version: invalid semver",
		"02.8.0":                   "invalid leafnode's minimum version: invalid semver",
		"2.8.99999999999999999999": "invalid leafnode's minimum version: strconv.Atoi: parsing \"99999999999999999999\": value out of range",
	} {
		err := leaf.CheckMinVersion(v)
		if got := fmt.Sprint(err); (want == "" && err != nil) || (want != "" && got != want) {
			t.Errorf("%q: %v, want %q", v, err, want)
		}
	}
}

func TestRemoteName(t *testing.T) {
	u, _ := leaf.ParseRemoteURL("nats://u:secret@h:1")
	r := &leaf.Remote{URLs: []*url.URL{u}, Nkey: "SUABC"}
	if got := leaf.RemoteName(r, true); got != `urls=["nats://u:xxxxx@h:1"], account="$G", nkey="[REDACTED]"` {
		t.Errorf("safe: %s", got)
	}
	if got := leaf.RemoteName(r, false); got != `urls=["nats://u:secret@h:1"], account="$G", nkey="SUABC"` {
		t.Errorf("full: %s", got)
	}
}

// TestIsUserSeed holds IsUserSeed against the nkeys library.
func TestIsUserSeed(t *testing.T) {
	var cases []string
	for _, create := range []func() (nkeys.KeyPair, error){nkeys.CreateUser, nkeys.CreateAccount, nkeys.CreateServer, nkeys.CreateOperator} {
		kp, err := create()
		if err != nil {
			t.Fatal(err)
		}
		seed, _ := kp.Seed()
		pub, _ := kp.PublicKey()
		cases = append(cases, string(seed), pub, string(seed[:len(seed)-1]), string(seed[:len(seed)-2])+"AA", strings.ToLower(string(seed)))
	}
	cases = append(cases, "", "SU", "SUxxx", "AAAA", "SUAMK2FG4MI6UE3ACF3FK3OIQBCEIEZV7NSWFFEW63UXMRLFM2XLAXK4GY")
	for _, s := range cases {
		pre, _, err := nkeys.DecodeSeed([]byte(s))
		if want := err == nil && pre == nkeys.PrefixByteUser; leaf.IsUserSeed(s) != want {
			t.Errorf("%q: IsUserSeed %v, nkeys says %v", s, !want, want)
		}
	}
	if !leaf.IsUserSeed(userSeed(t)) {
		t.Error("a user seed is refused")
	}
}

// FuzzIsUserSeed holds IsUserSeed against the nkeys library on any input.
func FuzzIsUserSeed(f *testing.F) {
	kp, _ := nkeys.CreateUser()
	seed, _ := kp.Seed()
	f.Add(string(seed))
	f.Add("SAAGNJOZTRPYYXG2NJX3ZNGXYUSDYX2BWO447W3SHG6XQ7U66RWHQ3JUXM")
	f.Fuzz(func(t *testing.T, s string) {
		pre, _, err := nkeys.DecodeSeed([]byte(s))
		if want := err == nil && pre == nkeys.PrefixByteUser; leaf.IsUserSeed(s) != want {
			t.Fatalf("%q: IsUserSeed %v, nkeys says %v", s, !want, want)
		}
	})
}
