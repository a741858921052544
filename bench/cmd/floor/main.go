// Command floor is the thinnest proxy the benchmark can measure: it parses
// nothing, pairs each client connection with one upstream connection of its
// own, and copies bytes both ways. It answers one question for PERF.md: what
// do the four TCP segments of a proxied request cost on this machine when
// nothing else is done, and what does Go's netpoller add to that?
//
//	-mode epoll  one locked thread, level-triggered epoll, non-blocking read
//	             and write: per request one read and one write each way and
//	             a share of one epoll_wait: the calls of an event-loop proxy
//	-mode go     a goroutine per direction on Go's net package: each Read
//	             that finds nothing parks the goroutine in the netpoller
//
// It is a measuring instrument, not a proxy: HTTP keep-alive works only
// because the byte stream is relayed unchanged to a dedicated upstream; a
// write that would block blocks the whole epoll loop (the bench's bodies
// are 100 bytes). Upstreams are taken round robin per client connection.
package main

import (
	"flag"
	"log"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8084", "listen address (loopback only)")
	up := flag.String("upstreams", "127.0.0.1:9001,127.0.0.2:9002", "comma-separated upstream addresses")
	mode := flag.String("mode", "epoll", "epoll | go")
	flag.Parse()
	ups := strings.Split(*up, ",")
	var err error
	switch *mode {
	case "epoll":
		err = serveEpoll(*addr, ups)
	case "go":
		err = serveGo(*addr, ups)
	default:
		log.Fatalf("unknown -mode %q (epoll | go)", *mode)
	}
	log.Fatal(err)
}

// serveGo relays with two goroutines per connection pair over Go's net
// package, each a plain Read-then-Write loop (no splice: io.Copy between
// two TCP connections would use it, and no proxy here does).
func serveGo(addr string, ups []string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	log.Printf("floor -mode go listening on %s (GOMAXPROCS=%d)", ln.Addr(), runtime.GOMAXPROCS(0))
	return relayGo(ln, ups)
}

// relayGo accepts on ln until it fails, pairing each connection with the
// next upstream.
func relayGo(ln net.Listener, ups []string) error {
	var next atomic.Uint64
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		u, err := net.Dial("tcp", ups[(next.Add(1)-1)%uint64(len(ups))])
		if err != nil {
			log.Printf("dial upstream: %v", err)
			c.Close()
			continue
		}
		go pipe(u, c)
		go pipe(c, u)
	}
}

// pipe copies src to dst until either fails, then closes both.
func pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 16<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
