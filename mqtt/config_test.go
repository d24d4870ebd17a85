package mqtt_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"natsd.dev/confparse"
	"natsd.dev/mqtt"
	"natsd.dev/server/config"
)

// applyText applies a configuration text (named test.conf in positions)
// with the mqtt block registered, as the command registers it.
func applyText(t testing.TB, text string) (mqtt.Options, bool, config.Config, confparse.ErrorList, error) {
	t.Helper()
	m, err := confparse.ParseWithOptions("test.conf", []byte(text), confparse.Options{
		Env: func(string) (string, bool) { return "", false },
	})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	var o mqtt.Options
	var present bool
	var p config.Parser
	mqtt.RegisterConfig(&p, &o, &present)
	c := config.Default()
	w, err := p.Apply(&c, m)
	return o, present, c, w, err
}

// writeCert writes a self-signed certificate and its key to dir.
func writeCert(t testing.TB) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestConfigKeys(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       mqtt.Options
		warnings   []string
	}{
		{"no block", "port: 4222\n", mqtt.Options{}, nil},
		{"empty block", "mqtt {}\n", mqtt.Options{}, nil},
		{"host and port", "mqtt { host: 127.0.0.1, port: 1883 }\n", mqtt.Options{Host: "127.0.0.1", Port: 1883}, nil},
		{"net alias", "mqtt { net: 127.0.0.2, port: -1 }\n", mqtt.Options{Host: "127.0.0.2", Port: -1}, nil},
		{"listen", "mqtt { listen: \"127.0.0.1:1884\" }\n", mqtt.Options{Host: "127.0.0.1", Port: 1884}, nil},
		{"listen port only", "mqtt { host: h, listen: 1885 }\n", mqtt.Options{Host: "h", Port: 1885}, nil},
		{"authorization", "mqtt {\n port: -1\n authorization { user: u, password: p, timeout: 2.5 }\n}\n",
			mqtt.Options{Port: -1, Username: "u", Password: "p", AuthTimeout: 2.5}, nil},
		{"authentication aliases", "mqtt {\n port: -1\n authentication { username: u, pass: p, token: t, timeout: 3 }\n no_auth_user: bob\n}\n",
			mqtt.Options{Port: -1, Username: "u", Password: "p", Token: "t", AuthTimeout: 3, NoAuthUser: "bob"}, nil},
		{"sessions", "mqtt {\n port: -1\n ack_wait: \"5s\"\n max_ack_pending: 100\n js_domain: hub\n js_api_timeout: \"2s\"\n stream_replicas: 3\n consumer_memory_storage: true\n consumer_inactive_threshold: \"1h\"\n reject_qos2_publish: true\n downgrade_qos2_subscribe: true\n}\n",
			mqtt.Options{Port: -1, AckWait: 5 * time.Second, MaxAckPending: 100, JSDomain: "hub", JSAPITimeout: 2 * time.Second,
				StreamReplicas: 3, ConsumerMemoryStorage: true, ConsumerInactiveThreshold: time.Hour, RejectQoS2Pub: true, DowngradeQoS2Sub: true}, nil},
		{"aliases", "mqtt {\n port: -1\n ackwait: \"1s\"\n max_inflight: 7\n api_timeout: \"3s\"\n consumer_auto_cleanup: \"2m\"\n}\n",
			mqtt.Options{Port: -1, AckWait: time.Second, MaxAckPending: 7, JSAPITimeout: 3 * time.Second, ConsumerInactiveThreshold: 2 * time.Minute}, nil},
		{"max_pending limits", "mqtt { max_pending: 65535 }\n", mqtt.Options{MaxAckPending: 65535}, nil},
		{"durations in seconds", "mqtt {\n ack_wait: 5\n js_api_timeout: 4\n consumer_inactive_threshold: 60\n}\n",
			mqtt.Options{AckWait: 5 * time.Second, JSAPITimeout: 4 * time.Second, ConsumerInactiveThreshold: time.Minute}, []string{
				`test.conf:2:2: invalid use of field "ack_wait": ack_wait should be converted to a duration`,
				`test.conf:3:2: invalid use of field "js_api_timeout": js_api_timeout should be converted to a duration`,
				`test.conf:4:2: invalid use of field "consumer_inactive_threshold": consumer_inactive_threshold should be converted to a duration`,
			}},
		{"consumer_replicas ignored", "mqtt {\n stream_replicas: 1\n consumer_replicas: 3\n}\n", mqtt.Options{StreamReplicas: 1},
			[]string{`test.conf:3:2: invalid use of field "consumer_replicas": consumer replicas setting ignored in this server version`}},
		{"variables", "mqtt {\n P = 1886\n port: $P\n}\n", mqtt.Options{Port: 1886}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, present, _, w, err := applyText(t, tc.text)
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !reflect.DeepEqual(o, tc.want) {
				t.Errorf("options:\n got %+v\nwant %+v", o, tc.want)
			}
			if want := strings.Contains(tc.text, "mqtt"); present != want {
				t.Errorf("present = %v, want %v", present, want)
			}
			var got []string
			for _, e := range w {
				got = append(got, e.Error())
			}
			if !reflect.DeepEqual(got, tc.warnings) {
				t.Errorf("warnings:\n got %q\nwant %q", got, tc.warnings)
			}
		})
	}
}

