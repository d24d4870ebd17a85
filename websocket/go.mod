module natsd.dev/websocket

go 1.26
