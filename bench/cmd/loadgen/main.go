// Command loadgen sends HTTP/1.1 requests on loopback at a fixed rate and
// reports latency percentiles without coordinated omission: request k is
// due at start + k/rate, and its latency is measured from that due time, so
// a stall that delays later requests counts against every one of them (as
// wrk2 does). It stops by itself: requests still unanswered 5 s after -d,
// and those never sent by then, count as errors with their latency so far.
//
//	loadgen -url http://127.0.0.1:8083/ -host bench.local -rate 20000 -c 50 -d 10s
//
// Output, one tab-separated line: sent ok errors rate_achieved p50_ms p90_ms
// p99_ms p999_ms max_ms.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

func main() {
	target := flag.String("url", "", "URL (loopback only)")
	host := flag.String("host", "", "Host header (default: the URL's)")
	rate := flag.Float64("rate", 1000, "requests per second")
	conns := flag.Int("c", 50, "connections")
	dur := flag.Duration("d", 10*time.Second, "duration")
	flag.Parse()
	u, err := url.Parse(*target)
	if err != nil || u.Host == "" || *rate <= 0 || *conns < 1 || *dur <= 0 || *dur > 10*time.Minute {
		flag.Usage()
		os.Exit(2)
	}
	hc := &fasthttp.HostClient{Addr: u.Host, MaxConns: *conns, NoDefaultUserAgentHeader: true,
		ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, MaxIdemponentCallAttempts: 1}
	total := int64(*rate * dur.Seconds())
	if total < 1 {
		log.Fatal("no requests: rate x duration < 1")
	}
	lat := make([]time.Duration, total)
	interval := float64(time.Second) / *rate
	var next, okN, errN atomic.Int64
	start := time.Now().Add(50 * time.Millisecond)
	hard := start.Add(*dur + 5*time.Second)
	var wg sync.WaitGroup
	for w := 0; w < *conns; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var req fasthttp.Request
			var resp fasthttp.Response
			req.SetRequestURI(*target)
			if *host != "" {
				req.Header.SetHost(*host)
				req.UseHostHeader = true // else fasthttp sends the URL's host
			}
			for {
				if time.Now().After(hard) {
					return
				}
				k := next.Add(1) - 1
				if k >= total {
					return
				}
				due := start.Add(time.Duration(float64(k) * interval))
				if d := time.Until(due); d > 0 {
					time.Sleep(d)
				}
				err := hc.DoDeadline(&req, &resp, hard)
				lat[k] = time.Since(due)
				if err != nil || resp.StatusCode() != 200 {
					errN.Add(1)
				} else {
					okN.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	for k := min(next.Load(), total); k < total; k++ { // never sent: the target stalled
		lat[k] = time.Since(start.Add(time.Duration(float64(k) * interval)))
		errN.Add(1)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		i := int(p * float64(len(lat)-1))
		return float64(lat[i]) / 1e6
	}
	fmt.Printf("%d\t%d\t%d\t%.0f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\n", total, okN.Load(), errN.Load(),
		float64(total)/elapsed.Seconds(), pct(0.5), pct(0.9), pct(0.99), pct(0.999), pct(1))
}
