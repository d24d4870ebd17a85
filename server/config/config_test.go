package config_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"natsd.dev/confparse"
	"natsd.dev/server/config"
	"natsd.dev/server/servertest"
)

// applyText applies text with a Parser that has the blocks of the
// nats-server command that these tests touch registered.
func applyText(t testing.TB, text string) (config.Config, confparse.ErrorList, error) {
	t.Helper()
	m, err := confparse.ParseWithOptions("test.conf", []byte(text), confparse.Options{
		Env: func(string) (string, bool) { return "", false },
	})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	var p config.Parser
	p.Register("gateway", config.NotSupported)
	p.Register("connect_error_reports", config.Ignored)
	c := config.Default()
	w, err := p.Apply(&c, m)
	return c, w, err
}

func TestConfigCoreKeys(t *testing.T) {
	c, warns, err := applyText(t, `
listen: 127.0.0.1:4333
server_name: alpha
client_advertise: "nats.example.com:4222"
server_tags: ["az:1", "ssd"]
max_connections: 100
max_subscriptions: 10
max_payload: 2MB
max_control_line: 2KB
max_pending: 100MB
max_unauthenticated_memory: 64MB
max_unauthenticated_conn_memory: 128KB
ping_interval: "30s"
ping_max: 3
write_deadline: "5s"
lame_duck_duration: "45s"
lame_duck_grace_period: "2s"
no_header_support: true
no_fast_producer_stall: true
disable_sublist_cache: true
debug: true
trace: true
logtime: false
logtime_utc: true
log_file: "/tmp/x.log"
logfile_size_limit: 1MB
logfile_max_num: 4
syslog: false
remote_syslog: "udp://127.0.0.1:514"
max_traced_msg_len: 128
pid_file: "/tmp/x.pid"
ports_file_dir: "/tmp"
`)
	if err != nil || len(warns) != 0 {
		t.Fatalf("err %v, warnings %v", err, warns)
	}
	o := c.Options
	checks := []struct {
		name      string
		got, want any
	}{
		{"host", o.Host, "127.0.0.1"}, {"port", o.Port, 4333}, {"name", o.ServerName, "alpha"},
		{"advertise", o.ClientAdvertise, "nats.example.com:4222"}, {"tags", strings.Join(o.Tags, ","), "az:1,ssd"},
		{"max_conn", o.MaxConn, 100}, {"max_subs", o.MaxSubs, 10}, {"max_payload", o.MaxPayload, int32(2 << 20)},
		{"max_control_line", o.MaxControlLine, int32(2048)}, {"max_pending", o.MaxPending, int64(100 << 20)},
		{"max_unauthenticated_memory", o.MaxUnauthMemory, int64(64 << 20)}, {"max_unauthenticated_conn_memory", o.MaxUnauthConnMemory, int64(128 << 10)},
		{"ping_interval", o.PingInterval, 30 * time.Second}, {"ping_max", o.MaxPingsOut, 3},
		{"write_deadline", o.WriteDeadline, 5 * time.Second}, {"ldm", o.LameDuckDuration, 45 * time.Second},
		{"grace", o.LameDuckGracePeriod, 2 * time.Second}, {"headers", o.NoHeaderSupport, true}, {"no stall", o.NoFastProducerStall, true},
		{"sublist cache", o.NoSublistCache, true},
		{"debug", c.Log.Debug, true}, {"trace", c.Log.Trace, true}, {"logtime", c.Log.Logtime, false},
		{"utc", c.Log.LogtimeUTC, true}, {"file", c.Log.File, "/tmp/x.log"}, {"limit", c.Log.SizeLimit, int64(1 << 20)},
		{"maxfiles", c.Log.MaxFiles, 4}, {"remote", c.Log.RemoteSyslog, "udp://127.0.0.1:514"},
		{"traced", c.Log.MaxTracedMsgLen, 128}, {"pid", c.PidFile, "/tmp/x.pid"}, {"ports", c.PortsFileDir, "/tmp"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	if !strings.HasPrefix(c.Digest, "sha256:") || len(c.Digest) != 7+64 {
		t.Errorf("digest %q", c.Digest)
	}
}

func TestConfigAliasesAndDefaults(t *testing.T) {
	c, _, err := applyText(t, "net: 10.0.0.1\nport: 4000\nmax_conn: 5\nmax_subs: 6\nno_sublist_cache: true\nlogfile: a\nlog_size_limit: 10\nlog_max_num: 2\npidfile: p\nLOGTIME_UTC: true\n")
	if err != nil {
		t.Fatal(err)
	}
	if c.Options.Host != "10.0.0.1" || c.Options.Port != 4000 || c.Options.MaxConn != 5 || c.Options.MaxSubs != 6 ||
		!c.Options.NoSublistCache || c.Log.File != "a" || c.Log.SizeLimit != 10 || c.Log.MaxFiles != 2 ||
		c.PidFile != "p" || !c.Log.LogtimeUTC || !c.Log.Logtime {
		t.Errorf("aliases not honoured: %+v", c)
	}
}

func TestConfigIntegerDurationWarns(t *testing.T) {
	c, warns, err := applyText(t, "ping_interval: 30\nwrite_deadline: 2\n")
	if err != nil {
		t.Fatal(err)
	}
	if c.Options.PingInterval != 30*time.Second || c.Options.WriteDeadline != 2*time.Second {
		t.Errorf("durations %v %v", c.Options.PingInterval, c.Options.WriteDeadline)
	}
	if len(warns) != 2 || warns[0].Error() != `test.conf:1:16: invalid use of field "ping_interval": ping_interval should be converted to a duration` {
		t.Errorf("warnings: %v", warns)
	}
	if !errors.Is(warns, config.ErrWarning) {
		t.Error("warnings do not wrap ErrConfigWarning")
	}
}

func TestConfigErrorsAllReported(t *testing.T) {
	_, _, err := applyText(t, `port: "abc"
bogus_key: 1
max_payload: 3GB
gateway { port: 7222 }
lame_duck_duration: "10s"
debug: "yes"
ping_interval: "2 minutes"
server_name: "a b"
listen: "nope"
connect_error_reports: 10
`)
	want := []string{
		`test.conf:1:7: port: expected an integer, got string "abc"`,
		`test.conf:2:1: unknown field "bogus_key"`,
		`test.conf:3:14: max_payload value is too big`,
		`test.conf:4:1: gateway is not supported yet`,
		`test.conf:5:21: invalid lame_duck_duration of 10s, minimum is 30 seconds`,
		`test.conf:6:8: debug: expected a boolean, got string "yes"`,
		`test.conf:7:16: error parsing ping_interval: time: unknown unit " minutes" in duration "2 minutes"`,
		`test.conf:8:14: server name cannot contain spaces`,
		`test.conf:9:9: could not parse address string "nope"`,
	}
	var list confparse.ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error %T %v is not an ErrorList", err, err)
	}
	if got := err.Error(); got != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	for kind, n := range map[error]int{config.ErrUnknownField: 1, config.ErrNotSupported: 1, config.ErrBadValue: 7} {
		c := 0
		for _, e := range list {
			if errors.Is(e, kind) {
				c++
			}
		}
		if c != n {
			t.Errorf("%v: %d errors, want %d", kind, c, n)
		}
	}
}

func TestConfigIgnoredKeyWarns(t *testing.T) {
	_, warns, err := applyText(t, "connect_error_reports: 10\n")
	if err != nil || len(warns) != 1 || warns[0].Error() != "test.conf:1:1: connect_error_reports is not supported yet and is ignored" {
		t.Errorf("err %v, warns %v", err, warns)
	}
}

func TestConfigVariablesAreNotUnknown(t *testing.T) {
	c, _, err := applyText(t, "PAYLOAD: 4KB\nmax_payload: $PAYLOAD\n")
	if err != nil {
		t.Fatal(err)
	}
	if c.Options.MaxPayload != 4096 {
		t.Errorf("max_payload %d", c.Options.MaxPayload)
	}
}

func TestParseConfigFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.conf")
	if err := os.WriteFile(path, []byte("port: 4999\ninclude \"b.conf\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "b.conf"), []byte("max_payload: 1KB\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, _, err := config.ParseFile(path, confparse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Options.Port != 4999 || c.Options.MaxPayload != 1024 || !c.Log.Logtime {
		t.Errorf("got %+v", c)
	}
	if _, _, err := config.ParseFile(filepath.Join(dir, "missing.conf"), confparse.Options{}); err == nil {
		t.Error("missing file: no error")
	}
}

func TestParseTLSBlock(t *testing.T) {
	f := servertest.NewPKI(t).Files()
	m, err := confparse.Parse([]byte(fmt.Sprintf("tls {\n cert_file: %q\n key_file: %q\n ca_file: %q\n verify: true\n timeout: 3\n}\n", f.Cert, f.Key, f.CA)))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := m.Get("tls")
	tb, errs := config.ParseTLSBlock("cluster tls", v)
	if errs != nil {
		t.Fatal(errs)
	}
	if tb.Config == nil || len(tb.Config.Certificates) != 1 || tb.Config.ClientCAs == nil || tb.Timeout != 3*time.Second {
		t.Errorf("block %+v", tb)
	}
	m, _ = confparse.Parse([]byte("tls {\n cert_file: 1\n ocsp_peer: true\n}\n"))
	v, _ = m.Get("tls")
	if _, errs := config.ParseTLSBlock("cluster tls", v); len(errs) != 2 || errs[0].Error() != `2:13: cluster tls cert_file: expected a string, got integer 1` {
		t.Errorf("errors %v", errs)
	}
}

func TestConfigOperationsKeys(t *testing.T) {
	c, warns, err := applyText(t, `
http: "127.0.0.1:18222"
port: -1
prof_port: 18333
server_metadata { foo: bar }
server_name: up1
`)
	if err != nil || len(warns) != 0 {
		t.Fatalf("err %v, warns %v", err, warns)
	}
	if c.ProfPort != 18333 || c.Options.Metadata["foo"] != "bar" {
		t.Errorf("prof_port %d, metadata %v", c.ProfPort, c.Options.Metadata)
	}
	// The digest upstream 2.15.2 prints for the same file.
	if want := "sha256:cd3f72691330260cfea2a148f4dcd87e9a75c5fb2ff8880ec85d7b193a2c4db4"; c.Digest != want {
		t.Errorf("digest %s, want %s", c.Digest, want)
	}

	c, _, err = applyText(t, "feature_flags { js_api_reply_v2: true }\nwrite_timeout: close\n")
	if err != nil || !c.Options.FeatureFlags["js_api_reply_v2"] || c.Options.WriteTimeout != "close" {
		t.Errorf("err %v, flags %v, write_timeout %q", err, c.Options.FeatureFlags, c.Options.WriteTimeout)
	}
	for text, want := range map[string]string{
		"write_timeout: Close\n":       `test.conf:1:16: write_timeout must be 'default', 'close' or 'retry'`,
		"write_timeout: retry\n":       `test.conf:1:16: write_timeout "retry" is not supported yet: natsd closes a client past write_deadline`,
		"server_metadata { a: 1 }\n":   `test.conf:1:22: server_metadata.a: expected a string, got integer 1`,
		"feature_flags { a: \"x\" }\n": `test.conf:1:20: feature_flags.a: expected a boolean, got string "x"`,
	} {
		if _, _, err := applyText(t, text); err == nil || err.Error() != want {
			t.Errorf("%q: got %v, want %s", text, err, want)
		}
	}
}

// TestConfigMsgTraceKeys: an account's msg_trace (and trace_dest) and
// allow_trace on stream imports and service exports, with upstream's
// texts for what upstream refuses.
func TestConfigMsgTraceKeys(t *testing.T) {
	c, warns, err := applyText(t, `
accounts {
  A: { msg_trace: {dest: "a.tr", sampling: "25%"}, exports: [{stream: "ev.>"}, {service: "svc", allow_trace: true}] }
  B: { trace_dest: "b.tr", imports: [{stream: {account: A, subject: "ev.>"}, allow_trace: true}] }
  C: { msg_trace: "c.tr" }
}
`)
	if err != nil || len(warns) != 0 {
		t.Fatalf("err %v, warns %v", err, warns)
	}
	got := c.Options.AccountMsgTrace
	if got["A"].Dest != "a.tr" || got["A"].Sampling != 25 || got["B"].Dest != "b.tr" || got["C"].Dest != "c.tr" {
		t.Errorf("msg_trace %+v", got)
	}
	if len(c.Options.Exports) != 2 || !c.Options.Exports[1].AllowTrace || len(c.Options.Imports) != 1 || !c.Options.Imports[0].AllowTrace {
		t.Errorf("exports %+v imports %+v", c.Options.Exports, c.Options.Imports)
	}

	_, warns, err = applyText(t, "accounts { A: { msg_trace: {sampling: 50} } }\n")
	if err != nil || len(warns) != 1 || warns[0].Error() != "test.conf:1:39: Trace destination sampling ignored since no destination was set" {
		t.Errorf("sampling without dest: err %v, warns %v", err, warns)
	}
	for text, want := range map[string]string{
		"accounts { A: { msg_trace: {dest: x, sampling: 0} } }\n":                                                                 `test.conf:1:48: Ttrace destination sampling value 0 is invalid, needs to be [1..100]`,
		"accounts { A: { msg_trace: {dest: x, sampling: 101} } }\n":                                                               `test.conf:1:48: Ttrace destination sampling value 101 is invalid, needs to be [1..100]`,
		"accounts { A: { msg_trace: {dest: x, sampling: \"ab\"} } }\n":                                                            `test.conf:1:48: Invalid trace destination sampling value "ab"`,
		"accounts { A: { msg_trace: {dest: \"x.*\"} } }\n":                                                                        `test.conf:1:28: Trace destination "x.*" is not valid`,
		"accounts { A: { msg_trace: {dest: x, foo: 1} } }\n":                                                                      `test.conf:1:38: Unknown field "foo" parsing account message trace map/struct "msg_trace"`,
		"accounts { A: { trace_sampling: 5 } }\n":                                                                                 `test.conf:1:17: unknown field "trace_sampling" in account A`,
		"accounts { A: { exports: [{stream: a, allow_trace: true}] } }\n":                                                         `test.conf:1:39: Detected allow_trace directive on non-service`,
		"accounts { A: { exports: [{service: s}] }, B: { imports: [{service: {account: A, subject: s}, allow_trace: true}] } }\n": `test.conf:1:95: Detected allow_trace directive on a non-stream`,
	} {
		if _, _, err := applyText(t, text); err == nil || err.Error() != want {
			t.Errorf("%q: got %v, want %s", text, err, want)
		}
	}
}
