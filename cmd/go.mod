module natsd.dev/cmd

go 1.26.0

require (
	github.com/eclipse/paho.golang v0.23.0
	github.com/eclipse/paho.mqtt.golang v1.5.1
	github.com/klauspost/compress v1.20.3
	github.com/nats-io/jwt/v2 v2.8.3
	github.com/nats-io/nats.go v1.55.0
	github.com/nats-io/nkeys v0.4.17
	github.com/stretchr/testify v1.12.1
	golang.org/x/crypto v0.57.0
	golang.org/x/sys v0.48.0
	golang.org/x/term v0.46.0
	natsd.dev/auth v0.0.0
	natsd.dev/cluster v0.0.0
	natsd.dev/confparse v0.0.0
	natsd.dev/jetstream v0.0.0
	natsd.dev/monitor v0.0.0
	natsd.dev/mqtt v0.0.0
	natsd.dev/protocol v0.0.0
	natsd.dev/server v0.0.0
	natsd.dev/websocket v0.0.0
)

require (
	github.com/gorilla/websocket v1.5.3 // indirect
	github.com/nats-io/nuid v1.0.1 // indirect
	go.yaml.in/yaml/v3 v3.0.6 // indirect
	golang.org/x/net v0.58.0 // indirect
	golang.org/x/sync v0.17.0 // indirect
	natsd.dev/sublist v0.0.0 // indirect
)

replace (
	natsd.dev/auth => ../auth
	natsd.dev/cluster => ../cluster
	natsd.dev/confparse => ../confparse
	natsd.dev/jetstream => ../jetstream
	natsd.dev/monitor => ../monitor
	natsd.dev/mqtt => ../mqtt
	natsd.dev/protocol => ../protocol
	natsd.dev/server => ../server
	natsd.dev/sublist => ../sublist
	natsd.dev/websocket => ../websocket
)
