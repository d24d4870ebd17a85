package server_test

import (
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"natsd.dev/confparse"
	"natsd.dev/server"
)

func applyText(t testing.TB, text string) (server.Config, confparse.ErrorList, error) {
	t.Helper()
	m, err := confparse.ParseWithOptions("test.conf", []byte(text), confparse.Options{
		Env: func(string) (string, bool) { return "", false },
	})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	c := server.DefaultConfig()
	w, err := c.Apply(m)
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
	if !errors.Is(warns, server.ErrConfigWarning) {
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
	for kind, n := range map[error]int{server.ErrUnknownField: 1, server.ErrNotSupported: 1, server.ErrBadValue: 7} {
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
	c, _, err := server.ParseConfigFile(path, confparse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Options.Port != 4999 || c.Options.MaxPayload != 1024 || !c.Log.Logtime {
		t.Errorf("got %+v", c)
	}
	if _, _, err := server.ParseConfigFile(filepath.Join(dir, "missing.conf"), confparse.Options{}); err == nil {
		t.Error("missing file: no error")
	}
}

func TestConfigWebsocket(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := newTestCert(t).files(t, dir)
	c, warns, err := applyText(t, fmt.Sprintf(`
websocket {
	listen: "127.0.0.1:8443"
	advertise: "ws.example.com:443"
	tls { cert_file: %q, key_file: %q, ca_file: %q, verify: true }
	same_origin: true
	allowed_origins: ["https://app.example.com", "http://localhost:8080"]
	compression: true
	handshake_timeout: "5s"
	user_cookie: "u"
	pass_cookie: "p"
	token_cookie: "tok"
}
`, certFile, keyFile, certFile))
	require.NoError(t, err)
	require.Empty(t, warns)
	w := c.Options.Websocket
	require.Equal(t, "127.0.0.1", w.Host)
	require.Equal(t, 8443, w.Port)
	require.Equal(t, "ws.example.com:443", w.Advertise)
	require.NotNil(t, w.TLSConfig)
	require.Len(t, w.TLSConfig.Certificates, 1)
	require.Equal(t, tls.RequireAndVerifyClientCert, w.TLSConfig.ClientAuth)
	require.NotNil(t, w.TLSConfig.ClientCAs)
	require.True(t, w.SameOrigin)
	require.Equal(t, []string{"https://app.example.com", "http://localhost:8080"}, w.AllowedOrigins)
	require.True(t, w.Compression)
	require.Equal(t, 5*time.Second, w.HandshakeTimeout)
	require.Equal(t, "u", w.UsernameCookie)
	require.Equal(t, "p", w.PasswordCookie)
	require.Equal(t, "tok", w.TokenCookie)
	require.False(t, w.NoTLS)

	// Upstream's aliases: ws, host/net + port, origin(s), compress, a
	// handshake_timeout in seconds.
	c, _, err = applyText(t, "ws { net: 127.0.0.2, port: -1, no_tls: true, origin: \"http://a.example.com\", compress: true, handshake_timeout: 3 }\n")
	require.NoError(t, err)
	require.Equal(t, server.WebsocketOptions{Host: "127.0.0.2", Port: -1, NoTLS: true, AllowedOrigins: []string{"http://a.example.com"},
		Compression: true, HandshakeTimeout: 3 * time.Second}, c.Options.Websocket)

	// No block, no listener.
	c, _, err = applyText(t, "port: 4222\n")
	require.NoError(t, err)
	require.Zero(t, c.Options.Websocket.Port)
}

func TestConfigWebsocketErrors(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := newTestCert(t).files(t, dir)
	for _, tc := range []struct {
		name, text string
		want       []string
		kind       error
	}{
		{"tls required", "websocket {\n port: 8080\n}\n", []string{"test.conf:1:1: websocket requires TLS configuration"}, server.ErrBadValue},
		{"tls not required without port", "websocket { same_origin: true }\n", nil, nil},
		{"authorization", "websocket {\n no_tls: true\n port: 1\n authorization { token: x }\n}\n",
			[]string{"test.conf:4:2: websocket authorization is not supported yet"}, server.ErrNotSupported},
		{"jwt and no auth user", "websocket {\n no_tls: true, port: 1\n jwt_cookie: jwt\n no_auth_user: bob\n}\n",
			[]string{"test.conf:3:2: websocket jwt_cookie is not supported yet", "test.conf:4:2: websocket no_auth_user is not supported yet"}, server.ErrNotSupported},
		{"unknown", "websocket {\n no_tls: true\n bogus: 1\n}\n", []string{`test.conf:3:2: unknown field "bogus"`}, server.ErrUnknownField},
		{"types", "websocket {\n port: \"x\"\n same_origin: 1\n compression: \"yes\"\n allowed_origins: 5\n handshake_timeout: \"soon\"\n listen: \"nope\"\n}\n", []string{
			`test.conf:2:8: websocket port: expected an integer, got string "x"`,
			`test.conf:3:15: websocket same_origin: expected a boolean, got integer 1`,
			`test.conf:4:15: websocket compression: expected a boolean, got string "yes"`,
			`test.conf:5:19: websocket allowed_origins: expected a string or an array of strings, got integer 5`,
			`test.conf:6:21: error parsing websocket handshake_timeout: time: invalid duration "soon"`,
			`test.conf:7:10: could not parse address string "nope"`,
		}, server.ErrBadValue},
		{"bad origin", "websocket {\n no_tls: true\n allowed_origins: [\"https://ok.example.com\", \"nohost\"]\n}\n",
			[]string{`test.conf:3:46: unable to parse allowed origin "nohost"`}, server.ErrBadValue},
		{"not a map", "websocket: 8080\n", []string{"test.conf:1:12: websocket: expected a map, got integer 8080"}, server.ErrBadValue},
		{"tls unsupported key", fmt.Sprintf("websocket {\n port: 1\n tls {\n  cert_file: %q\n  key_file: %q\n  ocsp_peer: true\n }\n}\n", certFile, keyFile),
			[]string{"test.conf:6:3: tls ocsp_peer is not supported yet", "test.conf:1:1: websocket requires TLS configuration"}, nil},
		{"tls missing key", fmt.Sprintf("websocket {\n port: 1\n tls {\n  cert_file: %q\n }\n}\n", certFile),
			[]string{"test.conf:3:6: missing 'key_file' in TLS configuration", "test.conf:1:1: websocket requires TLS configuration"}, server.ErrBadValue},
		{"tls bad files", "websocket {\n port: 1\n tls { cert_file: \"/nonexistent/c.pem\", key_file: \"/nonexistent/k.pem\" }\n}\n",
			[]string{"test.conf:3:6: error parsing X509 certificate/key pair: open /nonexistent/c.pem: no such file or directory", "test.conf:1:1: websocket requires TLS configuration"}, server.ErrBadValue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := applyText(t, tc.text)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Equal(t, strings.Join(tc.want, "\n"), err.Error())
			if tc.kind != nil {
				require.ErrorIs(t, err, tc.kind)
			}
		})
	}
}

func TestConfigClusterBlockKeptForItsModule(t *testing.T) {
	c, warns, err := applyText(t, "port: 4333\ncluster {\n  listen: 127.0.0.1:6222\n  bogus: 1\n}\n")
	if err != nil || len(warns) != 0 {
		t.Fatalf("err %v, warns %v", err, warns)
	}
	e := c.Blocks["cluster"]
	if e == nil || e.KeyPos.Line != 2 || e.Value.Kind != confparse.KindMap || len(e.Value.Map.Entries) != 2 {
		t.Fatalf("cluster entry not kept: %+v", c.Blocks)
	}
}

func TestParseTLSBlock(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := newTestCert(t).files(t, dir)
	m, err := confparse.Parse([]byte(fmt.Sprintf("tls {\n cert_file: %q\n key_file: %q\n ca_file: %q\n verify: true\n timeout: 3\n}\n", certFile, keyFile, certFile)))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := m.Get("tls")
	tb, errs := server.ParseTLSBlock("cluster tls", v)
	if errs != nil {
		t.Fatal(errs)
	}
	if tb.Config == nil || len(tb.Config.Certificates) != 1 || tb.Config.ClientCAs == nil || tb.Timeout != 3*time.Second {
		t.Errorf("block %+v", tb)
	}
	m, _ = confparse.Parse([]byte("tls {\n cert_file: 1\n ocsp_peer: true\n}\n"))
	v, _ = m.Get("tls")
	if _, errs := server.ParseTLSBlock("cluster tls", v); len(errs) != 2 || errs[0].Error() != `2:13: cluster tls cert_file: expected a string, got integer 1` {
		t.Errorf("errors %v", errs)
	}
}
