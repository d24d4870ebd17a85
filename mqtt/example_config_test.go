package mqtt_test

import (
	"fmt"
	"os"
	"path/filepath"

	"natsd.dev/confparse"
	"natsd.dev/mqtt"
	"natsd.dev/server/config"
)

// ExampleRegisterConfig reads the mqtt {} block of a nats-server
// configuration file and checks it against the rest of the file.
func ExampleRegisterConfig() {
	dir, _ := os.MkdirTemp("", "mqtt-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "server.conf")
	os.WriteFile(path, []byte(`
server_name: edge
mqtt {
	listen: "127.0.0.1:1883"
	ack_wait: "1m"
	max_ack_pending: 100
}
`), 0o600)

	var o mqtt.Options
	var present bool
	var p config.Parser
	mqtt.RegisterConfig(&p, &o, &present)
	cfg, _, err := p.ParseFile(path, confparse.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(present, o.Host, o.Port, o.AckWait, o.MaxAckPending)

	// Without JetStream a standalone server cannot keep MQTT sessions.
	fmt.Println(o.Validate(mqtt.Env{Server: &cfg.Options}))
	fmt.Println(o.Validate(mqtt.Env{Server: &cfg.Options, JetStream: true}))
	// Output:
	// true 127.0.0.1 1883 1m0s 100
	// mqtt requires JetStream to be enabled if running in standalone mode
	// <nil>
}
