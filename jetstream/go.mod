module natsd.dev/jetstream

go 1.26
