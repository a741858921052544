package pollconn

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"
)

// A Conn's reads and writes are made inside syscall.RawConn's callbacks
// with syscall.RawSyscall, not with net.Conn's syscall.Syscall. The socket
// is non-blocking, so no call blocks; what is skipped is the runtime's
// syscall entry and exit. Their own cost is small; what they bring with
// them is not: when the process was idle a moment before, Go's sysmon
// thread is in a deep sleep, and the first syscall entry wakes it (a futex
// wake and two context switches). With requests arriving one by one that
// was a fifth of the proxy's CPU per request. A Conn's traffic no longer
// wakes it; a timer or any other syscall does, as before. Until then its
// duties (preempting a goroutine that ran for over 10 ms, polling the
// network while every P is busy) wait: a busy connection's deadlines and
// watchdog are timers at most ProbeAfter away, so the wait is bounded.
//
// The deadline, close and readiness handling stay net's (RawConn's), and
// errors take the form net.Conn's have: *net.OpError with op "read" or
// "write", wrapping an *os.SyscallError, os.ErrDeadlineExceeded or
// net.ErrClosed; a read of 0 bytes at the end is io.EOF.
//
// Each direction's in-flight call keeps its state in the Conn (a closure
// would allocate per call). net.Conn allows concurrent calls, so a second
// caller in the same direction, found by a flag, takes net.Conn's own path,
// and so does a race build (race.go).

// rawIO is one direction's call: its buffers, the bytes done, the errno.
type rawIO struct {
	iov   [2]syscall.Iovec
	cnt   int // buffers in iov
	p     []byte
	n     int
	err   syscall.Errno
	stuck bool // a write made no progress and gave no error
}

// maxRW is internal/poll's cap on one read.
const maxRW = 1 << 30

// rawSyscall makes a call, again while it is interrupted. n is 0 on an
// error.
func rawSyscall(trap, a1, a2, a3 uintptr) (n int, e syscall.Errno) {
	for {
		r, _, e := syscall.RawSyscall(trap, a1, a2, a3)
		if e == 0 {
			return int(r), 0
		}
		if e != syscall.EINTR {
			return 0, e
		}
	}
}

// rawRead reads once into rio.p, and asks to wait when nothing is there.
func (pc *Conn) rawRead(fd uintptr) bool {
	r := &pc.rio
	n, e := rawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(unsafe.SliceData(r.p))), uintptr(len(r.p)))
	if e == syscall.EAGAIN {
		return false
	}
	r.n, r.err = n, e
	return true
}

// rawWrite writes all of wio's buffers (one writev for two), and asks to
// wait for room when the socket is full.
func (pc *Conn) rawWrite(fd uintptr) bool {
	r := &pc.wio
	for r.cnt > 0 {
		var n int
		var e syscall.Errno
		if r.cnt == 1 {
			n, e = rawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(r.iov[0].Base)), uintptr(r.iov[0].Len))
		} else {
			n, e = rawSyscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&r.iov[0])), uintptr(r.cnt))
		}
		if e == syscall.EAGAIN {
			return false
		}
		if e != 0 || n == 0 { // no progress without an error: net says io.ErrUnexpectedEOF
			r.err, r.stuck = e, e == 0
			return true
		}
		r.n += n
		r.advance(n)
	}
	return true
}

// advance drops n written bytes from the front of iov.
func (r *rawIO) advance(n int) {
	for r.cnt > 0 && n >= int(r.iov[0].Len) {
		n -= int(r.iov[0].Len)
		r.iov[0], r.iov[1] = r.iov[1], syscall.Iovec{}
		r.cnt--
	}
	if r.cnt > 0 && n > 0 {
		r.iov[0].Base = (*byte)(unsafe.Add(unsafe.Pointer(r.iov[0].Base), n))
		r.iov[0].Len -= uint64(n)
	}
}

// read is net.Conn's Read made with RawSyscall.
func (pc *Conn) read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if !useRaw || !pc.reading.CompareAndSwap(false, true) {
		return pc.TCPConn.Read(p)
	}
	pc.rio.p = p[:min(len(p), maxRW)]
	err := pc.raw.Read(pc.readFn)
	n, errno := pc.rio.n, pc.rio.err
	pc.rio = rawIO{}
	pc.reading.Store(false)
	switch {
	case err != nil:
		return 0, pc.opError("read", err)
	case errno != 0:
		return 0, pc.opError("read", os.NewSyscallError("read", errno))
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// write is net.Conn's Write made with RawSyscall: all of a, then all of
// b, in one writev where the socket takes them. It returns the bytes of
// both written.
func (pc *Conn) write(a, b []byte) (int, error) {
	if !useRaw || !pc.writing.CompareAndSwap(false, true) {
		if len(b) == 0 {
			return pc.TCPConn.Write(a)
		}
		bufs := net.Buffers{a, b}
		n, err := bufs.WriteTo(pc.TCPConn)
		return int(n), err
	}
	r := &pc.wio
	for _, p := range [2][]byte{a, b} {
		if len(p) > 0 {
			r.iov[r.cnt] = syscall.Iovec{Base: unsafe.SliceData(p), Len: uint64(len(p))}
			r.cnt++
		}
	}
	var err error
	if r.cnt > 0 {
		err = pc.raw.Write(pc.writeFn)
	}
	n, errno, stuck := r.n, r.err, r.stuck
	pc.wio = rawIO{}
	pc.writing.Store(false)
	switch {
	case err != nil:
		return n, pc.opError("write", err)
	case stuck:
		return n, pc.opError("write", io.ErrUnexpectedEOF)
	case errno != 0:
		return n, pc.opError("write", os.NewSyscallError("write", errno))
	}
	return n, nil
}

// opError gives err the form net.Conn's errors have. RawConn's come as an
// *net.OpError with op "raw-read" or "raw-write": the op is renamed.
func (pc *Conn) opError(op string, err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) {
		oe.Op = op
		return oe
	}
	return &net.OpError{Op: op, Net: "tcp", Source: pc.LocalAddr(), Addr: pc.RemoteAddr(), Err: err}
}

// peek reports whether a read on fd would not wait: data, a close or an
// error is there. It reads nothing.
func (pc *Conn) peek(fd uintptr) bool {
	for {
		_, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&pc.peekBuf[0])), 1,
			syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
		if e != syscall.EINTR {
			return e != syscall.EAGAIN
		}
	}
}
