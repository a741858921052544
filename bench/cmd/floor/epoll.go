//go:build linux

package main

import (
	"fmt"
	"log"
	"net"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// loop is the epoll relay's state, owned by one locked OS thread.
type loop struct {
	ep, ln int
	peer   map[int]int // fd -> the fd its bytes go to
	ups    []unix.Sockaddr
	next   int
	buf    []byte
}

// serveEpoll relays on one OS thread: level-triggered epoll over the
// listener and every connection; a readable connection is read once and
// what came is written to its peer. Non-blocking calls go through
// RawSyscall, as nginx's would go straight to the kernel; only epoll_wait,
// which may sleep, tells Go's scheduler.
func serveEpoll(addr string, ups []string) error {
	l, err := newLoop(addr, ups)
	if err != nil {
		return err
	}
	log.Printf("floor -mode epoll listening on %s", l.addr())
	return l.run()
}

// newLoop binds addr (port 0 picks one) and sets up the epoll instance.
func newLoop(addr string, ups []string) (*loop, error) {
	l := &loop{peer: make(map[int]int), buf: make([]byte, 16<<10)}
	for _, u := range ups {
		sa, err := sockaddr(u)
		if err != nil {
			return nil, err
		}
		l.ups = append(l.ups, sa)
	}
	var err error
	if l.ln, err = listen(addr); err != nil {
		return nil, err
	}
	if l.ep, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return nil, err
	}
	return l, l.watch(l.ln)
}

// addr is the address the loop listens on.
func (l *loop) addr() string {
	sa, err := unix.Getsockname(l.ln)
	if in, ok := sa.(*unix.SockaddrInet4); ok && err == nil {
		return (&net.TCPAddr{IP: in.Addr[:], Port: in.Port}).String()
	}
	return "?"
}

// run serves until epoll_wait fails, on the calling goroutine's thread.
func (l *loop) run() error {
	runtime.LockOSThread()
	events := make([]unix.EpollEvent, 256)
	for {
		n, err := unix.EpollWait(l.ep, events, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		for _, ev := range events[:n] {
			if fd := int(ev.Fd); fd == l.ln {
				l.accept()
			} else {
				l.relay(fd)
			}
		}
	}
}

// accept takes every pending connection and pairs it with a new upstream.
func (l *loop) accept() {
	for {
		c, _, err := unix.Accept4(l.ln, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		if err != nil {
			if err != unix.EAGAIN {
				log.Printf("accept: %v", err)
			}
			return
		}
		u, err := l.dial()
		if err != nil {
			log.Printf("dial upstream: %v", err)
			unix.Close(c)
			continue
		}
		_ = unix.SetsockoptInt(c, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		l.peer[c], l.peer[u] = u, c
		if l.watch(c) != nil || l.watch(u) != nil {
			l.drop(c)
		}
	}
}

// relay moves what one read finds on fd to its peer; end of stream or an
// error on either side closes the pair.
func (l *loop) relay(fd int) {
	p, ok := l.peer[fd]
	if !ok {
		return // closed earlier in this batch
	}
	n, _, errno := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&l.buf[0])), uintptr(len(l.buf)))
	switch {
	case errno == unix.EAGAIN:
		return
	case errno != 0 || n == 0:
		l.drop(fd)
		return
	}
	if writeAll(p, l.buf[:n]) != nil {
		l.drop(fd)
	}
}

// writeAll writes b to fd, waiting in poll(2) when the socket is full.
func writeAll(fd int, b []byte) error {
	for len(b) > 0 {
		n, _, errno := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		switch {
		case errno == unix.EAGAIN:
			if _, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}, -1); err != nil && err != unix.EINTR {
				return err
			}
		case errno != 0:
			return errno
		default:
			b = b[n:]
		}
	}
	return nil
}

// drop closes fd and its peer.
func (l *loop) drop(fd int) {
	p := l.peer[fd]
	delete(l.peer, fd)
	delete(l.peer, p)
	unix.Close(fd)
	unix.Close(p)
}

func (l *loop) watch(fd int) error {
	return unix.EpollCtl(l.ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)})
}

// dial connects to the next upstream (blocking: connections are set up
// before the measured load), then makes the socket non-blocking.
func (l *loop) dial() (int, error) {
	sa := l.ups[l.next%len(l.ups)]
	l.next++
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	if err := unix.Connect(fd, sa); err != nil {
		unix.Close(fd)
		return -1, err
	}
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

func listen(addr string) (int, error) {
	sa, err := sockaddr(addr)
	if err != nil {
		return -1, err
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("bind %s: %w", addr, err)
	}
	if err := unix.Listen(fd, 4096); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// sockaddr resolves an IPv4 host:port.
func sockaddr(addr string) (unix.Sockaddr, error) {
	ta, err := net.ResolveTCPAddr("tcp4", addr)
	if err != nil {
		return nil, err
	}
	sa := &unix.SockaddrInet4{Port: ta.Port}
	copy(sa.Addr[:], ta.IP.To4())
	return sa, nil
}