func TestConfigTLS(t *testing.T) {
	cert, key := writeCert(t)
	o, _, _, w, err := applyText(t, fmt.Sprintf("mqtt {\n port: -1\n tls {\n  cert_file: %q\n  key_file: %q\n  ca_file: %q\n  verify_and_map: true\n  timeout: 4\n  handshake_first: true\n  connection_rate_limit: 5\n }\n}\n", cert, key, cert))
	if err != nil {
		t.Fatal(err)
	}
	if o.TLSConfig == nil || len(o.TLSConfig.Certificates) != 1 {
		t.Fatalf("TLSConfig = %+v, want one certificate", o.TLSConfig)
	}
	if o.TLSConfig.ClientAuth != tls.RequireAndVerifyClientCert || o.TLSConfig.ClientCAs == nil {
		t.Errorf("verify_and_map must verify clients: ClientAuth %v", o.TLSConfig.ClientAuth)
	}
	if !o.TLSMap || o.TLSTimeout != 4 {
		t.Errorf("TLSMap %v TLSTimeout %v, want true 4", o.TLSMap, o.TLSTimeout)
	}
	if len(w) != 1 || w[0].Error() != "test.conf:10:3: mqtt tls connection_rate_limit has no effect: only the client listener is rate limited" {
		t.Errorf("warnings = %v", w)
	}
}

