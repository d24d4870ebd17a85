//go:build unix

package server

import "syscall"

const canWriteDirect = true

// do is the raw connection's write callback: non-blocking writes of
// d.chs from chunk d.i, byte d.off, until done, EAGAIN or a failure.
func (d *directConn) do(fd uintptr) bool {
	for d.i < len(d.chs) {
		b := d.chs[d.i].b[d.off:]
		if len(b) == 0 {
			d.i, d.off = d.i+1, 0
			continue
		}
		n, err := syscall.Write(int(fd), b)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			return true // EAGAIN or a failure: the writer's now
		}
		d.off += n
	}
	return true
}
