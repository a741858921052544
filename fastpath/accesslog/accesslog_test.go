package accesslog

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// record is a proxied HTTPS request as the front end fills it. Its
// path is not a valid encoding ({x}), so Go's URL (and Traefik) logs the
// decoded path escaped anew: %2F becomes /.
func record() *Record {
	r := newRecord()
	r.Start = time.Date(2026, 12, 7, 10, 0, 0, 123456789, time.UTC)
	r.Duration, r.OriginDuration = 12*time.Millisecond+345, 10*time.Millisecond
	r.EntryPoint, r.Router = "websecure", "ns-app-abc@kubernetescrd"
	r.Service, r.ServiceURL, r.OriginStatus, r.OriginSize = "ns-app-abc@kubernetescrd", "http://10.0.0.7:8080", 200, 1000
	r.Status, r.Size, r.ReqSize, r.count = 200, 250, 5, 42
	r.TLSVersion, r.TLSCipher = 0x0304, 0x1301
	r.Method, r.URI, r.Proto, r.Host = []byte("POST"), []byte(`/a%2Fb/{x}?q=1&r=<"&>`), []byte("HTTP/2.0"), []byte("app.example:8443")
	r.ClientIP, r.ClientPort = []byte("2001:db8::1"), 51000
	r.ReqHeaders.Add([]byte("User-Agent"), []byte("curl/8"))
	r.ReqHeaders.Add([]byte("Accept"), []byte("a"))
	r.ReqHeaders.Add([]byte("Accept"), []byte("b"))
	r.ReqHeaders.Add([]byte("Authorization"), []byte("Bearer secret"))
	r.ReqHeaders.Add([]byte("Host"), []byte("app.example:8443"))
	r.RespHeaders.Add([]byte("Content-Type"), []byte("text/html"))
	return r
}

func logger(t *testing.T, cfg *Config) *Logger {
	l, err := New(*cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// The common and genericCLF lines, as Traefik's formatters write them.
func TestCLF(t *testing.T) {
	cfg := NewConfig()
	cfg.Fields.Headers = map[string]Mode{"User-Agent": Keep}
	got := string(logger(t, cfg).format(nil, record()))
	want := `2001:db8::1 - - [07/Dec/2026:10:00:00 +0000] "POST /a/b/%7Bx%7D?q=1&r=<"&> HTTP/2.0" 200 250 "-" "curl/8" 42 "ns-app-abc@kubernetescrd" "http://10.0.0.7:8080" 12ms` + "\n"
	if got != want {
		t.Errorf("common:\n got %q\nwant %q", got, want)
	}
	cfg.Format = GenericCLF
	got = string(logger(t, cfg).format(nil, record()))
	if want := `2001:db8::1 - - [07/Dec/2026:10:00:00 +0000] "POST /a/b/%7Bx%7D?q=1&r=<"&> HTTP/2.0" 200 250 "-" "curl/8"` + "\n"; got != want {
		t.Errorf("genericCLF:\n got %q\nwant %q", got, want)
	}
}

// The JSON line: encoding/json's form of Traefik's fields, with the field
// and header modes applied.
func TestJSON(t *testing.T) {
	cfg := NewConfig()
	cfg.Format = JSON
	cfg.Fields.Names = map[string]Mode{"clientport": Drop, "startlocal": Drop}
	cfg.Fields.HeadersDefault = Keep
	cfg.Fields.Headers = map[string]Mode{"Authorization": Redact, "Content-Type": Drop}
	line := logger(t, cfg).format(nil, record())
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	var re bytes.Buffer
	json.NewEncoder(&re).Encode(m)
	if re.String() != string(line) {
		t.Errorf("not encoding/json's form:\n got %s\nwant %s", line, re.String())
	}
	want := map[string]any{"StartUTC": "2026-12-07T10:00:00.123456789Z", "Duration": 12000345.0, "Overhead": 2000345.0,
		"ClientAddr": "[2001:db8::1]:51000", "ClientHost": "2001:db8::1", "ClientUsername": "-", "GzipRatio": 4.0,
		"RequestAddr": "app.example:8443", "RequestHost": "app.example", "RequestPort": "8443", "RequestScheme": "https",
		"RequestPath": `/a/b/%7Bx%7D?q=1&r=<"&>`, "TLSVersion": "1.3", "TLSCipher": "TLS_AES_128_GCM_SHA256",
		"ServiceAddr": "10.0.0.7:8080", "RequestCount": 42.0, "entryPointName": "websecure", "level": "info", "msg": "",
		"request_Accept": "a,b", "request_Authorization": "REDACTED", "request_User-Agent": "curl/8"}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %#v, want %#v", k, m[k], v)
		}
	}
	for _, k := range []string{"ClientPort", "StartLocal", "downstream_Content-Type", "request_Host", "TLSClientSubject"} {
		if _, ok := m[k]; ok {
			t.Errorf("%s present: %s", k, line)
		}
	}
	if !bytes.Contains(line, []byte(`\u003c\"\u0026\u003e`)) {
		t.Errorf("HTML characters not escaped as encoding/json does: %s", line)
	}
}

