package main

import (
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
)

// decode undoes a Content-Encoding.
func decode(enc string, b []byte) (string, error) {
	var r io.Reader
	switch enc {
	case "":
		return string(b), nil
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return "", err
		}
		r = zr
	case "br":
		r = brotli.NewReader(bytes.NewReader(b))
	case "zstd":
		zr, err := zstd.NewReader(bytes.NewReader(b))
		if err != nil {
			return "", err
		}
		defer zr.Close()
		r = zr
	default:
		return "", fmt.Errorf("unknown encoding %q", enc)
	}
	out, err := io.ReadAll(r)
	return string(out), err
}

// TestBinaryCompressMiddleware: compress picks the encoding by the
// client's Accept-Encoding and the configured order, leaves alone small,
// already encoded, excluded and ranged answers and HEAD requests,
// compresses bodies of unknown length as they stream, sets Vary, and
// sniffs a missing Content-Type for gzip, as Traefik's gzhttp does. The
// decoded body is the server's.
func TestBinaryCompressMiddleware(t *testing.T) {
	f := newMWFixture(t, mwObject("comp", "{compress: {}}")+
		mwObject("brfirst", "{compress: {encodings: [br, gzip], minResponseBodyBytes: 100}}")+
		mwObject("def", "{compress: {defaultEncoding: zstd, excludedContentTypes: [text/css]}}")+
		mwObject("incl", "{compress: {includedContentTypes: [application/json]}}")+mwObject("ct", "{contentType: {}}")+
		mwRoute("ctcomp", "ctcomp.example", "[{name: ct}, {name: comp}]")+
		mwRoute("comp", "comp.example", "[{name: comp}]")+mwRoute("brfirst", "br.example", "[{name: brfirst}]")+
		mwRoute("def", "def.example", "[{name: def}]")+mwRoute("incl", "incl.example", "[{name: incl}]"))
	body := func(n int) string { return strings.Repeat("<p>hello, compressible world</p>\n", n/32+1)[:n] }
	for _, c := range []struct {
		name, host, path, ae, method string
		enc, ct, vary                string // Content-Encoding, Content-Type and Vary expected
		n                            int    // the body's length (0: not checked)
	}{
		{"gzip", "comp.example", "/body?n=5000&ct=text/html", "gzip", "", "gzip", "text/html", "Accept-Encoding", 5000},
		{"br preferred by q", "comp.example", "/body?n=5000&ct=text/html", "gzip;q=0.5, br", "", "br", "text/html", "Accept-Encoding", 5000},
		{"zstd", "comp.example", "/body?n=5000&ct=text/html", "zstd", "", "zstd", "text/html", "Accept-Encoding", 5000},
		{"the order breaks a tie", "comp.example", "/body?n=5000&ct=text/html", "zstd, br, gzip", "", "gzip", "text/html", "Accept-Encoding", 5000},
		// "*" picks gzip, which gzhttp then refuses: the client did not name gzip
		{"*", "comp.example", "/body?n=5000&ct=text/html", "*", "", "", "text/html", "Accept-Encoding", 5000},
		{"too small", "comp.example", "/body?n=500&ct=text/html", "gzip", "", "", "text/html", "Accept-Encoding", 500},
		{"unknown length: compressed however small", "comp.example", "/body?n=500&ct=text/html&chunked=1", "gzip", "", "gzip", "text/html", "Accept-Encoding", 500},
		{"streamed, large", "comp.example", "/body?n=200000&ct=text/html&chunked=1", "br", "", "br", "text/html", "Accept-Encoding", 200000},
		{"large, known length", "comp.example", "/body?n=300000&ct=text/plain", "zstd", "", "zstd", "text/plain", "Accept-Encoding", 300000},
		{"no Content-Type: gzip sniffs it to decide, sets none", "comp.example", "/body?n=5000&ct=none", "gzip", "", "gzip", "", "Accept-Encoding", 5000},
		{"no Content-Type, after contentType: gzip sets the sniffed one", "ctcomp.example", "/body?n=5000&ct=none", "gzip", "", "gzip", "text/html; charset=utf-8", "Accept-Encoding", 5000},
		{"no Content-Type: br does not", "comp.example", "/body?n=5000&ct=none", "br", "", "br", "", "Accept-Encoding", 5000},
		{"already encoded", "comp.example", "/gzip", "gzip", "", "gzip", "", "Accept-Encoding", 0},
		{"gRPC type excluded", "comp.example", "/body?n=5000&ct=application/grpc", "gzip", "", "", "application/grpc", "Accept-Encoding", 5000},
		{"ranged", "comp.example", "/body?n=5000&ct=text/html&respond-header=Content-Range:bytes%200-4999/9000", "gzip", "", "", "text/html", "Accept-Encoding", 5000},
		{"identity", "comp.example", "/body?n=5000&ct=text/html", "identity", "", "", "text/html", "", 5000},
		{"nothing acceptable", "comp.example", "/body?n=5000&ct=text/html", "compress", "", "", "text/html", "", 5000},
		{"HEAD", "comp.example", "/body?n=5000&ct=text/html", "gzip", "HEAD", "", "text/html", "", 0},
		{"no Accept-Encoding", "comp.example", "/body?n=5000&ct=text/html", "", "", "", "text/html", "", 5000},
		{"encodings order", "br.example", "/body?n=300&ct=text/html", "gzip, br", "", "br", "text/html", "Accept-Encoding", 300},
		{"defaultEncoding without Accept-Encoding", "def.example", "/body?n=5000&ct=text/html", "", "", "zstd", "text/html", "Accept-Encoding", 5000},
		{"a gzip answer Sluice decodes (Traefik's transport asked for it), then encoded again", "def.example", "/gzip", "", "", "zstd", "", "Accept-Encoding", 0},
		{"excluded type", "def.example", "/body?n=5000&ct=text/css", "gzip", "", "", "text/css", "Accept-Encoding", 5000},
		{"included type", "incl.example", "/body?n=5000&ct=application/json", "gzip", "", "gzip", "application/json", "Accept-Encoding", 5000},
		{"not an included type", "incl.example", "/body?n=5000&ct=text/html", "br", "", "", "text/html", "Accept-Encoding", 5000},
	} {
		for _, cl := range f.clients {
			hdr := map[string]string{}
			if c.ae != "" {
				hdr["Accept-Encoding"] = c.ae
			}
			r := f.do(t, cl, mwCase{name: c.name, method: c.method, host: c.host, path: c.path, header: hdr})
			got := mwResultSummary{r.header.Get("Content-Encoding"), r.header.Get("Content-Type"), strings.Join(r.header.Values("Vary"), ",")}
			want := mwResultSummary{c.enc, c.ct, c.vary}
			if r.status != 200 || got != want {
				t.Errorf("%s over %s: %d %+v, want 200 %+v", c.name, cl.name, r.status, got, want)
				continue
			}
			if c.n > 0 {
				if d, err := decode(c.enc, []byte(r.body)); err != nil || d != body(c.n) {
					t.Errorf("%s over %s: decoded body of %d bytes (%v) differs from the server's %d", c.name, cl.name, len(d), err, c.n)
				}
			}
		}
	}
}

