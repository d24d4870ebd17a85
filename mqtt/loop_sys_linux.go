//go:build linux

package mqtt

import (
	"net"
	"syscall"
	"unsafe"
)

// The event loop's system calls on non-blocking sockets. They never wait,
// so they go without the runtime's entersyscall/exitsyscall (which wakes
// the sysmon thread when it sleeps, a futex call and a thread switch each
// time): a connection's few calls cost that much less.

func rawRead(fd int, p []byte) (int, syscall.Errno) {
	if len(p) == 0 {
		return 0, 0
	}
	n, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	return int(n), e
}

func rawWrite(fd int, p []byte) (int, syscall.Errno) {
	if len(p) == 0 {
		return 0, 0
	}
	n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	return int(n), e
}

func rawClose(fd int) {
	syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(fd), 0, 0)
}

func rawShutdown(fd int) {
	syscall.RawSyscall(syscall.SYS_SHUTDOWN, uintptr(fd), syscall.SHUT_RDWR, 0)
}

// rawUnread reports whether the socket holds received bytes not read yet.
func rawUnread(fd int) bool {
	var b [1]byte
	n, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), 1, syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
	return e == 0 && n > 0
}

func rawEpollCtl(ep, op, fd int, events uint32) syscall.Errno {
	ev := syscall.EpollEvent{Events: events, Fd: int32(fd)}
	_, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_CTL, uintptr(ep), uintptr(op), uintptr(fd), uintptr(unsafe.Pointer(&ev)), 0, 0)
	return e
}

// rawEpollPoll returns the ready events without waiting.
func rawEpollPoll(ep int, evs []syscall.EpollEvent) (int, syscall.Errno) {
	n, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(ep), uintptr(unsafe.Pointer(&evs[0])), uintptr(len(evs)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), 0
}

// rawAccept accepts a connection as a non-blocking socket with TCP_NODELAY
// and returns its peer's address.
func rawAccept(lfd int) (int, *net.TCPAddr, syscall.Errno) {
	var rsa syscall.RawSockaddrAny
	l := uint32(unsafe.Sizeof(rsa))
	fd, _, e := syscall.RawSyscall6(syscall.SYS_ACCEPT4, uintptr(lfd), uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&l)), syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0, 0)
	if e != 0 {
		return -1, nil, e
	}
	one := int32(1)
	syscall.RawSyscall6(syscall.SYS_SETSOCKOPT, fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, uintptr(unsafe.Pointer(&one)), 4, 0)
	a := &net.TCPAddr{}
	switch rsa.Addr.Family {
	case syscall.AF_INET:
		p := (*syscall.RawSockaddrInet4)(unsafe.Pointer(&rsa))
		port := (*[2]byte)(unsafe.Pointer(&p.Port))
		a.IP = net.IPv4(p.Addr[0], p.Addr[1], p.Addr[2], p.Addr[3])
		a.Port = int(port[0])<<8 | int(port[1])
	case syscall.AF_INET6:
		p := (*syscall.RawSockaddrInet6)(unsafe.Pointer(&rsa))
		port := (*[2]byte)(unsafe.Pointer(&p.Port))
		a.IP = append(net.IP(nil), p.Addr[:]...)
		a.Port = int(port[0])<<8 | int(port[1])
	}
	return int(fd), a, 0
}
