package fastpath

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluiceproxy/sluice/fastpath/match"
	"github.com/sluiceproxy/sluice/fastpath/route"
	"github.com/sluiceproxy/sluice/fastpath/service"
	"github.com/sluiceproxy/sluice/fastpath/tlsconf"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

func selfSigned(t testing.TB, cn string) *tls.Certificate {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, DNSNames: []string{cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}
}

// tlsProxy serves a TLS router for host, to a backend, and a plain one
// for the same host answered by another backend.
func tlsProxy(t testing.TB, host string, cfg Config) (*Server, string) {
	t.Helper()
	reg := upstream.NewRegistry(upstream.Options{})
	b := route.NewBuilder([]string{"web"})
	for _, name := range []string{"secure", "plain"} {
		port := namedServer(t, name)
		lb := service.NewLoadBalancer(name, true, []service.Server{{URL: "http://" + port, Endpoint: reg.Get("http", port)}})
		r := &route.Route{Name: name, Priority: 1, EntryPoints: []string{"web"}, Target: lb, Handler: lb}
		if name == "secure" {
			r.TLS = &route.TLS{Option: tlsconf.DefaultOption, Domains: []string{host}}
		}
		b.Add(r, []route.Entry{{HostKind: route.HostExact, HostKey: host, Cand: route.Cand{Lits: []route.Lit{lit(match.Host, host)}}}})
	}
	tbl := b.Build()
	opts := map[string]*tlsconf.Option{tlsconf.DefaultOption: tlsconf.BuildOption(tlsconf.DefaultOption, tlsconf.DefaultSpec())}
	store, _ := tlsconf.NewStore([]*tlsconf.Cert{tlsconf.NewCert(selfSigned(t, host), "test")}, nil)
	ep := tlsconf.NewEntryPoint(opts[tlsconf.DefaultOption])
	ep.Map(host, opts[tlsconf.DefaultOption])
	tbl.TLS = tlsconf.NewSet(store, opts, []*tlsconf.EntryPoint{ep}, nil)
	var tp atomic.Pointer[route.Table]
	tp.Store(tbl)
	s := NewServer(NewHandler(&tp, cfg))
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.Shutdown() })
	return s, ln.Addr().String()
}

// TestTLSSniffing: on one port, a TLS client reaches the TLS router and a
// plain client the plain one.
func TestTLSSniffing(t *testing.T) {
	_, addr := tlsProxy(t, "a.example", Config{EntryPoint: "web"})
	if st, body, _ := raw(t, addr, "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n"); st != 200 || body != "plain" {
		t.Fatalf("plain: %d %q", st, body)
	}
	c, err := tls.Dial("tcp4", addr, &tls.Config{ServerName: "a.example", InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n")
	b, _ := io.ReadAll(c)
	if got := string(b); len(got) < 12 || got[:12] != "HTTP/1.1 200" || got[len(got)-6:] != "secure" {
		t.Fatalf("TLS: %q", got)
	}
}

// TestTLSHandshakeTimeout: a client that starts a handshake and stalls is
// closed after the handshake timeout; the entry point serves on.
func TestTLSHandshakeTimeout(t *testing.T) {
	_, addr := tlsProxy(t, "a.example", Config{EntryPoint: "web", HandshakeTimeout: 200 * time.Millisecond})
	c, err := net.Dial("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte{0x16, 0x03, 0x01, 0x00, 0x50}) // a record header, then nothing
	c.SetDeadline(time.Now().Add(3 * time.Second))
	start := time.Now()
	if _, err := io.ReadAll(c); err != nil {
		t.Fatalf("not closed: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("closed after %v", d)
	}
	if st, _, _ := raw(t, addr, "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n"); st != 200 {
		t.Fatalf("the entry point after: %d", st)
	}
}

// FuzzSniff: whatever a client sends first, TLS-looking or not, the
// connection ends without a panic and the entry point serves on.
func FuzzSniff(f *testing.F) {
	f.Add([]byte{0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00})
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a.example\r\n\r\n"))
	f.Add([]byte{0x16})
	f.Add([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"))
	_, addr := tlsProxy(f, "a.example", Config{EntryPoint: "web", HandshakeTimeout: 300 * time.Millisecond})
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := net.Dial("tcp4", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(2 * time.Second))
		c.Write(in)
		c.(*net.TCPConn).CloseWrite()
		io.Copy(io.Discard, c)
	})
}