func TestConfigErrors(t *testing.T) {
	cert, key := writeCert(t)
	for _, tc := range []struct {
		name, text string
		want       []string
		kind       error
	}{
		{"not a map", "mqtt: 1883\n", []string{"test.conf:1:7: mqtt: expected a map, got integer 1883"}, config.ErrBadValue},
		{"unknown", "mqtt {\n port: -1\n foo: 1\n max_protocol_version: 5\n}\n",
			[]string{`test.conf:3:2: unknown field "foo"`, `test.conf:4:2: unknown field "max_protocol_version"`}, config.ErrUnknownField},
		{"unknown in authorization", "mqtt {\n authorization {\n  users: [{user: a, password: b}]\n  nkey: UABC\n  default_permissions: {}\n }\n}\n", []string{
			`test.conf:3:3: unknown field "users"`,
			`test.conf:4:3: unknown field "nkey"`,
			`test.conf:5:3: unknown field "default_permissions"`,
		}, config.ErrUnknownField},
		{"max_ack_pending range", "mqtt {\n max_ack_pending: 70000\n max_pending: -1\n}\n", []string{
			"test.conf:2:2: invalid value 70000, should in [0..65535] range",
			"test.conf:3:2: invalid value -1, should in [0..65535] range",
		}, config.ErrBadValue},
		{"types, all at once", "mqtt {\n port: \"x\"\n host: 1\n ack_wait: \"x\"\n max_ack_pending: \"x\"\n js_domain: 1\n stream_replicas: \"x\"\n consumer_memory_storage: 1\n reject_qos2_publish: \"x\"\n downgrade_qos2_subscribe: 1\n no_auth_user: 1\n listen: \"x\"\n tls: 1\n authorization: 1\n consumer_inactive_threshold: true\n js_api_timeout: \"soon\"\n}\n", []string{
			`test.conf:2:8: mqtt port: expected an integer, got string "x"`,
			`test.conf:3:8: mqtt host: expected a string, got integer 1`,
			`test.conf:4:2: error parsing ack_wait: time: invalid duration "x"`,
			`test.conf:5:19: mqtt max_ack_pending: expected an integer, got string "x"`,
			`test.conf:6:13: mqtt js_domain: expected a string, got integer 1`,
			`test.conf:7:19: mqtt stream_replicas: expected an integer, got string "x"`,
			`test.conf:8:27: mqtt consumer_memory_storage: expected a boolean, got integer 1`,
			`test.conf:9:23: mqtt reject_qos2_publish: expected a boolean, got string "x"`,
			`test.conf:10:28: mqtt downgrade_qos2_subscribe: expected a boolean, got integer 1`,
			`test.conf:11:16: mqtt no_auth_user: expected a string, got integer 1`,
			`test.conf:12:10: could not parse address string "x"`,
			`test.conf:13:7: mqtt tls: expected a map, got integer 1`,
			`test.conf:14:17: mqtt authorization: expected a map, got integer 1`,
			`test.conf:15:31: consumer_inactive_threshold: expected a duration, got boolean true`,
			`test.conf:16:2: error parsing js_api_timeout: time: invalid duration "soon"`,
		}, config.ErrBadValue},
		{"authorization types", "mqtt {\n authorization {\n  user: 1\n  password: true\n  token: 2\n  timeout: \"x\"\n }\n}\n", []string{
			`test.conf:3:9: mqtt authorization user: expected a string, got integer 1`,
			`test.conf:4:13: mqtt authorization password: expected a string, got boolean true`,
			`test.conf:5:10: mqtt authorization token: expected a string, got integer 2`,
			`test.conf:6:12: mqtt authorization timeout: expected a number of seconds, got string "x"`,
		}, config.ErrBadValue},
		{"authorization negative timeout", "mqtt {\n authorization { timeout: -1 }\n}\n",
			[]string{`test.conf:2:27: mqtt authorization timeout: must not be negative`}, config.ErrBadValue},
		{"tls missing key", fmt.Sprintf("mqtt {\n port: 1\n tls {\n  cert_file: %q\n }\n}\n", cert),
			[]string{"test.conf:3:6: missing 'key_file' in TLS configuration"}, config.ErrBadValue},
		{"tls unsupported key", fmt.Sprintf("mqtt {\n tls {\n  cert_file: %q\n  key_file: %q\n  ocsp_peer: true\n }\n}\n", cert, key),
			[]string{"test.conf:5:3: tls ocsp_peer is not supported yet"}, config.ErrNotSupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, _, err := applyText(t, tc.text)
			if err == nil {
				t.Fatal("no error")
			}
			if got, want := err.Error(), strings.Join(tc.want, "\n"); got != want {
				t.Errorf("error:\n got %s\nwant %s", got, want)
			}
			if !errors.Is(err, tc.kind) {
				t.Errorf("error %v is not %v", err, tc.kind)
			}
		})
	}
}

