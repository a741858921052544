package accesslog

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Logger queues records and writes their lines on its own goroutine.
type Logger struct {
	cfg     Config
	headers bool
	// The records: each is in free (to fill), being filled by a
	// request, in queue (filled, for the writer) or in the writer's
	// batch; qmu guards free, queue and idle. A mutex and two slices
	// cost a request less than two channel operations, and the writer
	// takes the whole queue at once.
	qmu     sync.Mutex
	free    []*Record
	queue   []*Record
	spare   []*Record     // the writer's batch, swapped with queue
	idle    bool          // the writer sleeps until kicked
	kick    chan struct{} // wakes it (one pending at most)
	count   atomic.Uint64 // Traefik's RequestCount
	dropped atomic.Uint64

	mu      sync.Mutex // file, out, w and the write state, against Reopen
	file    *os.File   // nil: standard output
	out     io.Writer  // what w writes to: the file, standard output, or nothing after Close
	w       *bufio.Writer
	wstate  writeState
	line    []byte
	kv      []field
	scratch []byte
	keep    [numKeys]bool  // core keys kept (keepKeys)
	pos     [numKeys]int16 // the line's core fields in kv (fields)
	clock   clock          // logrus's time field
	// the common log format's times of the current second
	clfUTC, clfLocal clock
	nano             [2]nanoClock // JSON's StartLocal and StartUTC
}

// New opens the log (creating its directory, as Traefik does) and starts
// its writer.
func New(cfg Config) (*Logger, error) {
	l := &Logger{cfg: cfg, headers: cfg.Fields.wantsHeaders(), keep: keepKeys(&cfg.Fields)}
	n := cfg.BufferingSize
	if n <= 0 {
		n = DefaultQueue
	}
	l.free, l.queue, l.spare, l.kick = make([]*Record, 0, n), make([]*Record, 0, n), make([]*Record, 0, n), make(chan struct{}, 1)
	for range n {
		l.free = append(l.free, newRecord())
	}
	var out io.Writer = os.Stdout
	if cfg.FilePath != "" {
		f, err := openFile(cfg.FilePath)
		if err != nil {
			return nil, err
		}
		l.file, out = f, f
	}
	l.out, l.w = out, bufio.NewWriterSize(out, writeBuffer)
	go l.run()
	return l, nil
}

func openFile(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("access log: creating %s: %w", filepath.Dir(path), err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o664)
	if err != nil {
		return nil, fmt.Errorf("access log: %w", err)
	}
	return f, nil
}

// Keeps reports whether the filters keep a request's line.
func (l *Logger) Keeps(status, retries int, d time.Duration) bool {
	return l.cfg.keep(status, retries, d)
}

// Headers reports whether lines may show headers (the front end copies
// them into the record only then).
func (l *Logger) Headers() bool { return l.headers }

// Record returns an empty record, or nil when every record is queued
// (the writer is behind): the line is then dropped and counted.
func (l *Logger) Record() *Record {
	l.qmu.Lock()
	n := len(l.free) - 1
	if n < 0 {
		l.qmu.Unlock()
		l.dropped.Add(1)
		return nil
	}
	r := l.free[n]
	l.free = l.free[:n]
	l.qmu.Unlock()
	r.reset()
	return r
}

// Submit queues r, a record of Record, for writing, numbering it. r must
// not be used afterwards.
func (l *Logger) Submit(r *Record) {
	r.count = l.count.Add(1)
	l.qmu.Lock()
	l.queue = append(l.queue, r) // never grows: there are as many records as places
	wake := l.idle
	l.idle = false
	l.qmu.Unlock()
	if wake {
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
}

// Dropped is the number of lines dropped because the queue was full or
// their write failed.
func (l *Logger) Dropped() uint64 { return l.dropped.Load() }

// writeBuffer is the size of the writes to the file: at a megabyte the
// kernel's cost per byte is about a fifth lower than at 64 KiB (PERF.md
// section 9), for a megabyte of memory per log.
const writeBuffer = 1 << 20

// FlushDelay is how long a written line may wait in the buffer: lines
// are flushed when the buffer fills, when the writer runs out of lines,
// or this long after the last flush (as nginx's access_log buffer= and
// flush=).
const FlushDelay = 100 * time.Millisecond

// batchDelay is how long the writer lets lines gather between two
// batches while requests keep coming: one wake-up per batch, not per
// request.
const batchDelay = 5 * time.Millisecond

// run writes batches of lines; with none queued it flushes and sleeps
// until Submit wakes it, so that an idle log costs no wake-ups.
func (l *Logger) run() {
	last := time.Now()
	for {
		if l.drain() > 0 {
			if time.Since(last) >= FlushDelay {
				l.flush()
				last = time.Now()
			}
			time.Sleep(batchDelay)
			continue
		}
		l.flush()
		last = time.Now()
		l.qmu.Lock()
		l.idle = len(l.queue) == 0 // else Submit queued after the drain
		idle := l.idle
		l.qmu.Unlock()
		if idle {
			<-l.kick
		}
	}
}

// drain writes every queued line, and how many.
func (l *Logger) drain() int {
	n := 0
	for {
		l.qmu.Lock()
		batch := l.queue
		l.queue = l.spare[:0]
		l.qmu.Unlock()
		if len(batch) == 0 {
			l.spare = batch
			return n
		}
		l.mu.Lock()
		for _, r := range batch {
			l.line = l.format(l.line[:0], r)
			l.writeLine(l.line)
		}
		l.mu.Unlock()
		l.qmu.Lock()
		l.free = append(l.free, batch...)
		l.qmu.Unlock()
		clear(batch) // no record is held twice
		l.spare = batch[:0]
		n += len(batch)
	}
}

// queued is the number of records waiting for the writer.
func (l *Logger) queued() int {
	l.qmu.Lock()
	defer l.qmu.Unlock()
	return len(l.queue)
}

func (l *Logger) flush() {
	l.mu.Lock()
	l.flushLocked()
	l.mu.Unlock()
}

// Reopen flushes and reopens the file (after logrotate moved it).
func (l *Logger) Reopen() error {
	l.mu.Lock()
	path := l.cfg.FilePath
	l.mu.Unlock()
	if path == "" {
		return nil
	}
	f, err := openFile(path)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flushLocked()
	old := l.file
	l.file, l.out = f, f
	l.w.Reset(f)
	if old == nil {
		return nil
	}
	return old.Close()
}

// Close writes what is queued (waiting at most a second) and closes the
// file; lines submitted afterwards are discarded.
func (l *Logger) Close() error {
	for deadline := time.Now().Add(time.Second); l.queued() > 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.w.Flush()
	if l.file != nil {
		if cerr := l.file.Close(); err == nil {
			err = cerr
		}
		l.file = nil
	}
	l.cfg.FilePath = "" // no Reopen
	l.out = io.Discard
	l.w.Reset(io.Discard)
	return err
}
