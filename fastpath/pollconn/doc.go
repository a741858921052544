// Package pollconn is a TCP connection that sends its last write from
// inside the wait for the answer, and so saves the read Go's net package
// makes first, which finds nothing and returns EAGAIN (one syscall of five
// or six per proxied request).
//
// Both ends of the proxy use it: upstream connections hold a request's
// last flush until the proxy waits for the response (fastpath/upstream),
// and client connections hold a complete response until the server waits
// for the next request (fastpath). Holding is asked for one write at a
// time (HoldLast); a held write goes out before anything else touches the
// socket: the wait (Await, Read), another write, ReadFrom, Close.
//
// The guarantee: a held write is never lost and never reordered, and a
// wait after it ends when data, a close or an error arrives, or at the
// latest after a watchdog of about 100 ms if the socket's readiness was
// consumed before the write (see Conn). Stale tells a pool whether a
// connection that sat idle was closed by its peer meanwhile, before
// anything is written on it.
//
// A Conn reads and writes with syscall.RawSyscall inside syscall.RawConn's
// callbacks (raw.go): the socket is non-blocking, and the runtime's syscall
// entry it skips would wake Go's sysmon thread whenever the process had
// been idle a moment before, which cost a fifth of the CPU per request when
// requests come one at a time. Errors keep net.Conn's form. It imports
// nothing from Sluice.
package pollconn
