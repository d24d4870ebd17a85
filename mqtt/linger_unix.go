//go:build unix

package mqtt

import (
	"net"
	"syscall"
)

// unreadTCP reports whether tc's socket holds received bytes not read
// yet (the socket is non-blocking: the peek does not wait).
func unreadTCP(tc *net.TCPConn) bool {
	rc, err := tc.SyscallConn()
	if err != nil {
		return false
	}
	var unread bool
	rc.Control(func(fd uintptr) {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK)
		unread = err == nil && n > 0
	})
	return unread
}
