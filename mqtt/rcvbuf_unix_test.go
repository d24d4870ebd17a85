//go:build unix

package mqtt_test

import "syscall"

// smallRcvBuf is a net.Dialer's Control: a 4 KiB receive buffer.
func smallRcvBuf(_, _ string, rc syscall.RawConn) error {
	return rc.Control(func(fd uintptr) {
		syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
	})
}
