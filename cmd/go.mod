module natsd.dev/cmd

go 1.26.0

require (
	natsd.dev/confparse v0.0.0
	natsd.dev/server v0.0.0
)

require (
	go.yaml.in/yaml/v3 v3.0.6 // indirect
	natsd.dev/protocol v0.0.0 // indirect
	natsd.dev/sublist v0.0.0 // indirect
)

replace (
	natsd.dev/confparse => ../confparse
	natsd.dev/protocol => ../protocol
	natsd.dev/server => ../server
	natsd.dev/sublist => ../sublist
)