type mwResultSummary struct{ encoding, contentType, vary string }

// TestBinaryContentTypeAndEncodedCharacters: contentType sniffs a missing
// Content-Type (and only then); encodedCharacters answers 400 to the
// encoded characters it does not allow.
func TestBinaryContentTypeAndEncodedCharacters(t *testing.T) {
	f := newMWFixture(t, mwObject("ct", "{contentType: {}}")+mwObject("ctoff", "{contentType: {autoDetect: false}}")+
		mwObject("enc", "{encodedCharacters: {allowEncodedSlash: true}}")+
		mwRoute("ct", "ct.example", "[{name: ct}]")+mwRoute("ctoff", "ctoff.example", "[{name: ctoff}]")+
		mwRoute("noct", "noct.example", "[]")+mwRoute("enc", "enc.example", "[{name: enc}]"))
	f.run(t, []mwCase{
		{name: "sniffed", host: "ct.example", path: "/noct", status: 200, respHeader: map[string]string{"Content-Type": "text/plain; charset=utf-8"}},
		{name: "sniffed binary", host: "ct.example", path: "/noct-bin", status: 200, respHeader: map[string]string{"Content-Type": "application/octet-stream"}},
		// Go's reverse proxy flushes the header of a body of unknown length
		// before the body: nothing to sniff from.
		{name: "a stream is not sniffed", host: "ct.example", path: "/body?n=3000&ct=none&chunked=1", status: 200, respHeader: map[string]string{"Content-Type": ""}},
		{name: "a stream of known length is", host: "ct.example", path: "/body?n=300000&ct=none", status: 200, respHeader: map[string]string{"Content-Type": "text/html; charset=utf-8"}},
		{name: "kept", host: "ct.example", path: "/", status: 200, respHeader: map[string]string{"Content-Type": "application/json"}},
		{name: "autoDetect false", host: "ctoff.example", path: "/noct", status: 200, respHeader: map[string]string{"Content-Type": ""}},
		{name: "without the middleware", host: "noct.example", path: "/noct", status: 200, respHeader: map[string]string{"Content-Type": ""}},
		{name: "allowed %2F", host: "enc.example", path: "/a%2Fb", status: 200, uri: "/a%2Fb"},
		{name: "denied %5C", host: "enc.example", path: "/a%5cb", status: 400, respBody: ""},
		{name: "denied %3B", host: "enc.example", path: "/a%3Bb", status: 400},
		{name: "denied %25", host: "enc.example", path: "/a%25b", status: 400},
		{name: "denied %00", host: "enc.example", path: "/a%00", status: 400},
		{name: "plain", host: "enc.example", path: "/a/b", status: 200, uri: "/a/b"},
	})
}

