//go:build !unix

package mqtt_test

import "syscall"

// smallRcvBuf is a net.Dialer's Control; only Unix sets the buffer here.
func smallRcvBuf(_, _ string, _ syscall.RawConn) error { return nil }
