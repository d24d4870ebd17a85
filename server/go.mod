module natsd.dev/server

go 1.26

require (
	natsd.dev/protocol v0.0.0
	natsd.dev/sublist v0.0.0
)

replace (
	natsd.dev/protocol => ../protocol
	natsd.dev/sublist => ../sublist
)
