package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// waitLines polls path until it holds n lines (at most five seconds).
func waitLines(t *testing.T, path string, n int) []string {
	t.Helper()
	var lines []string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		b, _ := os.ReadFile(path)
		lines = strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		if len(b) == 0 {
			lines = nil
		}
		if len(lines) >= n || time.Now().After(deadline) {
			break
		}
	}
	if len(lines) != n {
		t.Fatalf("%s: %d lines, want %d:\n%s", path, len(lines), n, strings.Join(lines, "\n"))
	}
	return lines
}

// TestBinaryAccessLogJSON: --accessLog.format=json writes one line per
// request with Traefik's field names, types and values, over HTTP/1.1,
// h2c, HTTPS and HTTP/2 over TLS, with and without a body, routed or not;
// observability.accessLogs: false silences a route; headers are kept or
// redacted as configured; keys are sorted and escaped as logrus's JSON
// formatter writes them; SIGUSR1 reopens the file after a rotation.
func TestBinaryAccessLogJSON(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "logs", "access.log")
	quiet := strings.Replace(mwRoute("quiet", "quiet.example", "[]"), "    services:", "    observability: {accessLogs: false}\n    services:", 1)
	f := newMWFixture(t, mwRoute("app", "app.example", "[]")+quiet, "--accessLog.format=json", "--accessLog.filePath="+logPath,
		"--accessLog.fields.headers.names.User-Agent=keep", "--accessLog.fields.headers.names.Authorization=redact")
	cases := []mwCase{
		{name: "GET", host: "app.example", path: "/a/b?x=1&y=<2>", header: map[string]string{"Authorization": "Basic c2VjcmV0", "User-Agent": "t/1"}, status: 200},
		{name: "POST", method: "POST", host: "app.example", path: "/p", body: "hello", header: map[string]string{"User-Agent": "t/1"}, status: 200},
		{name: "POST chunked", method: "POST", host: "app.example", path: "/p", body: "hello", chunked: true, header: map[string]string{"User-Agent": "t/1"}, status: 200},
		{name: "quiet", host: "quiet.example", path: "/", status: 200},
		{name: "404", host: "none.example", path: "/nothing", header: map[string]string{"User-Agent": "t/1"}, status: 404},
		// a body no handler reads: none counted, as Traefik counts the bytes read
		{name: "POST 404", method: "POST", host: "none.example", path: "/p", body: "hello", header: map[string]string{"User-Agent": "t/1"}, status: 404},
		{name: "stream", host: "app.example", path: "/stream", header: map[string]string{"User-Agent": "t/1"}, status: 200},
	}
	f.run(t, cases)
	lines := waitLines(t, logPath, 24) // the quiet route's 4 are not logged
	seen := map[string]int{}
	for _, line := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %q: %v", line, err)
		}
		// logrus writes a map through encoding/json: sorted keys, HTML escaped
		var re bytes.Buffer
		enc := json.NewEncoder(&re)
		enc.Encode(m)
		if got := strings.TrimSuffix(re.String(), "\n"); got != line {
			t.Errorf("line is not in encoding/json's form:\n got %s\nwant %s", line, got)
		}
		checkJSONLine(t, m)
		key := fmt.Sprintf("%v %v %v", m["RequestMethod"], m["RequestProtocol"], m["RequestScheme"])
		seen[key]++
	}
	for _, want := range []string{"GET HTTP/1.1 http", "GET HTTP/2.0 http", "GET HTTP/1.1 https", "GET HTTP/2.0 https",
		"POST HTTP/1.1 http", "POST HTTP/2.0 http", "POST HTTP/1.1 https", "POST HTTP/2.0 https"} {
		if seen[want] == 0 {
			t.Errorf("no line for %s: %v", want, seen)
		}
	}

	// logrotate: the file moved away, SIGUSR1, the next line in a new file
	os.Rename(logPath, logPath+".1")
	f.p.cmd.Process.Signal(syscall.SIGUSR1)
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(f.p.log(), "access log reopened"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no reopen after SIGUSR1:\n%s", f.p.log())
		}
	}
	f.run(t, cases[:1])
	waitLines(t, logPath, 4)
	waitLines(t, logPath+".1", 24)
}

