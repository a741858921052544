// Command tlsload drives a TLS proxy on loopback in the two ways wrk and
// h2load do not: new connections, each with its handshake and one
// request, and connections held open and idle.
//
//	tlsload -mode handshake -addr 127.0.0.1:8443 -host r.bench.local -c 50 -d 5s [-resume]
//	tlsload -mode idle -addr 127.0.0.1:8443 -host r.bench.local -n 10000 -hold 10s [-plain]
//
// handshake: c workers, each connecting, handshaking (a full handshake,
// or with -resume a resumed one from a session cache the workers share),
// sending GET / with Connection: close and reading the answer, for d.
// Output, one tab-separated line: handshakes resumed errors per_second.
//
// idle: n connections, each handshaken (unless -plain) and with one
// request answered, kept open and idle; "ready N" is printed once all are
// open, then they are held for -hold and closed. The harness reads the
// proxy's memory while they are held.
package main

import (
	"bufio"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	mode := flag.String("mode", "handshake", "handshake or idle")
	addr := flag.String("addr", "", "host:port (loopback)")
	host := flag.String("host", "bench.local", "Host header and server name")
	conns := flag.Int("c", 50, "workers (handshake)")
	dur := flag.Duration("d", 5*time.Second, "duration (handshake)")
	resume := flag.Bool("resume", false, "resume sessions (handshake)")
	n := flag.Int("n", 10000, "connections (idle)")
	hold := flag.Duration("hold", 10*time.Second, "how long the idle connections stay open")
	plain := flag.Bool("plain", false, "plain HTTP (idle)")
	flag.Parse()
	if *addr == "" {
		flag.Usage()
		os.Exit(2)
	}
	// The groups OpenSSL 3.0 clients (curl, wrk, h2load here) offer: with
	// Go's default, X25519MLKEM768 first, a Go server would do the
	// post-quantum hybrid that OpenSSL 3.0 servers cannot, and the
	// proxies would not do the same work.
	cfg := &tls.Config{ServerName: *host, InsecureSkipVerify: true, NextProtos: []string{"http/1.1"},
		CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256}}
	switch *mode {
	case "handshake":
		if *resume {
			cfg.ClientSessionCache = tls.NewLRUClientSessionCache(*conns * 4)
		}
		handshakes(*addr, *host, cfg, *conns, *dur)
	case "idle":
		if *plain {
			cfg = nil
		}
		idle(*addr, *host, cfg, *n, *hold)
	default:
		log.Fatalf("unknown mode %q", *mode)
	}
}

// request sends GET / on c and reads the answer.
func request(c net.Conn, host string, keep bool) error {
	conn := "keep-alive"
	if !keep {
		conn = "close"
	}
	if _, err := fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: %s\r\n\r\n", host, conn); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode != 200 {
		err = fmt.Errorf("status %d", resp.StatusCode)
	}
	return err
}

func handshakes(addr, host string, cfg *tls.Config, conns int, dur time.Duration) {
	var done, resumed, errs atomic.Int64
	stop := time.Now().Add(dur)
	var wg sync.WaitGroup
	start := time.Now()
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				c, err := net.DialTimeout("tcp", addr, 5*time.Second)
				if err != nil {
					errs.Add(1)
					continue
				}
				tc := tls.Client(c, cfg)
				_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
				if err := tc.Handshake(); err != nil {
					errs.Add(1)
					c.Close()
					continue
				}
				if tc.ConnectionState().DidResume {
					resumed.Add(1)
				}
				if err := request(tc, host, false); err != nil {
					errs.Add(1)
				} else {
					done.Add(1)
				}
				tc.Close()
			}
		}()
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	fmt.Printf("%d\t%d\t%d\t%.0f\n", done.Load(), resumed.Load(), errs.Load(), float64(done.Load())/el)
}

func idle(addr, host string, cfg *tls.Config, n int, hold time.Duration) {
	conns := make([]net.Conn, 0, n)
	errs := 0
	for len(conns)+errs < n {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			errs++
			continue
		}
		if cfg != nil {
			tc := tls.Client(c, cfg)
			if err := tc.Handshake(); err != nil {
				errs++
				c.Close()
				continue
			}
			c = tc
		}
		if err := request(c, host, true); err != nil {
			errs++
			c.Close()
			continue
		}
		conns = append(conns, c)
	}
	fmt.Printf("ready %d errors %d\n", len(conns), errs)
	time.Sleep(hold)
	for _, c := range conns {
		c.Close()
	}
}
