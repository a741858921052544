// Command loadgen sends HTTP/1.1 requests on loopback at a fixed rate and
// reports latency percentiles without coordinated omission: request k is
// due at start + k/rate, and its latency is measured from that due time, so
// a stall that delays later requests counts against every one of them (as
// wrk2 does). It stops by itself: requests still unanswered 5 s after -d,
// and those never sent by then, count as errors with their latency so far.
//
//	loadgen -url http://127.0.0.1:8083/ -host bench.local -rate 20000 -c 50 -d 10s
//
// -warmup sends at the same rate for that long first, without recording;
// the measured requests follow on the same schedule. -serve runs the
// benchmark's backends (package bench/demo) in this process on the given
// addresses: with -procs 1 the load and the backends then share one
// scheduler on their core, and take turns at goroutine switches instead
// of the kernel's time slices between three processes (PERF.md: at 25k
// req/s the separate processes kept that core 97% busy and put the
// median latency near 1 ms for every proxy).
//
// Output, one tab-separated line: sent ok errors rate_achieved p50_ms p90_ms
// p99_ms p999_ms max_ms warmup_sent (sent, ok, errors and the percentiles
// are of the measured requests only).
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/url"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluiceproxy/sluice/bench/demo"
	"github.com/valyala/fasthttp"
)

// run is one load: its schedule and what it recorded.
type run struct {
	target, host string
	conns        int
	interval     float64 // ns between due times
	warm, total  int64   // requests in the warm-up, and measured after it
	start, hard  time.Time
	lat          []time.Duration // of measured request k-warm
	next         atomic.Int64
	okN, errN    atomic.Int64
}

func main() {
	target := flag.String("url", "", "URL (loopback only)")
	host := flag.String("host", "", "Host header (default: the URL's)")
	rate := flag.Float64("rate", 1000, "requests per second")
	conns := flag.Int("c", 50, "connections")
	dur := flag.Duration("d", 10*time.Second, "duration")
	warmup := flag.Duration("warmup", 0, "unrecorded load at the same rate before -d")
	serve := flag.String("serve", "", "comma-separated loopback addresses to run the demo backends on, in this process")
	procs := flag.Int("procs", 0, "GOMAXPROCS (0: Go's default)")
	flag.Parse()
	u, err := url.Parse(*target)
	if err != nil || u.Host == "" || *rate <= 0 || *conns < 1 || *dur <= 0 || *dur > 10*time.Minute ||
		*warmup < 0 || *warmup > time.Minute {
		flag.Usage()
		os.Exit(2)
	}
	if *procs > 0 {
		runtime.GOMAXPROCS(*procs)
	}
	if _, err := serveDemo(*serve); err != nil {
		log.Fatal(err)
	}
	r := &run{target: *target, host: *host, conns: *conns, interval: float64(time.Second) / *rate,
		warm: int64(*rate * warmup.Seconds()), total: int64(*rate * dur.Seconds())}
	if r.total < 1 {
		log.Fatal("no requests: rate x duration < 1")
	}
	r.do(u.Host, *warmup+*dur)
	r.report(os.Stdout)
}

// do runs the load against addr; it returns 5 s after length at the latest.
func (r *run) do(addr string, length time.Duration) {
	r.lat = make([]time.Duration, r.total)
	r.start = time.Now().Add(50 * time.Millisecond)
	r.hard = r.start.Add(length + 5*time.Second)
	hc := &fasthttp.HostClient{Addr: addr, MaxConns: r.conns, NoDefaultUserAgentHeader: true,
		ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, MaxIdemponentCallAttempts: 1}
	var wg sync.WaitGroup
	for w := 0; w < r.conns; w++ {
		wg.Add(1)
		go func() { defer wg.Done(); r.worker(hc) }()
	}
	wg.Wait()
}

// serveDemo starts a demo backend on each address of list and returns the
// addresses listened on; each listens before serveDemo returns.
func serveDemo(list string) ([]string, error) {
	var addrs []string
	for _, a := range strings.Split(list, ",") {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		ln, err := net.Listen("tcp", a)
		if err != nil {
			return addrs, err
		}
		go func() { log.Fatal(demo.Server(a).Serve(ln)) }()
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs, nil
}

func (r *run) due(k int64) time.Time {
	return r.start.Add(time.Duration(float64(k) * r.interval))
}

// worker sends the next due request, one at a time on its connection, until
// every request was sent or the hard deadline passed.
func (r *run) worker(hc *fasthttp.HostClient) {
	var req fasthttp.Request
	var resp fasthttp.Response
	req.SetRequestURI(r.target)
	if r.host != "" {
		req.Header.SetHost(r.host)
		req.UseHostHeader = true // else fasthttp sends the URL's host
	}
	for !time.Now().After(r.hard) {
		k := r.next.Add(1) - 1
		if k >= r.warm+r.total {
			return
		}
		due := r.due(k)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		err := hc.DoDeadline(&req, &resp, r.hard)
		if k < r.warm {
			continue
		}
		r.lat[k-r.warm] = time.Since(due)
		if err != nil || resp.StatusCode() != 200 {
			r.errN.Add(1)
		} else {
			r.okN.Add(1)
		}
	}
}

// report prints the output line; requests never sent (the target stalled)
// count as errors with their latency so far.
func (r *run) report(w io.Writer) {
	end := r.warm + r.total
	elapsed := time.Since(r.due(r.warm))
	for k := max(min(r.next.Load(), end), r.warm); k < end; k++ {
		r.lat[k-r.warm] = time.Since(r.due(k))
		r.errN.Add(1)
	}
	lat := r.lat
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		i := int(p * float64(len(lat)-1))
		return float64(lat[i]) / 1e6
	}
	fmt.Fprintf(w, "%d\t%d\t%d\t%.0f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%d\n", r.total, r.okN.Load(), r.errN.Load(),
		float64(r.total)/elapsed.Seconds(), pct(0.5), pct(0.9), pct(0.99), pct(0.999), pct(1), r.warm)
}
