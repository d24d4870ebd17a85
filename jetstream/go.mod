module natsd.dev/jetstream

go 1.26.0

require (
	github.com/klauspost/compress v1.20.3
	github.com/nats-io/jwt/v2 v2.8.3
	github.com/nats-io/nats.go v1.55.0
	github.com/nats-io/nkeys v0.4.17
	natsd.dev/confparse v0.0.0
	natsd.dev/server v0.0.0
	natsd.dev/sublist v0.0.0
)

require (
	github.com/nats-io/nuid v1.0.1 // indirect
	golang.org/x/crypto v0.57.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	natsd.dev/auth v0.0.0 // indirect
	natsd.dev/protocol v0.0.0 // indirect
)

replace (
	natsd.dev/auth => ../auth
	natsd.dev/confparse => ../confparse
	natsd.dev/protocol => ../protocol
	natsd.dev/server => ../server
	natsd.dev/sublist => ../sublist
	natsd.dev/websocket => ../websocket
)