// RequestPath is what Go's URL makes of the request target.
func TestRequestPath(t *testing.T) {
	for _, uri := range []string{"/", "/a/b?x=1", "/a%2Fb", "/%7Efoo", "/caf%C3%A9", "/a{b}", "/a b", "/p?", "/p?q=%zz",
		"/a;b=c", "/a|b", "/%41"} {
		u, err := url.ParseRequestURI(uri)
		if err != nil {
			continue
		}
		want := (&url.URL{Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery, ForceQuery: u.ForceQuery}).String()
		if got := string(requestPath(nil, []byte(uri), false)); got != want {
			t.Errorf("%q: %q, want Go's %q", uri, got, want)
		}
		want = (&url.URL{Path: u.Path, RawPath: u.RawPath}).String()
		if got := string(requestPath(nil, []byte(uri), true)); got != want {
			t.Errorf("%q without query: %q, want %q", uri, got, want)
		}
	}
	if got := string(requestPath(nil, []byte("http://h.example:80/x?y"), false)); got != "/x?y" {
		t.Errorf("absolute form: %q", got)
	}
}

// Traefik's keepAccessLog.
func TestFilters(t *testing.T) {
	f := &Filters{StatusCodes: [][2]int{{400, 499}}, RetryAttempts: true, MinDuration: time.Second}
	for _, c := range []struct {
		f       *Filters
		status  int
		retries int
		d       time.Duration
		want    bool
	}{
		{nil, 200, 0, 0, true},
		{&Filters{}, 200, 0, 0, true},
		{f, 404, 0, 0, true},
		{f, 200, 0, 0, false},
		{f, 200, 1, 0, true},
		{f, 200, 0, 2 * time.Second, true},
		{f, 500, 0, time.Second, false},
	} {
		cfg := Config{Filters: c.f}
		if got := cfg.keep(c.status, c.retries, c.d); got != c.want {
			t.Errorf("%+v %d %d %v: %v", c.f, c.status, c.retries, c.d, got)
		}
	}
}

// A writer that cannot keep up loses lines, counted, and never blocks.
func TestFullQueueDrops(t *testing.T) {
	cfg := NewConfig()
	cfg.BufferingSize, cfg.FilePath = 4, t.TempDir()+"/access.log"
	l := logger(t, cfg)
	l.mu.Lock() // the writer stalls on its first line
	for range 10 {
		if r := l.Record(); r != nil {
			l.Submit(r)
		}
	}
	if d := l.Dropped(); d < 5 || d > 6 {
		t.Errorf("%d dropped of 10 with 4 places (and one being written), want 5 or 6", d)
	}
	l.mu.Unlock()
}

// A field name map of the configuration is lower-case, as Traefik's.
func TestKeepKeys(t *testing.T) {
	keep := keepKeys(&Fields{DefaultMode: Drop, Names: map[string]Mode{"requestpath": Keep, "entrypointname": Keep}})
	var kept []string
	for i, k := range coreKeys {
		if keep[i] {
			kept = append(kept, k)
		}
	}
	if strings.Join(kept, ",") != "RequestPath,entryPointName" {
		t.Errorf("kept %v", kept)
	}
}

// FuzzRequestPath: for any origin-form target Go's URL parses, the
// logged path is what Traefik's url.URL.String gives.
func FuzzRequestPath(f *testing.F) {
	for _, s := range []string{"/", "/a%2Fb?x", "/{x}", "/%7e?", "/a b%20c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		u, err := url.ParseRequestURI(uri)
		if err != nil || !strings.HasPrefix(uri, "/") || strings.HasPrefix(uri, "//") {
			return
		}
		want := (&url.URL{Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery, ForceQuery: u.ForceQuery}).String()
		if got := string(requestPath(nil, []byte(uri), false)); got != want {
			t.Errorf("%q: %q, want Go's %q", uri, got, want)
		}
	})
}

// BenchmarkFormat: one line of each format from a full record, on the
// writer's goroutine (what a logged request costs besides its record).
func BenchmarkFormat(b *testing.B) {
	for _, format := range []string{Common, JSON} {
		b.Run(format, func(b *testing.B) {
			cfg := NewConfig()
			cfg.Format = format
			l, err := New(*cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			r := record()
			r.ReqHeaders, r.RespHeaders = Headers{}, Headers{}
			var line []byte
			b.ReportAllocs()
			for range b.N {
				line = l.format(line[:0], r)
			}
			b.SetBytes(int64(len(line)))
		})
	}
}

// FuzzAppendString: any bytes are written as encoding/json writes the
// string (HTML escaped, U+2028 and U+2029 escaped), as logrus's JSON
// formatter does through it; an invalid UTF-8 byte as "\ufffd", as the
// Go 1.26 that builds Traefik v3.7 writes it (Go 1.27's encoding/json
// writes the character itself).
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `a"b\c`, "<&>", "\x00\x1f\x7f", "\b\f", "é\u2028\u2029", "\xff\xfe", "abcdefgh<", "0123456789abcdef\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, s []byte) {
		want := jsonGo126(s)
		if got := appendString([]byte("x"), s); string(got[1:]) != want {
			t.Errorf("%q: %s, want encoding/json's %s", s, got[1:], want)
		}
	})
}

// jsonGo126 is Go 1.26's encoding/json string for s: each valid run as
// encoding/json writes it, each invalid byte as \ufffd.
func jsonGo126(s []byte) string {
	out := `"`
	for len(s) > 0 {
		n := 0
		for n < len(s) {
			r, size := utf8.DecodeRune(s[n:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			n += size
		}
		if n > 0 {
			j, _ := json.Marshal(string(s[:n]))
			out += string(j[1 : len(j)-1])
			s = s[n:]
			continue
		}
		out += `\ufffd`
		s = s[1:]
	}
	return out + `"`
}
