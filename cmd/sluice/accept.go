package main

import (
	"errors"
	"log/slog"
	"net"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sluiceproxy/sluice/fastpath/pollconn"
)

// An entry point's accept loop must outlive a process out of file
// descriptors: fasthttp ends Serve on any accept error but a timeout, and
// before guardedListener an entry point that hit EMFILE never accepted
// again. Two defences, both counted in metrics:
//
//   - Back-off: a temporary accept error (EMFILE, ENFILE, ENOBUFS, ENOMEM,
//     ECONNABORTED) is waited out as Go's net/http waits it out (5 ms,
//     doubling to 1 s), then Accept is tried again; the connections wait in
//     the kernel's queue meanwhile.
//   - Reserve: the top descriptors of the process's limit are kept for what
//     must keep working when clients take everything else. A client
//     connection accepted into that range is closed at once and accepting
//     pauses as for EMFILE; connections to servers may use the lower half
//     of the reserve (upstream.Options.DescriptorCeiling), so a request
//     already accepted can still reach its server; the upper half stays
//     for the ping entry point (a liveness probe), the providers' watches
//     and log files. Linux gives a new socket the lowest free descriptor,
//     so a descriptor number in the reserve means every one below it is
//     taken: the test costs one comparison per connection, with no count
//     of descriptors kept.

// acceptStats counts what the guarded listeners of every entry point met.
type acceptStats struct {
	errors   atomic.Uint64 // accept errors waited out
	reserved atomic.Uint64 // connections closed to keep the reserve
}

// guardedListener is an entry point's listener with the back-off and,
// when limit > 0, the reserve.
type guardedListener struct {
	net.Listener
	ep      string
	limit   int // the soft RLIMIT_NOFILE; 0: no reserve
	reserve int // descriptors kept under limit
	stats   *acceptStats
	log     *slog.Logger
	sleep   func(time.Duration) // time.Sleep; tests shorten it
	delay   time.Duration       // the current back-off, 0 after a success
	logged  time.Time           // the last back-off logged (at most one a minute)
}

const (
	firstAcceptDelay = 5 * time.Millisecond
	maxAcceptDelay   = time.Second
)

// reserveFor is how many descriptors to keep under a limit: a sixteenth,
// at least 16 and at most 256 (16 of 512, 256 of 4,096 and beyond).
func reserveFor(limit int) int { return min(max(limit/16, 16), 256) }

func (l *guardedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if !temporaryAccept(err) {
				return nil, err
			}
			l.stats.errors.Add(1)
			l.pause("accept failed; retrying", err)
			continue
		}
		if l.limit > 0 && pollconn.Descriptor(c) >= l.limit-l.reserve {
			_ = c.Close()
			l.stats.reserved.Add(1)
			l.pause("descriptors nearly exhausted: connection closed to keep the reserve", nil)
			continue
		}
		l.delay = 0
		return c, nil
	}
}

// pause waits the back-off, doubling it for the next time, and logs the
// first of a series (and then at most once a minute).
func (l *guardedListener) pause(msg string, err error) {
	if l.delay == 0 {
		l.delay = firstAcceptDelay
	} else {
		l.delay = min(2*l.delay, maxAcceptDelay)
	}
	if now := time.Now(); now.Sub(l.logged) >= time.Minute {
		l.logged = now
		args := []any{"entryPoint", l.ep, "retryIn", l.delay, "descriptorLimit", l.limit, "reserve", l.reserve}
		if err != nil {
			args = append(args, "error", err.Error())
		}
		l.log.Warn(msg, args...)
	}
	l.sleep(l.delay)
}

// temporaryAccept reports an accept error that a later Accept may not
// meet: the process or system out of descriptors or memory, or a client
// gone before its connection was taken.
func temporaryAccept(err error) bool {
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED} {
		if errors.Is(err, e) {
			return true
		}
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// descriptorLimit is the process's soft RLIMIT_NOFILE (Go raises it to the
// hard limit at start), or 0 when unknown or too small for a reserve.
func descriptorLimit() int {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil || r.Cur > 1<<30 || r.Cur < 64 {
		return 0
	}
	return int(r.Cur)
}

// serverDescriptorCeiling is upstream.Options.DescriptorCeiling: server
// connections may use the lower half of the reserve (0: no limit known).
func serverDescriptorCeiling() int {
	limit := descriptorLimit()
	if limit == 0 {
		return 0
	}
	return limit - reserveFor(limit)/2
}
