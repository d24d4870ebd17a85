module natsd.dev/mqtt

go 1.26.0

require (
	github.com/eclipse/paho.golang v0.23.0
	github.com/eclipse/paho.mqtt.golang v1.5.1
	github.com/nats-io/nats.go v1.55.0
	natsd.dev/auth v0.0.0
	natsd.dev/confparse v0.0.0
	natsd.dev/jetstream v0.0.0
	natsd.dev/server v0.0.0
	natsd.dev/sublist v0.0.0
)

require (
	github.com/gorilla/websocket v1.5.3 // indirect
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/nats-io/nkeys v0.4.16 // indirect
	github.com/nats-io/nuid v1.0.1 // indirect
	golang.org/x/crypto v0.57.0 // indirect
	golang.org/x/net v0.58.0 // indirect
	golang.org/x/sync v0.17.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	natsd.dev/protocol v0.0.0 // indirect
)

replace (
	natsd.dev/auth => ../auth
	natsd.dev/confparse => ../confparse
	natsd.dev/jetstream => ../jetstream
	natsd.dev/protocol => ../protocol
	natsd.dev/server => ../server
	natsd.dev/sublist => ../sublist
	natsd.dev/websocket => ../websocket
)
