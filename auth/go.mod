module natsd.dev/auth

go 1.26.0

require (
	github.com/nats-io/jwt/v2 v2.8.3
	github.com/nats-io/nkeys v0.4.17
	github.com/stretchr/testify v1.12.1
	golang.org/x/crypto v0.57.0
	natsd.dev/confparse v0.0.0
	natsd.dev/sublist v0.0.0
)

require (
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sys v0.48.0 // indirect
)

replace (
	natsd.dev/confparse => ../confparse
	natsd.dev/sublist => ../sublist
)
