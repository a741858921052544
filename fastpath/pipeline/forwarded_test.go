package pipeline

import (
	"bufio"
	"bytes"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// naiveForwarded is the direct reading of Traefik's forwarded headers and
// Go's reverse proxy: every header looked up and deleted by name. The
// one-pass rewrite of Begin must leave exactly the same header.
func naiveForwarded(ep *EntryPoint, hdr *fasthttp.RequestHeader, ip netip.Addr, host []byte) {
	if !ep.Trusted(ip) {
		var names []string
		for k := range hdr.AllInOrder() {
			if isManaged(k) {
				names = append(names, string(k))
			}
		}
		for _, k := range names {
			hdr.Del(k)
		}
	}
	var upgrade []byte
	teTrailers := bytes.Contains(hdr.Peek("Te"), []byte("trailers"))
	for tok, rest := nextToken([]byte(connectionLines(hdr))); tok != nil; tok, rest = nextToken(rest) {
		if len(upgrade) == 0 && bytes.EqualFold(tok, []byte("upgrade")) {
			upgrade = append(upgrade, hdr.Peek("Upgrade")...)
		}
		if !isManaged(tok) && !ep.keepsConnection(tok) { // Traefik: managed X- headers stay
			hdr.DelBytes(tok)
		}
	}
	for _, k := range hopHeaders {
		hdr.Del(k)
	}
	if teTrailers {
		hdr.Set("Te", "trailers")
	}
	var buf []byte
	lines := hdr.PeekAll("X-Forwarded-For")
	for _, v := range lines {
		buf = append(append(buf, v...), ", "...)
	}
	if len(lines) > 1 { // one line reaches the server (a single one keeps its place)
		hdr.Del("X-Forwarded-For")
	}
	buf = ip.AppendTo(buf)
	hdr.SetBytesV("X-Forwarded-For", buf)
	if len(hdr.Peek("X-Real-Ip")) == 0 {
		hdr.SetBytesV("X-Real-Ip", ip.AppendTo(nil))
	}
	if len(upgrade) > 0 {
		hdr.Set("Connection", "Upgrade")
		hdr.SetBytesV("Upgrade", upgrade)
	}
	if len(hdr.Peek("X-Forwarded-Proto")) == 0 {
		if hasToken(upgrade, "websocket") {
			hdr.Set("X-Forwarded-Proto", "ws")
		} else {
			hdr.Set("X-Forwarded-Proto", "http")
		}
	}
	if len(hdr.Peek("X-Forwarded-Host")) == 0 && len(host) > 0 {
		hdr.SetBytesV("X-Forwarded-Host", host)
	}
	if len(hdr.Peek("X-Forwarded-Port")) == 0 { // Traefik's forwardedPort
		port := hostPort(host)
		if xfp := string(hdr.Peek("X-Forwarded-Proto")); port == nil && (xfp == "https" || xfp == "wss") {
			port = []byte("443")
		} else if port == nil {
			port = []byte("80")
		}
		hdr.SetBytesV("X-Forwarded-Port", port)
	}
	hdr.SetBytesV("X-Forwarded-Server", ep.ServerName)
}

// randomHeaders writes a request whose headers are drawn from the ones
// forwarding touches, in several spellings, some empty, some repeated.
func randomHeaders(rng *rand.Rand) string {
	names := []string{"X-Forwarded-For", "x-forwarded-for", "X_Forwarded_For", "X-Real-Ip", "x-real-ip", "X_Real_IP",
		"X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Port", "X-Forwarded-Server", "X-Forwarded-Uri",
		"X-Forwarded-Prefix", "Te", "Keep-Alive", "Proxy-Connection", "Proxy-Authorization", "Upgrade", "Foo", "Bar",
		"Trailer", "Cookie", "User-Agent", "Content-Type"}
	values := []string{"", "1.2.3.4", "a, b", "trailers", "trailers, deflate", "websocket", "https", "x.example:8443", "v", "X-Foo"}
	conn := []string{"close", "keep-alive", "Upgrade", "Foo", "keep-alive, Foo", "X-Forwarded-For", "upgrade, bar", "x-real-ip",
		"foo, cookie, bar"}
	var b strings.Builder
	b.WriteString("GET / HTTP/1.1\r\nHost: a.example\r\n")
	for range rng.IntN(8) {
		b.WriteString(names[rng.IntN(len(names))] + ": " + values[rng.IntN(len(values))] + "\r\n")
	}
	for range rng.IntN(3) { // none, one or two Connection lines
		b.WriteString("Connection: " + conn[rng.IntN(len(conn))] + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// TestForwardedHeadersEqualsNaive: the one-pass rewrite equals the naive one
// on random header sets, from trusted and untrusted peers.
func TestForwardedHeadersEqualsNaive(t *testing.T) {
	trusted := netip.MustParsePrefix("10.0.0.0/8")
	plain := &EntryPoint{ServerName: []byte("sluice-test"), TrustedIPs: []netip.Prefix{trusted}}
	keeps := &EntryPoint{ServerName: []byte("sluice-test"), TrustedIPs: []netip.Prefix{trusted}, KeepConnection: []string{"Foo", "Cookie"}}
	rng := rand.New(rand.NewPCG(3, 4))
	compared := 0
	for i := range 3000 {
		raw := randomHeaders(rng)
		ip := netip.MustParseAddr([]string{"10.1.2.3", "192.0.2.7"}[i%2])
		ep := []*EntryPoint{plain, keeps}[i/2%2]
		var ctx fasthttp.RequestCtx
		var want fasthttp.RequestHeader
		errGot := ctx.Request.Header.Read(bufio.NewReader(strings.NewReader(raw)))
		errWant := want.Read(bufio.NewReader(strings.NewReader(raw)))
		if errGot != nil || errWant != nil {
			continue // e.g. a Trailer naming a forbidden field: fasthttp answers 400
		}
		compared++
		x := Acquire()
		if !x.BeginHTTP1(&ctx, ep, ip, nil) {
			t.Fatalf("request refused:\n%s", raw)
		}
		goRepeated(&want, raw) // repeated.go
		naiveForwarded(ep, &want, ip, []byte("a.example"))
		want.ResetConnectionClose()
		if g, w := x.Out.Header.String(), want.String(); g != w {
			t.Fatalf("peer %s, request:\n%s\ngot:\n%s\nwant:\n%s", ip, raw, g, w)
		}
		Release(x)
	}
	if compared < 2000 {
		t.Fatalf("only %d of 3000 random requests parsed", compared)
	}
}

// TestKeptConnectionHeaders: a header Connection names goes before the
// rule and the middlewares unless the entry point keeps it
// (forwardedHeaders.connection, any case); a kept one is still there for
// them and goes when the request is sent; a managed X- header stays
// whatever Connection says, as in Traefik.
func TestKeptConnectionHeaders(t *testing.T) {
	ep := &EntryPoint{KeepConnection: []string{"Foobar"}, Insecure: true}
	raw := "GET / HTTP/1.1\r\nHost: a.example\r\nConnection: keep-alive, foobar, Other, X-Forwarded-Host\r\n" +
		"Foobar: kept\r\nOther: gone\r\nX-Forwarded-Host: front.example\r\n\r\n"
	var ctx fasthttp.RequestCtx
	if err := ctx.Request.Header.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
		t.Fatal(err)
	}
	x := Acquire()
	defer Release(x)
	if !x.BeginHTTP1(&ctx, ep, netip.MustParseAddr("192.0.2.1"), nil) {
		t.Fatal("refused")
	}
	for _, c := range []struct{ name, want string }{{"Foobar", "kept"}, {"Other", ""}, {"X-Forwarded-Host", "front.example"}, {"Connection", ""}} {
		if got := string(x.Out.Header.Peek(c.name)); got != c.want {
			t.Errorf("before the send, %s = %q, want %q", c.name, got, c.want)
		}
	}
	c := x.Clone()
	defer Release(c)
	x.DropKeptConnection()
	c.DropKeptConnection()
	for _, h := range []*fasthttp.RequestHeader{&x.Out.Header, &c.Out.Header} {
		if got := h.Peek("Foobar"); got != nil {
			t.Errorf("the server would get Foobar: %q", got)
		}
		if got := string(h.Peek("X-Forwarded-Host")); got != "front.example" {
			t.Errorf("X-Forwarded-Host = %q after the send's drop", got)
		}
	}
}

// TestPresentBitsFollowHopHeaders: the loops over hopHeaders test bit i for
// hopHeaders[i]; the constants must stay in that order.
func TestPresentBitsFollowHopHeaders(t *testing.T) {
	for i, k := range hopHeaders {
		if got := presentIn([]byte(k)); got != 1<<i {
			t.Errorf("presentIn(%q) = %b, want bit %d", k, got, i)
		}
	}
	for _, k := range []string{"X-Forwarded-For", "X-Real-Ip", "X_Forwarded_Uri", "x-forwarded-tls-client-cert"} {
		if presentIn([]byte(k))&anyManaged == 0 {
			t.Errorf("%s is a managed header", k)
		}
	}
}

// goRepeated gives h, read from raw, what Go's transport sends of raw's
// repeated single fields, read line by line: the first User-Agent, every
// Content-Type in order (the first as fasthttp's own, the others as
// lines after the rest).
func goRepeated(h *fasthttp.RequestHeader, raw string) {
	var ua, ct []string
	for _, line := range strings.Split(raw, "\r\n") {
		k, v, ok := strings.Cut(line, ":")
		switch {
		case !ok:
		case strings.EqualFold(k, "User-Agent"):
			ua = append(ua, strings.TrimSpace(v))
		case strings.EqualFold(k, "Content-Type"):
			ct = append(ct, strings.TrimSpace(v))
		}
	}
	if len(ua) > 1 {
		h.SetUserAgent(ua[0])
	}
	if len(ct) > 1 {
		h.SetContentType(ct[0])
		h.DisableSpecialHeader()
		for _, v := range ct[1:] {
			h.Add("Content-Type", v)
		}
		h.EnableSpecialHeader()
	}
}

// connectionLines is every Connection line of hdr as received, read from
// its raw header line by line, comma-joined (Go's proxy honours them all).
func connectionLines(hdr *fasthttp.RequestHeader) string {
	var vals []string
	for _, line := range strings.Split(string(hdr.RawHeaders()), "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "Connection") {
			vals = append(vals, strings.TrimSpace(v))
		}
	}
	return strings.Join(vals, ",")
}
