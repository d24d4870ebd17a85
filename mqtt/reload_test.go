package mqtt_test

import (
	"errors"
	"testing"
	"time"

	"natsd.dev/mqtt"
	"natsd.dev/server"
)

// TestReload applies the consumer keys and refuses the others, keeping
// the options in force.
func TestReload(t *testing.T) {
	o := mqtt.Options{Host: "127.0.0.1", Port: -1}
	b := start(t, server.Options{}, o, t.TempDir())
	nu := o
	nu.AckWait, nu.MaxAckPending, nu.ConsumerInactiveThreshold = 5*time.Second, 10, time.Minute
	if err := b.m.Reload(nu); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(o *mqtt.Options){
		"port":       func(o *mqtt.Options) { o.Port = 1 },
		"js_domain":  func(o *mqtt.Options) { o.JSDomain = "d" },
		"no_auth":    func(o *mqtt.Options) { o.NoAuthUser = "x" },
		"reject_qos": func(o *mqtt.Options) { o.RejectQoS2Pub = true },
	} {
		bad := nu
		change(&bad)
		if err := b.m.Reload(bad); !errors.Is(err, mqtt.ErrReloadUnsupported) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A client after the reload still works.
	c := b.client(t, "after")
	c.Disconnect(10)
}
