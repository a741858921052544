package accesslog

import "github.com/sluiceproxy/sluice/fastpath/internal/failrep"

// A failed write (a full disk, a file system gone read-only) loses the
// lines of the failed buffer, counted as dropped, and is reported through
// Config.OnWriteError as package failrep rules. The writer then goes on
// with an empty buffer, so the log resumes by itself when the disk does
// (bufio.Writer alone would keep the first error for good and write
// nothing more until a reopen).

// writeState is the writer's bookkeeping of lines not yet on disk and of
// failures not yet said (guarded by Logger.mu).
type writeState struct {
	pending uint64 // lines in w's buffer since the last successful flush
	fail    failrep.Reporter
}

// writeLine puts a line in the buffer, flushing it first when the line
// does not fit, so that a failed flush is known to lose exactly the
// buffered lines.
func (l *Logger) writeLine(line []byte) {
	if l.w.Buffered() > 0 && l.w.Available() < len(line) {
		l.flushLocked() // failing, it empties the buffer for this line
	}
	if _, err := l.w.Write(line); err != nil {
		l.failed(err, 1) // larger than the buffer, written through, and failed
		return
	}
	l.wstate.pending++
}

// flushLocked writes the buffer out (l.mu held).
func (l *Logger) flushLocked() {
	if err := l.w.Flush(); err != nil {
		l.failed(err, 0)
		return
	}
	l.wstate.pending = 0
	l.wstate.fail.Outcome(nil, 0, l.cfg.OnWriteError)
}

// failed drops what the buffer held (and extra lines written through),
// clears the writer's error, and reports.
func (l *Logger) failed(err error, extra uint64) {
	w := &l.wstate
	n := w.pending + extra
	w.pending = 0
	l.dropped.Add(n)
	l.w.Reset(l.out)
	w.fail.Outcome(err, n, l.cfg.OnWriteError)
}