// TestBinaryPassTLSClientCert: the client certificate of a mutual-TLS
// connection reaches the server as Traefik passes it: the PEM without its
// armour, and the selected fields, query-escaped, over HTTPS and HTTP/2;
// a client without a certificate, or a plain request, gets nothing added
// (and what it sends under those names is dropped, as Traefik drops it).
func TestBinaryPassTLSClientCert(t *testing.T) {
	clientCA := newTestCA(t, "client CA")
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(4242), Subject: pkix.Name{CommonName: "client one", Organization: []string{"Org"}, Country: []string{"FR"}},
		DNSNames: []string{"c.example"}, IPAddresses: []net.IP{net.ParseIP("10.1.2.3")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		NotBefore: time.Unix(1700000000, 0), NotAfter: time.Unix(1900000000, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, clientCA.cert, &k.PublicKey, clientCA.key)
	if err != nil {
		t.Fatal(err)
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}
	f := newMWFixture(t, caSecret("client-ca", clientCA.pem)+
		"apiVersion: traefik.io/v1alpha1\nkind: TLSOption\nmetadata: {name: mtls, namespace: e2e}\nspec: {clientAuth: {secretNames: [client-ca], clientAuthType: VerifyClientCertIfGiven}}\n---\n"+
		mwObject("pass", "{passTLSClientCert: {pem: true, info: {notAfter: true, notBefore: true, sans: true, serialNumber: true, "+
			"subject: {country: true, organization: true, commonName: true}, issuer: {commonName: true}}}}")+
		"apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata: {name: pass, namespace: e2e}\nspec:\n  routes:\n"+
		"  - match: Host(`pass.example`)\n    middlewares: [{name: pass}]\n    services: [{name: echo, port: 80}]\n"+
		"  tls: {secretName: mw-cert, options: {name: mtls}}\n---\n"+
		mwRoute("other", "other.example", "[{name: pass}]"))
	pemBody := strings.NewReplacer("-----BEGIN CERTIFICATE-----", "", "-----END CERTIFICATE-----", "", "\n", "").
		Replace(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	info := url.QueryEscape(`Subject="C=FR,O=Org,CN=client one";Issuer="CN=client CA";SerialNumber="4242";NB="1700000000";NA="1900000000";SAN="c.example,10.1.2.3"`)
	forged := map[string]string{"X-Forwarded-Tls-Client-Cert": "forged", "X-Forwarded-Tls-Client-Cert-Info": "forged"}
	for _, cl := range f.clients {
		want := map[string]string{"X-Forwarded-Tls-Client-Cert": "", "X-Forwarded-Tls-Client-Cert-Info": ""}
		if cl.tls {
			tr := cl.c.Transport.(*http.Transport).Clone()
			tr.TLSClientConfig.Certificates = []tls.Certificate{cert}
			withCert := mwClient{cl.name + " with a certificate", true, &http.Client{Transport: tr, Timeout: 10 * time.Second}}
			r := f.do(t, withCert, mwCase{name: "pass", host: "pass.example", path: "/", header: forged})
			if r.seen == nil || r.seen.Headers["X-Forwarded-Tls-Client-Cert"] != pemBody || r.seen.Headers["X-Forwarded-Tls-Client-Cert-Info"] != info {
				t.Errorf("%s: backend saw %+v\nwant cert %q\ninfo %q", withCert.name, r.seen, pemBody, info)
			}
		}
		host := "other.example" // without the option's client certificates
		if cl.tls {
			host = "pass.example"
		}
		r := f.do(t, cl, mwCase{name: "pass", host: host, path: "/", header: forged})
		for k, v := range want {
			if r.seen == nil || r.seen.Headers[k] != v {
				t.Errorf("%s without a certificate: backend saw %+v, want %s %q", cl.name, r.seen, k, v)
			}
		}
	}
}

// TestBinaryBufferingMiddleware: request bodies over the maximum are
// answered 413 before any server is called (by their Content-Length, or
// as they are read when they have none); a held body reaches the server
// with a Content-Length; an answer over its maximum is a 500, as oxy
// answers it.
func TestBinaryBufferingMiddleware(t *testing.T) {
	f := newMWFixture(t, mwObject("buf", "{buffering: {maxRequestBodyBytes: 100, maxResponseBodyBytes: 4000}}")+
		mwObject("retry", "{buffering: {retryExpression: 'IsNetworkError() && Attempts() < 2'}}")+
		mwRoute("buf", "buf.example", "[{name: buf}]")+mwRoute("retry", "retry.example", "[{name: retry}]"))
	long := strings.Repeat("x", 200)
	f.run(t, []mwCase{
		{name: "small body", method: "POST", host: "buf.example", path: "/p", body: "hello", status: 200, seen: map[string]string{"Content-Length": "5"}},
		{name: "body over the maximum", method: "POST", host: "buf.example", path: "/p", body: long, status: 413, respBody: "Request Entity Too Large",
			respHeader: map[string]string{"Content-Type": ""}},
		{name: "no body", host: "buf.example", path: "/g", status: 200},
		{name: "answer under the maximum", host: "buf.example", path: "/body?n=3000&ct=text/plain", status: 200},
		{name: "streamed answer under the maximum", host: "buf.example", path: "/body?n=3000&ct=text/plain&chunked=1", status: 200},
		{name: "answer over the maximum", host: "buf.example", path: "/body?n=5000&ct=text/plain", status: 500, respBody: "Internal Server Error"},
		{name: "streamed answer over the maximum", host: "buf.example", path: "/body?n=5000&chunked=1", status: 500},
		{name: "retryExpression: a request without a body is sent once, as oxy does", host: "retry.example", path: "/", status: 200},
	})
	for _, cl := range f.clients { // a body of unknown length, read until it is over the maximum
		scheme := "http://"
		if cl.tls {
			scheme = "https://"
		}
		req, _ := http.NewRequest("POST", scheme+"buf.example/p", io.MultiReader(strings.NewReader(long), strings.NewReader(long)))
		resp, err := cl.c.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", cl.name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 413 {
			t.Errorf("unknown-length body over the maximum over %s: %d", cl.name, resp.StatusCode)
		}
		req, _ = http.NewRequest("POST", scheme+"buf.example/p", io.MultiReader(strings.NewReader("abc"), strings.NewReader("de")))
		r, err := cl.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		var e echo
		if json.Unmarshal(b, &e) != nil || e.Headers["Content-Length"] != "5" || e.Body != "abcde" {
			t.Errorf("unknown-length body held over %s: the server saw %s", cl.name, b)
		}
	}
}

// TestBinaryEntryPointMiddlewares: an entry point's http.middlewares
// serve before every router's own, on HTTP/1.1, h2c and TLS; one that
// does not exist leaves the entry point's routers unserved (404).
func TestBinaryEntryPointMiddlewares(t *testing.T) {
	objects := mwObject("ep", "{addPrefix: {prefix: /ep}}") + mwObject("route", "{addPrefix: {prefix: /route}}") +
		mwObject("ephdr", "{headers: {customResponseHeaders: {X-Entry: 'yes'}}}") +
		mwRoute("mine", "ep.example", "[{name: route}]") + mwRoute("bare", "bare.example", "[]")
	f := newMWFixture(t, objects, "--entryPoints.web.http.middlewares=e2e-ep@kubernetescrd,e2e-ephdr")
	f.run(t, []mwCase{
		{name: "entry point, then router", host: "ep.example", path: "/x", status: 200, uri: "/route/ep/x", respHeader: map[string]string{"X-Entry": "yes"}},
		{name: "a router without middlewares", method: "POST", host: "bare.example", path: "/x", body: "b", status: 200, uri: "/ep/x", respHeader: map[string]string{"X-Entry": "yes"}},
		{name: "no router: no entry point middleware", host: "none.example", path: "/x", status: 404, respHeader: map[string]string{"X-Entry": ""}},
	})
	g := newMWFixture(t, objects, "--entryPoints.web.http.middlewares=e2e-nosuch@kubernetescrd")
	g.run(t, []mwCase{{name: "missing entry point middleware", host: "bare.example", path: "/x", status: 404}})
	if !strings.Contains(g.p.log(), `middleware \"e2e-nosuch@kubernetescrd\" does not exist`) {
		t.Errorf("no diagnostic for the missing middleware:\n%s", g.p.log())
	}
}

// TestBinaryWholeSmallOutput: a compressed or buffered answer that Go's
// server would hold whole (Traefik's compress and buffering middlewares
// write it in one go) goes out with its length when it is at most 2048
// bytes over HTTP/1.1 and 4096 over HTTP/2 (Go's buffers), else without;
// the body arrives whole either way, over every client. The bodies do not
// compress, so the encoded length is about the server's.
func TestBinaryWholeSmallOutput(t *testing.T) {
	f := newMWFixture(t, mwObject("comp", "{compress: {}}")+mwObject("buf", "{buffering: {}}")+
		mwRoute("comp", "comp.example", "[{name: comp}]")+mwRoute("buf", "buf.example", "[{name: buf}]"))
	for _, n := range []int{1100, 1900, 2030, 2048, 2049, 2100, 3000, 4050, 4096, 4097, 4200, 9000} {
		for _, c := range []struct{ host, query, ae string }{
			{"comp.example", "&ct=text/html", "gzip"}, {"comp.example", "&ct=text/html", "br"}, {"comp.example", "&ct=text/html", "zstd"},
			{"comp.example", "&ct=text/html&chunked=1", "gzip"},
			{"buf.example", "&chunked=1", ""}, {"buf.example", "", ""},
		} {
			for _, cl := range f.clients {
				path := fmt.Sprintf("/body?rand=1&n=%d%s", n, c.query)
				r := f.do(t, cl, mwCase{name: path, host: c.host, path: path, header: map[string]string{"Accept-Encoding": c.ae}})
				enc := r.header.Get("Content-Encoding")
				d, err := decode(enc, []byte(r.body))
				if r.status != 200 || err != nil || d != string(backendBody(n, true)) {
					t.Errorf("%s%s (%s) over %s: %d, %s body of %d bytes decoded to %d (%v)", c.host, path, c.ae, cl.name, r.status, enc, len(r.body), len(d), err)
					continue
				}
				limit := 2048
				if strings.Contains(cl.name, "2") {
					limit = 4096
				}
				// Go's server keeps a length it was given: a buffered body of
				// known length, an encoded one never (gzhttp drops it).
				kept := c.host == "buf.example" && !strings.Contains(c.query, "chunked")
				whole := !strings.Contains(c.query, "chunked") || c.host == "buf.example"
				want := kept || whole && len(r.body) <= limit
				if got := r.header.Get("Content-Length") != ""; got != want {
					t.Errorf("%s%s (%s) over %s: %d bytes sent with a Content-Length %v, want %v", c.host, path, c.ae, cl.name, len(r.body), got, want)
				}
			}
		}
	}
}

// TestBinaryHeadEmptyAnswerOverHTTP2: an answer Sluice makes without a
// body (encodedCharacters' 400) declares no content-length to a HEAD over
// HTTP/2, as Go's server declares only what a handler wrote, and "0" to a
// GET; an answer with a body declares its length to both.
func TestBinaryHeadEmptyAnswerOverHTTP2(t *testing.T) {
	f := newMWFixture(t, mwObject("enc", "{encodedCharacters: {}}")+mwRoute("enc", "enc.example", "[{name: enc}]"))
	for _, cl := range f.clients {
		if !strings.Contains(cl.name, "2") {
			continue
		}
		for _, c := range []struct {
			method, path string
			status       int
			length       string
		}{
			{"HEAD", "/a%5cb", 400, ""}, {"GET", "/a%5cb", 400, "0"},
			{"HEAD", "/x", 200, "present"}, {"HEAD", "/nowhere%5c", 400, ""},
		} {
			r := f.do(t, cl, mwCase{name: c.path, method: c.method, host: "enc.example", path: c.path})
			got := r.header.Get("Content-Length")
			if c.length == "present" && got != "" {
				got = "present"
			}
			if r.status != c.status || got != c.length {
				t.Errorf("%s %s over %s: %d with Content-Length %q, want %d with %q", c.method, c.path, cl.name, r.status, got, c.status, c.length)
			}
		}
	}
}

// TestBinaryEarlyHints: a server's 103 Early Hints reach an HTTP/2 client
// (h2c and over TLS) before the answer, with their Link fields and
// nothing else, as many as the server sends, on a plain route and through
// a middleware; an HTTP/1.1 client gets the answer alone (CONFORMANCE.md:
// Sluice does not relay them over HTTP/1.1), and so does every client
// through buffering or a retry of more than one attempt, whose writers
// drop them in Traefik.
func TestBinaryEarlyHints(t *testing.T) {
	f := newMWFixture(t, mwObject("hdr", "{headers: {customResponseHeaders: {X-Served-By: e2e}}}")+
		mwObject("buf", "{buffering: {}}")+mwObject("re", "{retry: {attempts: 2}}")+mwObject("reone", "{retry: {attempts: 1}}")+
		mwRoute("plain", "plain.example", "[]")+mwRoute("mw", "mw.example", "[{name: hdr}]")+
		mwRoute("buf", "buf.example", "[{name: hdr}, {name: buf}]")+mwRoute("re", "re.example", "[{name: re}]")+
		mwRoute("reone", "reone.example", "[{name: reone}]"))
	for _, cl := range f.clients {
		for _, c := range []struct {
			host    string
			n       int
			dropped bool
		}{{"plain.example", 1, false}, {"mw.example", 1, false}, {"plain.example", 7, false},
			{"buf.example", 2, true}, {"re.example", 2, true}, {"reone.example", 2, false}} {
			h2 := strings.Contains(cl.name, "2") && !c.dropped
			scheme := "http://"
			if cl.tls {
				scheme = "https://"
			}
			var hints []string
			req, _ := http.NewRequest("GET", fmt.Sprintf("%s%s/early?n=%d", scheme, c.host, c.n), nil)
			req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
				Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
					hints = append(hints, fmt.Sprintf("%d %v", code, h))
					return nil
				}}))
			resp, err := cl.c.Do(req)
			if err != nil {
				t.Fatalf("%s over %s: %v", c.host, cl.name, err)
			}
			b := readBody(t, resp)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(b) != "after hints" {
				t.Errorf("%s (%d hints) over %s: %d %q", c.host, c.n, cl.name, resp.StatusCode, b)
			}
			var want []string
			for i := 0; h2 && i < c.n; i++ {
				want = append(want, fmt.Sprintf("103 map[Link:[</style%d.css>; rel=preload; as=style]]", i))
			}
			if !slices.Equal(hints, want) {
				t.Errorf("%s (%d hints) over %s: interim answers %q, want %q", c.host, c.n, cl.name, hints, want)
			}
		}
	}
}
