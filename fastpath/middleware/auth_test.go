package middleware

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// The htpasswd vectors are go-http-auth's own (its test.htpasswd) and
// openssl passwd's.
func TestCheckSecret(t *testing.T) {
	bc, _ := bcrypt.GenerateFromPassword([]byte("hello4"), bcrypt.MinCost)
	for _, c := range []struct {
		password, secret string
		ok               bool
	}{
		{"hello", "{SHA}qvTGHdzF6KLavt4PO0gs2a6pQ00=", true},
		{"hellO", "{SHA}qvTGHdzF6KLavt4PO0gs2a6pQ00=", false},
		{"hello2", "$apr1$a0j62R97$mYqFkloXH0/UOaUnAiV2b0", true},
		{"topsecret", "$apr1$JI4wh3am$AmhephVqLTUyAVpFQeHZC0", true},
		{"hello", "$apr1$0.KbAJur$4G9MiqUjDLCuihkMfmg6e1", true},
		{"hello", "$apr10.KbAJur$4G9MiqUjDLCuihkMfmg6e1", false},
		{"secret", "$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/", true},
		{"", "$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/", false},
		{"hello3", "$2y$05$ih3C91zUBSTFcAh2mQnZYuob0UOZVEf16wl/ukgjDhjvj.xgM1WwS", true},
		{"hello3x", "$2y$05$ih3C91zUBSTFcAh2mQnZYuob0UOZVEf16wl/ukgjDhjvj.xgM1WwS", false},
		{"hello4", string(bc), true},
		{"hello", "plain", false},
	} {
		if got := checkSecret([]byte(c.password), c.secret); got != c.ok {
			t.Errorf("checkSecret(%q, %q) = %t", c.password, c.secret, got)
		}
	}
}

// serve runs raw through mw and returns the status (0: passed on) and
// the request as the next handler saw it.
func serve(t testing.TB, mw pipeline.Middleware, raw string) (int, string, *pipeline.Exchange) {
	x, ctx := begin(t, raw, "10.0.0.1")
	var seen string
	mw(pipeline.HandlerFunc(func(x *pipeline.Exchange) { seen = x.Out.Header.String() })).Serve(x)
	if seen != "" {
		return 0, seen, x
	}
	return ctx.Response.StatusCode(), ctx.Response.String(), x
}

func basicHeader(user, password string) string {
	return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password)) + "\r\n"
}

