//go:build linux

package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"runtime"
	"syscall"
)

func main() {
	host := flag.String("a", "127.0.0.1", "address to listen on (IPv4)")
	port := flag.Int("p", 1883, "port to listen on (0: any free port)")
	flag.Parse()
	lfd, addr, err := listen(*host, *port)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mqttfloor:", err)
		os.Exit(1)
	}
	fmt.Println("listening on", addr)
	if err := serve(lfd, -1); err != nil {
		fmt.Fprintln(os.Stderr, "mqttfloor:", err)
		os.Exit(1)
	}
}

// listen opens a non-blocking listening socket on host:port.
func listen(host string, port int) (int, string, error) {
	ip := net.ParseIP(host).To4()
	if ip == nil {
		return -1, "", fmt.Errorf("%q is not an IPv4 address", host)
	}
	lfd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, "", err
	}
	syscall.SetsockoptInt(lfd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
	sa := &syscall.SockaddrInet4{Port: port}
	copy(sa.Addr[:], ip)
	if err := syscall.Bind(lfd, sa); err != nil {
		syscall.Close(lfd)
		return -1, "", err
	}
	if err := syscall.Listen(lfd, 4096); err != nil {
		syscall.Close(lfd)
		return -1, "", err
	}
	got, err := syscall.Getsockname(lfd)
	if err != nil {
		syscall.Close(lfd)
		return -1, "", err
	}
	in4 := got.(*syscall.SockaddrInet4)
	return lfd, net.JoinHostPort(net.IP(in4.Addr[:]).String(), fmt.Sprint(in4.Port)), nil
}

// serve runs the event loop on lfd until stop (a descriptor; -1 for none)
// is readable, then closes every connection and lfd.
func serve(lfd, stop int) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer syscall.Close(lfd)
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return err
	}
	defer syscall.Close(ep)
	for _, fd := range []int{lfd, stop} {
		if fd < 0 {
			continue
		}
		if err := syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, fd, &syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(fd)}); err != nil {
			return err
		}
	}
	evs := make([]syscall.EpollEvent, 128)
	buf := make([]byte, 1<<16)
	var out []byte
	rest := map[int][]byte{} // open connections and their partial packet
	defer func() {
		for fd := range rest {
			syscall.Close(fd)
		}
	}()
	for {
		n, err := syscall.EpollWait(ep, evs, -1)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		for _, ev := range evs[:n] {
			switch fd := int(ev.Fd); fd {
			case stop:
				return nil
			case lfd:
				for {
					c, _, err := syscall.Accept4(lfd, syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
					if err != nil {
						break // EAGAIN (or out of descriptors: tried again at the next event)
					}
					if syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, c, &syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(c)}) != nil {
						syscall.Close(c)
						continue
					}
					rest[c] = nil
				}
			default:
				held := copy(buf, rest[fd])
				k, err := syscall.Read(fd, buf[held:])
				if err == syscall.EAGAIN {
					continue
				}
				if k <= 0 || err != nil {
					delete(rest, fd)
					syscall.Close(fd)
					continue
				}
				var left []byte
				var end bool
				out, left, end = floorAnswer(out[:0], buf[:held+k])
				if len(out) > 0 {
					syscall.Write(fd, out)
				}
				if end {
					delete(rest, fd)
					syscall.Close(fd)
					continue
				}
				rest[fd] = append(rest[fd][:0], left...)
			}
		}
	}
}

// floorAnswer appends the answers to the whole packets in b to out and
// returns the bytes of an incomplete last packet; end reports a
// DISCONNECT.
func floorAnswer(out, b []byte) (_, left []byte, end bool) {
	for len(b) >= 2 {
		size, mul, i := 0, 1, 1
		for ; i < len(b) && i < 5; i++ {
			size += int(b[i]&127) * mul
			mul <<= 7
			if b[i] < 128 {
				break
			}
		}
		if i >= len(b) || len(b) < i+1+size {
			break
		}
		body := b[i+1 : i+1+size]
		switch b[0] >> 4 {
		case 1: // CONNECT
			out = append(out, 0x20, 2, 0, 0)
		case 3: // PUBLISH
			if b[0]>>1&3 == 1 && len(body) >= 2 {
				if t := int(body[0])<<8 | int(body[1]); len(body) >= t+4 {
					out = append(out, 0x40, 2, body[t+2], body[t+3])
				}
			}
		case 12: // PINGREQ
			out = append(out, 0xd0, 0)
		case 14: // DISCONNECT
			return out, nil, true
		}
		b = b[i+1+size:]
	}
	return out, b, false
}
