//go:build !unix

package server

// canWriteDirect: only unix sockets are written without blocking; the
// writer goroutine writes everything elsewhere.
const canWriteDirect = false

func (d *directConn) do(uintptr) bool { return true }
