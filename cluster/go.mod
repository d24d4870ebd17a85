module natsd.dev/cluster

go 1.26.0

require (
	github.com/klauspost/compress v1.20.3
	natsd.dev/confparse v0.0.0
	natsd.dev/protocol v0.0.0
	natsd.dev/server v0.0.0
	natsd.dev/sublist v0.0.0
)

replace (
	natsd.dev/auth => ../auth
	natsd.dev/confparse => ../confparse
	natsd.dev/protocol => ../protocol
	natsd.dev/server => ../server
	natsd.dev/sublist => ../sublist
	natsd.dev/websocket => ../websocket
)
