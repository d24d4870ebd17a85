module natsd.dev/jetstream

go 1.26

require natsd.dev/sublist v0.0.0

replace natsd.dev/sublist => ../sublist
