package fastpath

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sluiceproxy/sluice/fastpath/service"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// TestPeerPerConnection: X-Forwarded-For and X-Real-Ip name each
// connection's own client on every request it carries, though the address
// and its text are worked out once per connection: three clients from
// distinct loopback addresses, their connections open at once and their
// requests interleaved, three requests each.
func TestPeerPerConnection(t *testing.T) {
	be := backend(t)
	reg := upstream.NewRegistry(upstream.Options{})
	addr, _ := proxy(t, map[string][]service.Server{"a.example": {{URL: "http://" + be, Endpoint: reg.Get("http", be)}}}, nil)
	type client struct {
		ip string
		c  net.Conn
		r  *bufio.Reader
	}
	var clients []*client
	for _, ip := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"} {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
		c, err := d.Dial("tcp4", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		clients = append(clients, &client{ip, c, bufio.NewReader(c)})
	}
	for round := range 3 {
		for _, cl := range clients {
			io.WriteString(cl.c, "GET /r HTTP/1.1\r\nHost: a.example\r\n\r\n")
			resp, err := http.ReadResponse(cl.r, nil)
			if err != nil {
				t.Fatalf("client %s, request %d: %v", cl.ip, round, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			want := fmt.Sprintf("xff=[%s] xri=%s ", cl.ip, cl.ip)
			if !strings.Contains(string(body), want) {
				t.Fatalf("client %s, request %d: backend saw %q, want %q", cl.ip, round, body, want)
			}
		}
	}
}
