package main

import (
	"runtime/debug"
	"testing"
)

// TestStartupGC: the first load runs at startupGCPercent and then goes back
// to the GC target it found; a GOGC set by the user is never overridden.
func TestStartupGC(t *testing.T) {
	t.Setenv("GOGC", "")
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	done := startupGC()
	if got := debug.SetGCPercent(startupGCPercent); got != startupGCPercent {
		t.Errorf("during the first load GC percent is %d; want %d", got, startupGCPercent)
	}
	done()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("after the first load GC percent is %d; want 100 again", got)
	}
	t.Setenv("GOGC", "200")
	debug.SetGCPercent(200)
	startupGC()()
	if got := debug.SetGCPercent(100); got != 200 {
		t.Errorf("with GOGC=200 set, GC percent is %d; want 200", got)
	}
}
