package main

import (
	"bufio"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TestBurstTrimWhen: the trim runs once the open connections have stayed at
// or below half of a peak of at least minPeak for the settle time, and
// then not again within every; a small or ongoing burst never trims.
func TestBurstTrimWhen(t *testing.T) {
	type obs struct {
		open int
		at   time.Duration
		trim bool
		peak int // most open since the last observation; 0: open
	}
	for _, tc := range []struct {
		name string
		seq  []obs
	}{
		{"burst ends, settles, trims once", []obs{{1000, 0, false, 0}, {0, 1 * time.Second, false, 0}, {0, 3 * time.Second, false, 0}, {0, 3500 * time.Millisecond, true, 0}, {0, 20 * time.Second, false, 0}}},
		{"a burst between two polls counts by its peak", []obs{{0, 0, false, 1000}, {0, time.Second, false, 0}, {0, 3600 * time.Millisecond, true, 0}}},
		{"a peak under minPeak never trims", []obs{{255, 0, false, 0}, {0, time.Second, false, 0}, {0, 10 * time.Second, false, 0}}},
		{"still above half the peak", []obs{{1000, 0, false, 0}, {501, time.Second, false, 0}, {501, 10 * time.Second, false, 0}}},
		{"back up before settling restarts the wait", []obs{{1000, 0, false, 0}, {100, time.Second, false, 0}, {900, 3 * time.Second, false, 0}, {100, 3100 * time.Millisecond, false, 0}, {100, 5 * time.Second, false, 0}, {100, 5700 * time.Millisecond, true, 0}}},
		{"a second burst within every waits for every", []obs{{1000, 0, false, 0}, {0, time.Second, false, 0}, {0, 4 * time.Second, true, 0}, {800, 5 * time.Second, false, 0}, {0, 6 * time.Second, false, 0}, {0, 9 * time.Second, false, 0}, {0, 14 * time.Second, true, 0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			trims := 0
			b := &burstTrim{minPeak: 256, settle: 2500 * time.Millisecond, every: 10 * time.Second, trim: func(int, int) { trims++ }}
			t0 := time.Unix(1e9, 0)
			for i, o := range tc.seq {
				if got := b.observe(o.open, max(o.peak, o.open), t0.Add(o.at)); got != o.trim {
					t.Fatalf("step %d (open %d at %v): trimmed %v, want %v", i, o.open, o.at, got, o.trim)
				}
			}
		})
	}
}

// TestBinaryReturnsMemoryAfterABurst: through the real binary, 300
// keep-alive connections each make a request and close; the process then
// collects and returns memory to the system, and says so.
func TestBinaryReturnsMemoryAfterABurst(t *testing.T) {
	p := startOneRoute(t)
	conns := make([]net.Conn, 0, 300)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 300 {
		c, err := net.Dial("tcp4", p.addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		fmt.Fprintf(c, "GET /burst HTTP/1.1\r\nHost: a.example\r\n\r\n")
	}
	for i, c := range conns {
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil || line != "HTTP/1.1 200 OK\r\n" {
			t.Fatalf("connection %d: %q, %v", i, line, err)
		}
	}
	for _, c := range conns {
		c.Close()
	}
	conns = conns[:0]
	waitLog(t, p, 8*time.Second, "connection burst over: memory returned to the system")
	m := regexp.MustCompile(`peakConnections=(\d+) .*heldBefore=(\d+) heldAfter=(\d+)`).FindStringSubmatch(p.log())
	if m == nil {
		t.Fatalf("no peakConnections, heldBefore, heldAfter in the log:\n%s", p.log())
	}
	// The burst lasted less than a poll: the peak comes from the accepts.
	if peak, _ := strconv.Atoi(m[1]); peak < 300 {
		t.Errorf("peakConnections=%d, want at least 300", peak)
	}
	before, _ := strconv.Atoi(m[2])
	after, _ := strconv.Atoi(m[3])
	if after >= before {
		t.Errorf("memory held by the heap and stacks went %d -> %d bytes; want it lower after the trim", before, after)
	}
}

// startOneRoute runs the binary with one route, a.example to a backend
// answering "alpha <path>", and waits until it serves it.
func startOneRoute(t *testing.T) *sluiceProc {
	t.Helper()
	dir := t.TempDir()
	pa := namedBackend(t, "127.0.0.2", "alpha")
	write(t, filepath.Join(dir, "all.yaml"), manifests("alpha", pa, "127.0.0.2")+"---\n"+routeYAML("web", "a.example", `{name: alpha, port: 80}`))
	p := startSluice(t, dir)
	eventually(t, p.addr, "a.example", "/", 200, "alpha /")
	return p
}
