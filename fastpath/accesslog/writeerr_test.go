package accesslog

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// flaky is a file that fails with ENOSPC while full is set.
type flaky struct {
	mu   sync.Mutex
	full bool
	buf  bytes.Buffer
}

func (f *flaky) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.full {
		return 0, syscall.ENOSPC
	}
	return f.buf.Write(p)
}

func (f *flaky) set(full bool) { f.mu.Lock(); f.full = full; f.mu.Unlock() }

func (f *flaky) lines() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Split(strings.TrimSuffix(f.buf.String(), "\n"), "\n")
}

type report struct {
	err  error
	lost uint64
}

// A full disk loses the lines of the failed buffer, counted as dropped,
// reports once (not once per line), and the log resumes by itself when
// the disk has room again, reporting that too.
func TestWriteErrorsResume(t *testing.T) {
	var mu sync.Mutex
	var reports []report
	cfg := NewConfig()
	cfg.OnWriteError = func(err error, lost uint64) {
		mu.Lock()
		reports = append(reports, report{err, lost})
		mu.Unlock()
	}
	l := logger(t, cfg)
	f := &flaky{}
	l.mu.Lock()
	l.out = f
	l.w.Reset(f)
	l.mu.Unlock()

	send := func(path string, n int) {
		for range n {
			r := l.Record()
			if r == nil {
				t.Fatal("no record: the writer is stuck")
			}
			r.Method, r.URI, r.Proto = append(r.Method, "GET"...), append(r.URI, path...), append(r.Proto, "HTTP/1.1"...)
			l.Submit(r)
		}
	}
	settle := func() { // the writer has written (or lost) everything
		time.Sleep(3 * batchDelay)
		for l.queued() > 0 {
			time.Sleep(batchDelay)
		}
		l.flush()
	}
	send("/before", 3)
	settle()
	f.set(true)
	send("/full", 50)
	settle()
	if d := l.Dropped(); d != 50 {
		t.Errorf("%d lines dropped while the disk was full, want 50", d)
	}
	f.set(false)
	send("/after", 4)
	settle()
	var got []string
	for _, line := range f.lines() {
		got = append(got, strings.Fields(line)[6]) // the path of the common format
	}
	if want := "/before /before /before /after /after /after /after"; strings.Join(got, " ") != want {
		t.Errorf("written paths %v, want %s", got, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reports) != 2 || !errors.Is(reports[0].err, syscall.ENOSPC) || reports[1].err != nil ||
		reports[0].lost+reports[1].lost != 50 {
		t.Errorf("reports %+v, want ENOSPC then resumed, 50 lines lost in all", reports)
	}
}
