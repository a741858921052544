package upstream

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/proxy"
)

// Servers reached through a proxy, as Traefik's transports reach them
// (Go's http.ProxyFromEnvironment: HTTP_PROXY, HTTPS_PROXY, NO_PROXY, read
// by cmd and handed over as Options.Proxy):
//
//   - an http:// (or https://) proxy carries plain-HTTP requests in
//     absolute form ("GET http://server/path"), upgrades included, with
//     Proxy-Authorization from the proxy URL's user; for https and h2c
//     servers it opens a CONNECT tunnel, inside which TLS or HTTP/2 run as
//     they would directly;
//   - a socks5:// (socks5h://) proxy carries the connection itself, for
//     every scheme.
//
// The choice is made once per endpoint, when the registry makes it; an
// endpoint with no proxy pays nothing per request.

// proxyRoute is how an endpoint reaches its server through a proxy.
type proxyRoute struct {
	url      *url.URL
	absolute bool   // plain HTTP through an HTTP proxy: absolute-form requests on connections to the proxy
	auth     string // Proxy-Authorization value, or ""
}

// proxyFor asks opts.Proxy which proxy, if any, serves scheme://addr
// (h2c is asked as http, as Go's transport would ask).
func proxyFor(opts Options, scheme, addr string) (*proxyRoute, error) {
	if opts.Proxy == nil {
		return nil, nil
	}
	asked := scheme
	if asked == "h2c" {
		asked = "http"
	}
	u, err := opts.Proxy(&url.URL{Scheme: asked, Host: addr})
	if err != nil || u == nil {
		return nil, err
	}
	switch u.Scheme {
	case "http", "https", "socks5", "socks5h":
	default:
		return nil, fmt.Errorf("proxy %s: scheme %q is not http, https, socks5 or socks5h", u.Redacted(), u.Scheme)
	}
	r := &proxyRoute{url: u, absolute: scheme == "http" && (u.Scheme == "http" || u.Scheme == "https")}
	if u.User != nil && (u.Scheme == "http" || u.Scheme == "https") {
		pass, _ := u.User.Password()
		r.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+pass))
	}
	return r, nil
}

// proxyAddr is the proxy's host:port, with the scheme's default port.
func (p *proxyRoute) proxyAddr() string {
	if p.url.Port() != "" {
		return p.url.Host
	}
	port := map[string]string{"http": "80", "https": "443", "socks5": "1080", "socks5h": "1080"}[p.url.Scheme]
	return net.JoinHostPort(p.url.Hostname(), port)
}

// dial returns the endpoint's dial function through the proxy: to the
// proxy itself for absolute-form requests, else a connection (a CONNECT
// tunnel or a SOCKS5 one) to addr.
func (p *proxyRoute) dial(raw func(string) (net.Conn, error), timeout time.Duration) func(string) (net.Conn, error) {
	toProxy := func() (net.Conn, error) {
		c, err := raw(p.proxyAddr())
		if err != nil || p.url.Scheme != "https" {
			return c, err
		}
		tc := tls.Client(c, &tls.Config{ServerName: p.url.Hostname(), MinVersion: tls.VersionTLS12})
		if err := tc.Handshake(); err != nil {
			c.Close()
			return nil, err
		}
		return tc, nil
	}
	switch {
	case p.absolute:
		return func(string) (net.Conn, error) { return toProxy() }
	case p.url.Scheme == "socks5" || p.url.Scheme == "socks5h":
		var auth *proxy.Auth
		if p.url.User != nil {
			pass, _ := p.url.User.Password()
			auth = &proxy.Auth{User: p.url.User.Username(), Password: pass}
		}
		d, _ := proxy.SOCKS5("tcp", p.proxyAddr(), auth, forward(raw)) // only fails for a bad network name
		return func(addr string) (net.Conn, error) { return d.Dial("tcp", addr) }
	}
	return func(addr string) (net.Conn, error) {
		c, err := toProxy()
		if err != nil {
			return nil, err
		}
		if err := connect(c, addr, p.auth, time.Now().Add(timeout)); err != nil {
			c.Close()
			return nil, fmt.Errorf("proxy %s: CONNECT %s: %w", p.url.Redacted(), addr, err)
		}
		return c, nil
	}
}

// forward is raw as the Dialer golang.org/x/net/proxy takes.
type forward func(string) (net.Conn, error)

func (f forward) Dial(_, addr string) (net.Conn, error) { return f(addr) }

// connect asks an HTTP proxy on c for a tunnel to addr.
func connect(c net.Conn, addr, auth string, deadline time.Time) error {
	_ = c.SetDeadline(deadline)
	defer c.SetDeadline(time.Time{})
	req := "CONNECT " + addr + " HTTP/1.1\r\nHost: " + addr + "\r\n"
	if auth != "" {
		req += "Proxy-Authorization: " + auth + "\r\n"
	}
	if _, err := c.Write([]byte(req + "\r\n")); err != nil {
		return err
	}
	// One byte at a time: nothing of the tunnel's own bytes may be read
	// into a buffer that is then dropped.
	tp := textproto.NewReader(bufio.NewReaderSize(byteReader{c}, 16))
	status, err := tp.ReadLine()
	if err != nil {
		return err
	}
	if _, err := tp.ReadMIMEHeader(); err != nil {
		return err
	}
	if _, code, _ := strings.Cut(status, " "); !strings.HasPrefix(code, "200") {
		return fmt.Errorf("%s", status)
	}
	return nil
}

// byteReader reads one byte per Read, so that a bufio.Reader over it never
// reads past what it is asked for.
type byteReader struct{ c net.Conn }

func (r byteReader) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return r.c.Read(p)
}

// proxyFunc is the proxy as net/http's Transport.Proxy, or nil.
func (p *proxyRoute) proxyFunc() func(*http.Request) (*url.URL, error) {
	if p == nil {
		return nil
	}
	return http.ProxyURL(p.url)
}

// dialContext adapts a dial function to net/http's DialContext.
func dialContext(dial func(string) (net.Conn, error)) func(context.Context, string, string) (net.Conn, error) {
	return func(_ context.Context, _, addr string) (net.Conn, error) { return dial(addr) }
}
