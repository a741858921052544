package accesslog

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestCLFDirect: the common and genericCLF lines written straight from
// the record are the lines appendCLF writes from the gathered fields,
// for records and field modes drawn at random.
func TestCLFDirect(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(s ...string) string { return s[rng.IntN(len(s))] }
	modes := []Mode{Keep, Drop}
	clfKeys := []string{"clienthost", "clientusername", "startutc", "startlocal", "requestmethod", "requestpath",
		"requestprotocol", "downstreamstatus", "downstreamcontentsize", "requestcount", "routername", "serviceurl", "duration"}
	for i := range 2000 {
		cfg := NewConfig()
		cfg.Format = pick(Common, GenericCLF)
		cfg.Fields.DropQuery = rng.IntN(3) == 0
		if rng.IntN(2) == 0 {
			cfg.Fields.DefaultMode = Drop
		}
		cfg.Fields.Names = map[string]Mode{}
		for _, k := range clfKeys {
			if rng.IntN(4) == 0 {
				cfg.Fields.Names[k] = modes[rng.IntN(2)]
			}
		}
		// the formatter alone: no file, no writer goroutine
		l := &Logger{cfg: *cfg, headers: cfg.Fields.wantsHeaders(), keep: keepKeys(&cfg.Fields)}
		r := newRecord()
		r.Start = time.Unix(int64(1.8e9+rng.IntN(1e6)), int64(rng.IntN(1e9)))
		r.Duration = time.Duration(rng.Int64N(int64(5 * time.Second)))
		r.Router, r.ChildRouter = pick("", "ns-a@kubernetescrd", `we"ird`), pick("", "", "child@file")
		if rng.IntN(4) > 0 {
			r.Service, r.ServiceURL = "svc", pick("http://10.0.0.1:80", "", `h"x`)
		}
		r.Status, r.Size, r.count = rng.IntN(600), rng.Int64N(1e6), rng.Uint64N(1e9)
		r.Method = append(r.Method, pick("GET", "", "PURGE")...)
		r.URI = append(r.URI, pick("/", "", "/a%2Fb/{x}?q=1", "http://h:1/p?x", "/?")...)
		r.Proto = append(r.Proto, pick("HTTP/1.1", "", "HTTP/2.0")...)
		r.ClientIP = append(r.ClientIP, pick("10.1.2.3", "2001:db8::1", "")...)
		r.ForwardedFor = append(r.ForwardedFor, pick("", "", "1.2.3.4, 5.6.7.8")...)
		if rng.IntN(2) == 0 {
			r.User, r.UserSet = append(r.User, pick("", "bob")...), true
		}
		common := cfg.Format == Common
		got := string(l.appendCLFDirect(nil, r, common))
		kv, _ := l.fields(r, nil)
		want := string(appendCLF(nil, kv, &l.pos, common))
		if got != want {
			t.Fatalf("case %d (%s, names %v, default %d):\n got %q\nwant %q", i, cfg.Format, cfg.Fields.Names, cfg.Fields.DefaultMode, got, want)
		}
	}
}

// TestNanoClock: the cached second gives time.RFC3339Nano's text, in
// UTC and in a zone with an offset, across second boundaries.
func TestNanoClock(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	zones := []*time.Location{time.UTC, time.FixedZone("x", -(7*3600 + 30*60)), time.FixedZone("y", 5*3600)}
	for _, loc := range zones {
		var c nanoClock
		base := time.Unix(1.8e9, 0)
		for range 5000 {
			ns := []int64{0, 1, 1e8, 123456789, 999999999, rng.Int64N(1e9)}[rng.IntN(6)]
			tm := base.Add(time.Duration(rng.IntN(3))*time.Second + time.Duration(ns)).In(loc)
			if got, want := string(c.rfc3339Nano(nil, tm)), tm.Format(time.RFC3339Nano); got != want {
				t.Fatalf("%v: got %q, want %q", tm, got, want)
			}
		}
	}
}