func TestBasicAuth(t *testing.T) {
	mw, err := BasicAuth{Users: []string{"test:{SHA}qvTGHdzF6KLavt4PO0gs2a6pQ00=", "test2:$apr1$a0j62R97$mYqFkloXH0/UOaUnAiV2b0",
		"test3:$2y$05$ih3C91zUBSTFcAh2mQnZYuob0UOZVEf16wl/ukgjDhjvj.xgM1WwS"}, HeaderField: "X-WebAuth-User", RemoveHeader: true}.Middleware()
	if err != nil {
		t.Fatal(err)
	}
	const req = "GET / HTTP/1.1\r\nHost: a.example\r\n"
	for _, c := range []struct {
		name, header string
		status       int
	}{
		{"no credentials", "", 401},
		{"SHA", basicHeader("test", "hello"), 0},
		{"apr1", basicHeader("test2", "hello2"), 0},
		{"bcrypt", basicHeader("test3", "hello3"), 0},
		{"bcrypt again (cached)", basicHeader("test3", "hello3"), 0},
		{"wrong password after a cached success", basicHeader("test3", "hello4"), 401},
		{"unknown user", basicHeader("nobody", "hello"), 401},
		{"lower-case scheme", strings.Replace(basicHeader("test", "hello"), "Basic", "basic", 1), 0},
		{"not base64", "Authorization: Basic !!!\r\n", 401},
		{"no colon", "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("test")) + "\r\n", 401},
		{"bearer", "Authorization: Bearer x\r\n", 401},
	} {
		st, out, x := serve(t, mw, req+c.header+"\r\n")
		switch {
		case st != c.status:
			t.Errorf("%s: %d, want %d\n%s", c.name, st, c.status, out)
		case st == 0 && (strings.Contains(out, "Authorization") || !strings.Contains(out, "X-Webauth-User: test")):
			t.Errorf("%s: forwarded without the user or with Authorization:\n%s", c.name, out)
		case st == 401 && (!strings.Contains(out, `Www-Authenticate: Basic realm="traefik"`) || !strings.HasSuffix(out, "\r\n\r\n401 Unauthorized\n") ||
			!strings.Contains(out, "Content-Type: text/plain\r\n")):
			t.Errorf("%s: not go-http-auth's 401:\n%s", c.name, out)
		}
		pipeline.Release(x)
	}
}

func TestAuthErrorsNameNoCredential(t *testing.T) {
	_, err := BasicAuth{Users: []string{"user:$apr1$secrethash$xx:extra"}}.Middleware()
	if err == nil || strings.Contains(err.Error(), "secrethash") {
		t.Fatalf("err = %v", err)
	}
	_, err = DigestAuth{Users: []string{"user:$apr1$secrethash"}}.Middleware()
	if err == nil || strings.Contains(err.Error(), "secrethash") {
		t.Fatalf("err = %v", err)
	}
}

func TestDigestAuth(t *testing.T) {
	ha1 := md5Hex("test:traefik:hello")
	mw, err := DigestAuth{Users: []string{"test:traefik:" + ha1}, HeaderField: "X-User"}.Middleware()
	if err != nil {
		t.Fatal(err)
	}
	const req = "GET /dir/index.html?x=1 HTTP/1.1\r\nHost: a.example\r\n"
	st, out, x := serve(t, mw, req+"\r\n")
	pipeline.Release(x)
	m := regexp.MustCompile(`Www-Authenticate: Digest realm="traefik", nonce="([^"]+)", opaque="([^"]+)", algorithm="MD5", qop="auth"`).FindStringSubmatch(out)
	if st != 401 || m == nil {
		t.Fatalf("first request: %d\n%s", st, out)
	}
	nonce, opaque := m[1], m[2]
	answer := func(nc, uri, password string) string {
		ha1 := md5Hex("test:traefik:" + password)
		resp := md5Hex(strings.Join([]string{ha1, nonce, nc, "c1", "auth", md5Hex("GET:" + uri)}, ":"))
		return fmt.Sprintf("Authorization: Digest username=\"test\", realm=\"traefik\", nonce=\"%s\", uri=\"%s\", qop=auth, nc=%s, cnonce=\"c1\", response=\"%s\", opaque=\"%s\"\r\n",
			nonce, uri, nc, resp, opaque)
	}
	for _, c := range []struct {
		name, header string
		status       int
		stale        bool
	}{
		{"right", answer("00000001", "/dir/index.html?x=1", "hello"), 0, false},
		{"replayed count", answer("00000001", "/dir/index.html?x=1", "hello"), 401, false},
		{"next count", answer("00000002", "/dir/index.html?x=1", "hello"), 0, false},
		{"count backwards", answer("00000001", "/dir/index.html?x=1", "hello"), 401, true},
		{"a prefix of the path", answer("00000003", "/dir/", "hello"), 0, false},
		{"another path", answer("00000004", "/other", "hello"), 401, false},
		{"wrong password", answer("00000005", "/dir/index.html?x=1", "nope"), 401, false},
		{"an empty value", "Authorization: Digest username=\r\n", 500, false},
	} {
		st, out, x := serve(t, mw, req+c.header+"\r\n")
		if st != c.status {
			t.Errorf("%s: %d, want %d\n%s", c.name, st, c.status, out)
		}
		if st == 0 && !strings.Contains(out, "X-User: test") {
			t.Errorf("%s: no user header:\n%s", c.name, out)
		}
		if got := strings.Contains(out, `stale="true"`); st == 401 && got != c.stale {
			t.Errorf("%s: stale %t, want %t", c.name, got, c.stale)
		}
		pipeline.Release(x)
	}
}