// TestValidate checks the refusals nats-server v2.15.2 starts with; the
// texts were compared with the binary's stderr on the same files.
func TestValidate(t *testing.T) {
	const users = "authorization { users: [{user: alice, password: x}, {nkey: UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4}] }\n"
	for _, tc := range []struct {
		name, text string
		env        mqtt.Env // Server is filled from the text
		want       string
		is         error
	}{
		{"no mqtt", "mqtt { no_auth_user: bob, ack_wait: \"-1s\" }\n", mqtt.Env{}, "", nil},
		{"standalone without JetStream", "mqtt { port: -1 }\n", mqtt.Env{},
			"mqtt requires JetStream to be enabled if running in standalone mode", mqtt.ErrJetStreamRequired},
		{"standalone with JetStream", "mqtt { port: -1 }\n", mqtt.Env{JetStream: true}, "", nil},
		{"cluster without server_name", "mqtt { port: -1 }\n", mqtt.Env{JetStream: true, Clustered: true},
			"mqtt requires server name to be explicitly set", mqtt.ErrServerNameRequired},
		{"cluster without JetStream", "server_name: a\nmqtt { port: -1 }\n", mqtt.Env{Clustered: true}, "", nil},
		{"leaf nodes without JetStream", "mqtt { port: -1 }\n", mqtt.Env{LeafNodes: true}, "", nil},
		{"server name checked first", "mqtt { port: -1, no_auth_user: bob }\n", mqtt.Env{Clustered: true},
			"mqtt requires server name to be explicitly set", mqtt.ErrServerNameRequired},
		{"no_auth_user without users", "mqtt { port: -1, no_auth_user: bob }\n", mqtt.Env{},
			`no_auth_user: "bob" present, but users/nkeys are not defined`, nil},
		{"no_auth_user unknown", users + "mqtt { port: -1, no_auth_user: bob, authorization { user: a } }\n", mqtt.Env{JetStream: true},
			`no_auth_user: "bob" not present as user or nkey in authorization block or account configuration`, nil},
		{"no_auth_user a user", users + "mqtt { port: -1, no_auth_user: alice }\n", mqtt.Env{JetStream: true}, "", nil},
		{"no_auth_user an nkey", users + "mqtt { port: -1, no_auth_user: UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4 }\n", mqtt.Env{JetStream: true}, "", nil},
		{"no_auth_user an account user", "accounts { A { users: [{user: carol, password: x}] } }\nmqtt { port: -1, no_auth_user: carol }\n", mqtt.Env{JetStream: true}, "", nil},
		{"user with users", users + "mqtt { port: -1, authorization { user: a, token: t } }\n", mqtt.Env{JetStream: true},
			"mqtt authentication username not compatible with presence of users/nkeys", mqtt.ErrUserWithUsers},
		{"user with account users", "accounts { A { users: [{user: carol, password: x}] } }\nmqtt { port: -1, authorization { user: a } }\n", mqtt.Env{JetStream: true},
			"mqtt authentication username not compatible with presence of users/nkeys", mqtt.ErrUserWithUsers},
		{"token with users", users + "mqtt { port: -1, authorization { token: t } }\n", mqtt.Env{JetStream: true},
			"mqtt authentication token not compatible with presence of users/nkeys", mqtt.ErrTokenWithUsers},
		{"user and token without users", "mqtt { port: -1, authorization { user: a, token: t } }\n", mqtt.Env{JetStream: true}, "", nil},
		{"ack_wait negative before JetStream", "mqtt { port: -1, ack_wait: \"-1s\", js_api_timeout: \"-1s\" }\n", mqtt.Env{},
			"ack wait must be a positive value", mqtt.ErrAckWaitNegative},
		{"js_api_timeout negative", "mqtt { port: -1, js_api_timeout: \"-1s\" }\n", mqtt.Env{},
			"JS API timeout must be a positive value", mqtt.ErrJSAPITimeoutNegative},
		{"zero durations", "mqtt { port: -1, ack_wait: \"0s\", js_api_timeout: \"0s\" }\n", mqtt.Env{JetStream: true}, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, _, c, _, err := applyText(t, tc.text)
			if err != nil {
				t.Fatalf("config: %v", err)
			}
			env := tc.env
			env.Server = &c.Options
			err = o.Validate(env)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want == "":
				return
			case err == nil:
				t.Fatalf("no error, want %q", tc.want)
			case err.Error() != tc.want:
				t.Errorf("error:\n got %s\nwant %s", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
		})
	}

	// Options built in code: consumer_replicas is not read from files.
	o := mqtt.Options{Port: -1, StreamReplicas: 1, ConsumerReplicas: 3}
	err := o.Validate(mqtt.Env{JetStream: true})
	if want := "mqtt: consumer_replicas (3) cannot be higher than stream_replicas (1)"; err == nil || err.Error() != want {
		t.Errorf("replicas: got %v, want %s", err, want)
	}
}
