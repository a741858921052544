package main

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The load is sent at its rate to a demo backend run in the process, and
// the line reports the measured requests apart from the warm-up's.
func TestRunAgainstServedBackend(t *testing.T) {
	addrs, err := serveDemo("127.0.0.1:0, ")
	if err != nil || len(addrs) != 1 {
		t.Fatal(addrs, err)
	}
	r := &run{target: "http://" + addrs[0] + "/", conns: 4, interval: float64(time.Second) / 2000, warm: 200, total: 600}
	t0 := time.Now()
	r.do(addrs[0], 400*time.Millisecond)
	if took := time.Since(t0); took < 350*time.Millisecond {
		t.Errorf("800 requests at 2000/s took %v: not paced", took)
	}
	var out bytes.Buffer
	r.report(&out)
	f := strings.Split(strings.TrimSpace(out.String()), "\t")
	if len(f) != 10 {
		t.Fatalf("%d fields in %q", len(f), out.String())
	}
	n := func(i int) int { v, _ := strconv.Atoi(f[i]); return v }
	if n(0) != 600 || n(1) != 600 || n(2) != 0 || n(9) != 200 {
		t.Errorf("sent, ok, errors, warm-up = %s, %s, %s, %s; want 600, 600, 0, 200", f[0], f[1], f[2], f[9])
	}
	if p50, _ := strconv.ParseFloat(f[4], 64); p50 <= 0 {
		t.Errorf("p50 %s ms", f[4])
	}
}
