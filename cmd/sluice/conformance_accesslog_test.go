package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// accessLogVolatile are the fields that differ between two runs of one
// request: times, durations, the client's port, the request count.
var accessLogVolatile = map[string]bool{"StartUTC": true, "StartLocal": true, "time": true, "Duration": true,
	"OriginDuration": true, "Overhead": true, "ClientPort": true, "ClientAddr": true, "RequestCount": true}

// TestConformanceAccessLog (make conformance): the corpus's plain
// requests, each named by an X-Log-Case header, sent to Traefik and to
// Sluice; each proxy's JSON access log line for it must have the same
// fields with the same values, but for times, durations, the client's
// port and the request count.
func TestConformanceAccessLog(t *testing.T) {
	if os.Getenv("SLUICE_CONFORMANCE") != "1" {
		t.Skip("set SLUICE_CONFORMANCE=1 (make conformance) to compare Sluice with the real Traefik")
	}
	env := startConformance(t)
	var sent []string
	for _, cs := range corpus {
		for _, req := range cs.requests {
			if req.raw != "" || req.during != nil || req.repeat > 1 || req.random || req.upgrade || req.authority != "" || req.cookie != "" {
				continue
			}
			id := strconv.Itoa(len(sent))
			h := map[string]string{"X-Log-Case": id}
			for k, v := range req.header {
				h[k] = v
			}
			req.header = h
			for _, p := range []string{"oracle", "sluice"} {
				env.send(t, p, req)
			}
			sent = append(sent, cs.name+": "+describeReq(req))
		}
	}
	time.Sleep(time.Second) // Sluice flushes within FlushDelay
	oracle, sluice := accessLines(t, env, "oracle"), accessLines(t, env, "sluice")
	var rows []string
	agree := 0
	for i, what := range sent {
		o, s := oracle[strconv.Itoa(i)], sluice[strconv.Itoa(i)]
		if diff := diffLines(o, s); diff != "" {
			rows = append(rows, fmt.Sprintf("%s\n    %s", what, diff))
			continue
		}
		agree++
	}
	t.Logf("access log lines: %d of %d agree with Traefik", agree, len(sent))
	for _, r := range rows {
		t.Error(r)
	}
}

// accessLines reads proxy p's access log: each line by its X-Log-Case.
func accessLines(t *testing.T, env *confEnv, p string) map[string]map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(env.logDir, p+"-access.log"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) != nil {
			t.Fatalf("%s: not a JSON line: %q", p, line)
		}
		if id, ok := m["request_X-Log-Case"].(string); ok {
			out[id] = m
		}
	}
	return out
}

// diffLines says how Sluice's line s differs from Traefik's o ("" when it
// does not).
func diffLines(o, s map[string]any) string {
	if o == nil || s == nil {
		return fmt.Sprintf("line missing (Traefik: %v, Sluice: %v)", o != nil, s != nil)
	}
	var d []string
	for k, v := range o {
		if accessLogVolatile[k] {
			if _, ok := s[k]; !ok {
				d = append(d, k+": missing")
			}
			continue
		}
		if sv, ok := s[k]; !ok {
			d = append(d, fmt.Sprintf("%s: missing (Traefik %v)", k, v))
		} else if fmt.Sprint(sv) != fmt.Sprint(v) {
			d = append(d, fmt.Sprintf("%s: %v (Traefik %v)", k, sv, v))
		}
	}
	for k, v := range s {
		if _, ok := o[k]; !ok {
			d = append(d, fmt.Sprintf("%s: %v (not in Traefik's)", k, v))
		}
	}
	sort.Strings(d)
	return strings.Join(d, "; ")
}
