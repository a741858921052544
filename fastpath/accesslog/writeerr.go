package accesslog

import (
	"time"
)

// A failed write (a full disk, a file system gone read-only) loses the
// lines of the failed buffer, counted as dropped, and is reported through
// Config.OnWriteError: a failure after a success at once, then at most once per
// ErrorReportInterval while failures go on, and once more when a write
// succeeds again. The writer then goes on with an empty buffer, so the
// log resumes by itself when the disk does (bufio.Writer alone would keep
// the first error for good and write nothing more until a reopen).

// ErrorReportInterval is the least time between two reports of failing
// writes.
const ErrorReportInterval = 10 * time.Second

// writeState is the writer's bookkeeping of lines not yet on disk and of
// failures not yet reported (guarded by Logger.mu).
type writeState struct {
	pending  uint64    // lines in w's buffer since the last successful flush
	lost     uint64    // lines lost since the last report
	failing  bool      // the last write failed
	reported time.Time // when a failure was last reported
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
	w := &l.wstate
	w.pending = 0
	if w.failing {
		w.failing = false
		l.report(nil)
	}
}

// failed drops what the buffer held (and extra lines written through),
// clears the writer's error, and reports.
func (l *Logger) failed(err error, extra uint64) {
	w := &l.wstate
	n := w.pending + extra
	w.pending, w.lost = 0, w.lost+n
	l.dropped.Add(n)
	l.w.Reset(l.out)
	// a new failure is reported at once, one that goes on once per interval
	again := w.failing && time.Since(w.reported) < ErrorReportInterval
	w.failing = true
	if !again {
		l.report(err)
	}
}

// report calls Config.OnWriteError with err (nil: writes succeed again)
// and the lines lost since the last report.
func (l *Logger) report(err error) {
	w := &l.wstate
	if l.cfg.OnWriteError != nil {
		l.cfg.OnWriteError(err, w.lost)
	}
	w.lost, w.reported = 0, time.Now()
}
