//go:build !unix

package mqtt

import "net"

// unreadTCP: without a peek at the socket a connection closes at once
// (a duplicate of the socket is not available either).
func unreadTCP(*net.TCPConn) bool { return false }
