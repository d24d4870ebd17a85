//go:build !linux

package mqtt

import (
	"errors"
	"net"
)

// Only Linux has the event loop (loop_linux.go): elsewhere every client
// gets a goroutine.
const loopSupported = false

type loopConn struct{}

func startLoop(*MQTT, net.Listener) (net.Listener, error) {
	return nil, errors.New("mqtt: no event loop on this system")
}

func (*loopConn) onLoop() bool { return false }
