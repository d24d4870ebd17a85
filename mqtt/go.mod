module natsd.dev/mqtt

go 1.26.0

require (
	natsd.dev/confparse v0.0.0
	natsd.dev/jetstream v0.0.0
	natsd.dev/server v0.0.0
	natsd.dev/websocket v0.0.0
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