// checkJSONLine checks one line's fields against the request it logs.
func checkJSONLine(t *testing.T, m map[string]any) {
	t.Helper()
	want := map[string]any{"level": "info", "msg": "", "entryPointName": "web", "ClientHost": "127.0.0.1",
		"ClientUsername": "-", "RequestPort": "-", "RetryAttempts": 0.0, "request_User-Agent": "t/1"}
	tls := m["RequestScheme"] == "https"
	if tls {
		want["TLSVersion"] = "1.3"
		want["TLSCipher"] = "TLS_AES_128_GCM_SHA256"
	}
	routed := m["RequestHost"] != "none.example"
	switch m["RequestMethod"] {
	case "GET":
		switch {
		case m["RequestPath"] == "/stream": // an answer of no declared length: counted as it streams
			want["DownstreamContentSize"] = 11.0 // "part1 part2"
		case routed:
			want["RequestPath"] = "/a/b?x=1&y=<2>"
			want["request_Authorization"] = "REDACTED"
		default:
			want["RequestPath"] = "/nothing"
		}
	case "POST":
		want["RequestPath"], want["RequestContentSize"] = "/p", 5.0
		if !routed {
			want["RequestContentSize"] = 0.0
		}
	}
	if routed {
		want["DownstreamStatus"], want["OriginStatus"] = 200.0, 200.0
		want["OriginContentSize"] = m["DownstreamContentSize"]
	} else {
		want["DownstreamStatus"], want["OriginStatus"], want["OriginContentSize"] = 404.0, 0.0, 0.0
		want["DownstreamContentSize"], want["GzipRatio"], want["OriginDuration"] = 19.0, 0.0, 0.0 // "404 page not found\n"
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s %s: %s = %#v, want %#v (line %v)", m["RequestMethod"], m["RequestHost"], k, m[k], v, m)
		}
	}
	for _, k := range []string{"StartUTC", "StartLocal", "time"} {
		if _, err := time.Parse(time.RFC3339Nano, fmt.Sprint(m[k])); err != nil {
			t.Errorf("%s = %v: %v", k, m[k], err)
		}
	}
	if d, _ := m["Duration"].(float64); d <= 0 || d > float64(5*time.Second) {
		t.Errorf("Duration = %v ns", m["Duration"])
	}
	// the client's source port, worked out once per connection
	if p, _ := m["ClientPort"].(string); p == "" || p == "0" || m["ClientAddr"] != "127.0.0.1:"+p {
		t.Errorf("ClientAddr %v, ClientPort %v", m["ClientAddr"], m["ClientPort"])
	}
	if routed {
		r, _ := m["RouterName"].(string)
		svc, _ := m["ServiceName"].(string)
		url, _ := m["ServiceURL"].(string)
		if !regexp.MustCompile(`^e2e-app(-tls)?-[0-9a-f]+@kubernetescrd$`).MatchString(r) || svc != r ||
			!strings.HasPrefix(url, "http://127.0.0.2:") || m["ServiceAddr"] != strings.TrimPrefix(url, "http://") {
			t.Errorf("router/service fields %q %q %q %v", r, svc, url, m["ServiceAddr"])
		}
		if tls != strings.Contains(r, "-tls-") {
			t.Errorf("a %v request logged router %s", m["RequestScheme"], r)
		}
		if _, ok := m["GzipRatio"]; ok {
			t.Errorf("GzipRatio on a proxied answer of unchanged size: %v", m)
		}
	} else {
		for _, k := range []string{"RouterName", "ServiceName", "ServiceURL", "ServiceAddr"} {
			if _, ok := m[k]; ok {
				t.Errorf("an unrouted request has %s: %v", k, m)
			}
		}
	}
	if _, ok := m["request_Host"]; ok {
		t.Errorf("request_Host logged (Go's server keeps Host out of the header map)")
	}
}

// traefikCLF is Traefik's ParseAccessLog expression
// (pkg/middlewares/accesslog/parser.go), which log parsers rely on.
var traefikCLF = regexp.MustCompile(`(\S+)\s-\s(\S+)\s\[([^]]+)\]\s"(\S*)\s?((?:[^"]*(?:\\")?)*)\s([^"]*)"\s(\S+)\s(\S+)\s("?\S+"?)\s("\S+")\s(\S+)\s("[^"]*"|-)\s("[^"]*"|-)\s(\S+)`)

// TestBinaryAccessLogCommon: the default format, parsed by Traefik's own
// expression, with filters: only 4xx and 5xx are kept.
func TestBinaryAccessLogCommon(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "access.log")
	f := newMWFixture(t, mwRoute("app", "app.example", "[]"), "--accessLog=true", "--accessLog.filePath="+logPath,
		"--accessLog.filters.statusCodes=400-499,500-599")
	f.run(t, []mwCase{
		{name: "ok", host: "app.example", path: "/", status: 200},
		{name: "503", host: "app.example", path: "/status/503?q=x", status: 503},
	})
	lines := waitLines(t, logPath, 4)
	for _, line := range lines {
		m := traefikCLF.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("Traefik's parser does not match %q", line)
			continue
		}
		if _, err := time.Parse("02/Jan/2006:15:04:05 -0700", m[3]); err != nil {
			t.Errorf("%q: time %q: %v", line, m[3], err)
		}
		if m[1] != "127.0.0.1" || m[2] != "-" || m[4] != "GET" || m[5] != "/status/503?q=x" || m[6] != "HTTP/1.1" && m[6] != "HTTP/2.0" ||
			m[7] != "503" || m[9] != `"-"` || m[10] != `"-"` || // headers are dropped by default
			!strings.Contains(m[12], "@kubernetescrd") || !strings.HasPrefix(m[13], `"http://127.0.0.2:`) || !strings.HasSuffix(m[14], "ms") {
			t.Errorf("fields of %q: %q", line, m[1:])
		}
	}
}

// TestBinaryAccessLogDiskFull: with a log that cannot be written (the
// disk full: /dev/full), every request is still answered, over every
// protocol, and Sluice's own log says so once, not once per line.
func TestBinaryAccessLogDiskFull(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	f := newMWFixture(t, mwRoute("app", "app.example", "[]"), "--accessLog=true", "--accessLog.filePath=/dev/full")
	// past FlushDelay, the writer has tried again
	reportedOnce(t, f, "access log: writing failed", "no space left on device", 200*time.Millisecond)
}

// reportedOnce sends requests through f over every protocol, all
// answered, until Sluice's log has msg; then more, waiting settle for
// the failure to recur; msg must be in the log once, with cause.
func reportedOnce(t *testing.T, f *mwFixture, msg, cause string, settle time.Duration) {
	t.Helper()
	var cases []mwCase
	for i := range 5 {
		cases = append(cases, mwCase{name: fmt.Sprint("request ", i), host: "app.example", path: fmt.Sprint("/", i), status: 200})
	}
	f.run(t, cases)
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(f.p.log(), msg) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	f.run(t, cases)
	time.Sleep(settle)
	log := f.p.log()
	if n := strings.Count(log, msg); n != 1 || !strings.Contains(log, cause) {
		t.Errorf("%d reports %q, want 1 naming %q:\n%s", n, msg, cause, log)
	}
}
