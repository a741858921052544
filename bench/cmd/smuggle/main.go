// Command smuggle sends bench/smuggle's corpus to proxies in front of
// recording servers it runs itself (smuggle.Server), and prints, per case and proxy, the
// first answer, whether the connection then closed, and what the servers
// saw (bench/smuggle.sh runs it against Sluice, HAProxy and nginx).
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"strings"
	"time"

	"github.com/sluiceproxy/sluice/bench/smuggle"
)

func main() {
	proxies := flag.String("proxies", "sluice=127.0.0.1:8083,haproxy=127.0.0.1:8081,nginx=127.0.0.1:8082", "name=address,...")
	host := flag.String("host", "r000000.bench.local", "the Host the proxies route to the servers")
	servers := flag.String("servers", "127.0.0.1:9001,127.0.0.2:9002", "addresses to run the recording servers on")
	flag.Parse()
	rec := &smuggle.Server{Answer: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}
	for _, a := range strings.Split(*servers, ",") {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			log.Fatal(err)
		}
		go rec.Serve(ln)
	}
	type proxy struct{ name, addr string }
	var ps []proxy
	for _, kv := range strings.Split(*proxies, ",") {
		n, a, _ := strings.Cut(kv, "=")
		ps = append(ps, proxy{n, a})
	}
	fmt.Print("| case |")
	for _, p := range ps {
		fmt.Printf(" %s |", p.name)
	}
	fmt.Print("\n|---|")
	for range ps {
		fmt.Print("---|")
	}
	fmt.Println()
	for _, c := range smuggle.Corpus {
		fmt.Printf("| %s |", c.Name)
		for _, p := range ps {
			fmt.Printf(" %s |", outcome(rec, p.addr, smuggle.Requests(c, *host)))
		}
		fmt.Println()
	}
	os.Exit(0)
}

// outcome: the statuses the client read ("closed" after the last when the
// connection closed), and what the servers saw; "TWO VIEWS" when a server
// got the pipelined request although the client's connection closed after
// one answer (the proxy and the server framed the bytes differently).
func outcome(rec *smuggle.Server, addr, raw string) string {
	rec.Take()
	statuses, err := smuggle.Exchange(addr, raw)
	if err != nil {
		return "error: " + err.Error()
	}
	time.Sleep(100 * time.Millisecond)
	seen := rec.Take()
	var b strings.Builder
	for i, s := range statuses {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprint(&b, s)
	}
	if len(statuses) == 0 {
		b.WriteString("no answer")
	}
	if len(statuses) < 2 {
		b.WriteString(" then close")
	}
	smuggledSeen := false
	for _, s := range seen {
		smuggledSeen = smuggledSeen || strings.Contains(s, "/smuggled")
	}
	fmt.Fprintf(&b, "; server saw %d", len(seen))
	if smuggledSeen && len(statuses) < 2 {
		b.WriteString(" **TWO VIEWS**")
	}
	return b.String()
}
