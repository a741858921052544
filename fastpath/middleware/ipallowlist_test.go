package middleware

import (
	"bufio"
	"log/slog"
	"net/netip"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// begin starts an Exchange from a raw HTTP/1.1 request from client, on an
// entry point that trusts every peer's X-Forwarded-* headers.
func begin(t testing.TB, raw string, client string) (*pipeline.Exchange, *fasthttp.RequestCtx) {
	t.Helper()
	ctx := new(fasthttp.RequestCtx)
	if err := ctx.Request.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
		t.Fatal(err)
	}
	ep := &pipeline.EntryPoint{Name: "web", Insecure: true, Log: slog.Default()}
	x := pipeline.Acquire()
	if !x.BeginHTTP1(ctx, ep, netip.MustParseAddr(client), nil) {
		t.Fatalf("Begin refused %q", raw)
	}
	return x, ctx
}

func intp(v int) *int { return &v }

func TestIPAllowList(t *testing.T) {
	for _, c := range []struct {
		name   string
		a      IPAllowList
		client string
		xff    string
		want   int // 0: passed on
	}{
		{"remote in range", IPAllowList{SourceRange: []string{"10.0.0.0/8"}}, "10.1.2.3", "", 0},
		{"remote out of range", IPAllowList{SourceRange: []string{"10.0.0.0/8"}}, "192.168.0.1", "", 403},
		{"single address", IPAllowList{SourceRange: []string{"192.168.0.1"}}, "192.168.0.1", "", 0},
		{"mapped address in an IPv4 list", IPAllowList{SourceRange: []string{"::ffff:192.168.0.1"}}, "192.168.0.1", "", 0},
		{"IPv4 client, IPv6 mapped network", IPAllowList{SourceRange: []string{"::ffff:0:0/96"}}, "192.168.0.1", "", 403},
		{"IPv6", IPAllowList{SourceRange: []string{"2001:db8::/32"}}, "2001:db8::5", "", 0},
		{"reject code", IPAllowList{SourceRange: []string{"10.0.0.0/8"}, RejectStatusCode: 404}, "1.1.1.1", "", 404},
		{"XFF ignored by default", IPAllowList{SourceRange: []string{"10.0.0.0/8"}}, "1.1.1.1", "10.0.0.1", 403},
		{"depth 1", IPAllowList{SourceRange: []string{"10.0.0.0/8"}, Strategy: &IPStrategy{Depth: 1}}, "1.1.1.1", "1.2.3.4, 10.0.0.1", 0},
		{"depth 2", IPAllowList{SourceRange: []string{"10.0.0.0/8"}, Strategy: &IPStrategy{Depth: 2}}, "10.1.1.1", "1.2.3.4, 10.0.0.1", 403},
		{"depth beyond the list", IPAllowList{SourceRange: []string{"10.0.0.0/8"}, Strategy: &IPStrategy{Depth: 3}}, "10.1.1.1", "10.0.0.1", 403},
		{"depth with a port", IPAllowList{SourceRange: []string{"10.0.0.0/8"}, Strategy: &IPStrategy{Depth: 1}}, "1.1.1.1", "10.0.0.1:5000", 0},
		{"no XFF with depth", IPAllowList{SourceRange: []string{"10.0.0.0/8"}, Strategy: &IPStrategy{Depth: 1}}, "10.1.1.1", "", 403},
		{"excluded", IPAllowList{SourceRange: []string{"1.2.3.4"}, Strategy: &IPStrategy{ExcludedIPs: []string{"10.0.0.0/8"}}}, "10.9.9.9", "1.2.3.4, 10.0.0.1,10.0.0.2", 0},
		{"excluded: garbage is the client", IPAllowList{SourceRange: []string{"1.2.3.4"}, Strategy: &IPStrategy{ExcludedIPs: []string{"10.0.0.0/8"}}}, "10.9.9.9", "1.2.3.4, junk, 10.0.0.2", 403},
		{"subnet of the connection", IPAllowList{SourceRange: []string{"2001:db8::"}, Strategy: &IPStrategy{IPv6Subnet: intp(64)}}, "2001:db8::99", "", 0},
		{"subnet with depth", IPAllowList{SourceRange: []string{"2001:db8::"}, Strategy: &IPStrategy{Depth: 1, IPv6Subnet: intp(64)}}, "1.1.1.1", "2001:db8::7", 0},
	} {
		mw, err := c.a.Middleware()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		raw := "GET / HTTP/1.1\r\nHost: a.example\r\n"
		if c.xff != "" {
			raw += "X-Forwarded-For: " + c.xff + "\r\n"
		}
		x, ctx := begin(t, raw+"\r\n", c.client)
		passed := false
		mw(pipeline.HandlerFunc(func(*pipeline.Exchange) { passed = true })).Serve(x)
		got := 0
		if !passed {
			got = ctx.Response.StatusCode()
		}
		if got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
		pipeline.Release(x)
	}
}

func TestIPAllowListErrors(t *testing.T) {
	for _, c := range []struct {
		a    IPAllowList
		want string
	}{
		{IPAllowList{}, "sourceRange is empty, IPAllowLister not created"},
		{IPAllowList{SourceRange: []string{"10.0.0.0/8"}, RejectStatusCode: 999}, "invalid HTTP status code 999"},
		{IPAllowList{SourceRange: []string{"10.0.0.300"}}, "cannot parse CIDRs [10.0.0.300]"},
		{IPAllowList{SourceRange: []string{"10.0.0.0/8"}, Strategy: &IPStrategy{IPv6Subnet: intp(129)}}, "invalid IPv6 subnet 129"},
	} {
		if _, err := c.a.Middleware(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err %v, want %q", c.a, err, c.want)
		}
	}
}
