module natsd.dev/protocol

go 1.26
