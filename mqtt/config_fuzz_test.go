package mqtt_test

import (
	"errors"
	"reflect"
	"testing"

	"natsd.dev/confparse"
	"natsd.dev/mqtt"
	"natsd.dev/server/config"
)

// FuzzConfig applies arbitrary text as the body of an mqtt {} block. The
// oracles: nothing panics; every error and warning is a *confparse.Error
// on a line of the file; a block that parses gives the same Options when
// applied again, and Validate answers without panicking.
func FuzzConfig(f *testing.F) {
	for _, s := range []string{
		"port: -1",
		"listen: \"127.0.0.1:1883\", ack_wait: \"5s\", max_ack_pending: 100",
		"authorization { user: u, password: p, token: t, timeout: 2.5 }, no_auth_user: bob",
		"js_domain: d, js_api_timeout: 3, stream_replicas: 3, consumer_replicas: 1",
		"consumer_memory_storage: true, consumer_inactive_threshold: \"1h\", reject_qos2_publish: true, downgrade_qos2_subscribe: false",
		"max_pending: 70000, foo: bar, tls: 1, authorization: { users: [] }",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		text := "mqtt {\n" + body + "\n}\n"
		m, err := confparse.ParseWithOptions("fuzz.conf", []byte(text), confparse.Options{
			Env:      func(string) (string, bool) { return "", false },
			ReadFile: func(string) ([]byte, error) { return nil, errors.New("no includes") },
		})
		if err != nil {
			return
		}
		apply := func() (mqtt.Options, config.Config, error) {
			var o mqtt.Options
			var present bool
			var p config.Parser
			mqtt.RegisterConfig(&p, &o, &present)
			c := config.Default()
			w, err := p.Apply(&c, m)
			for _, e := range w {
				if e.Pos.Line < 1 {
					t.Fatalf("warning without a position: %v", e)
				}
			}
			return o, c, err
		}
		o, c, err := apply()
		if err != nil {
			var list confparse.ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error is not an ErrorList: %T %v", err, err)
			}
			for _, e := range list {
				if e.Pos.Line < 1 {
					t.Fatalf("error without a position: %v", e)
				}
			}
			return
		}
		again, _, _ := apply()
		// A tls.Config is loaded anew each time; compare the rest.
		o.TLSConfig, again.TLSConfig = nil, nil
		if !reflect.DeepEqual(o, again) {
			t.Fatalf("two applications differ:\n%+v\n%+v", o, again)
		}
		_ = o.Validate(mqtt.Env{Server: &c.Options, JetStream: true})
	})
}
