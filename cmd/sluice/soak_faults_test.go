package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// soakSample is one reading of the serving process.
type soakSample struct {
	at                    time.Duration
	pid                   int
	rssKiB, fds, routines int
}

// TestBinarySoak runs the soak; see soak_e2e_test.go.
func TestBinarySoak(t *testing.T) {
	d := soakDuration(t)
	log := &soakLog{}
	s1, s2 := soakPair(t, "127.0.0.11", "s1", "127.0.0.12", "s2")
	c1, c2 := soakPair(t, "127.0.0.13", "c1", "127.0.0.14", "c2")
	var kmu sync.Mutex
	k1 := startSoakBackend(t, "127.0.0.15", "k1", 0)
	st := startSoakBackend(t, "127.0.0.16", "st", 0)
	ca := newTestCA(t, "soak CA")
	dir := t.TempDir()
	services := func(churn *soakBackend) {
		write(t, filepath.Join(dir, "services.yaml"), manifests("stable", portOf(s1.addr), ipOf(s1.addr), ipOf(s2.addr))+"---\n"+
			manifests("churn", portOf(churn.addr), ipOf(churn.addr))+"---\n"+manifests("kill", portOf(k1.addr), ipOf(k1.addr))+"---\n"+
			manifests("stall", portOf(st.addr), ipOf(st.addr)))
	}
	secret := func() {
		crt, key := ca.issue(t, "tls.soak", "tls.soak")
		write(t, filepath.Join(dir, "secret.yaml"), tlsSecret("soak-cert", crt, key))
	}
	services(c1)
	secret()
	write(t, filepath.Join(dir, "routes.yaml"), soakRoutes)
	write(t, filepath.Join(dir, "extra.yaml"), soakExtra)

	// Both instances append to one JSON access log, as a takeover on a
	// shared volume does. Its queue is deep enough that a busy CI machine
	// does not make the writer drop lines (counted, as documented): the
	// check is that no answered exchange goes unlogged otherwise.
	accessPath := filepath.Join(t.TempDir(), "access.log")
	start := func() (*sluiceProc, string) {
		probe := fmt.Sprintf("127.0.0.1:%d", freePort(t))
		p := startSluice(t, dir, "--entryPoints.probe.address="+probe, "--metrics.prometheus", "--metrics.prometheus.entryPoint=probe",
			"--log.level=warn", "--accessLog.format=json", "--accessLog.filePath="+accessPath, "--accessLog.bufferingSize=65536")
		deadline := time.Now().Add(10 * time.Second)
		for soakGet(http.DefaultClient, "GET", "http://"+p.addr+"/", "stable.soak", nil, []string{"s1", "s2"}, "") != "" {
			if time.Now().After(deadline) {
				t.Fatalf("the instance does not serve:\n%s", p.log())
			}
			time.Sleep(50 * time.Millisecond)
		}
		return p, probe
	}
	p, probe := start()
	var target soakTarget
	target.set(p.addr)
	var extraPresent presence
	extraPresent.setBool(true)

	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	began := time.Now()
	var wg sync.WaitGroup
	runLoad(ctx, &wg, log, &target, &extraPresent)

	// The schedule: a 20 s cycle of faults, a takeover at half time.
	var samples []soakSample
	var smu sync.Mutex
	sample := func(p *sluiceProc, probe string) {
		smu.Lock()
		defer smu.Unlock()
		samples = append(samples, readSample(t, p, probe, time.Since(began)))
	}
	tookOver := false
	for cycle := 0; ctx.Err() == nil; cycle++ {
		at := func(off time.Duration) bool { // waits until off into the cycle
			wait := began.Add(time.Duration(cycle)*20*time.Second + off).Sub(time.Now())
			select {
			case <-ctx.Done():
				return false
			case <-time.After(wait):
				return true
			}
		}
		if !at(time.Second) {
			break
		}
		sample(p, probe)
		os.Remove(filepath.Join(dir, "extra.yaml")) // a route removed ...
		extraPresent.setBool(false)
		log.window("route removed", time.Now().Add(-time.Second), time.Now().Add(3*time.Second), kindExtra)
		if !at(3 * time.Second) {
			break
		}
		services([]*soakBackend{c2, c1}[cycle%2]) // endpoints churn: no failure may follow
		if !at(5 * time.Second) {
			break
		}
		kmu.Lock()
		down := time.Now()
		k1.srv.Close() // a backend killed ...
		kmu.Unlock()
		if !at(8 * time.Second) {
			break
		}
		kmu.Lock()
		k1 = startSoakBackend(t, ipOf(k1.addr), "k1", portOf(k1.addr)) // ... and restarted
		kmu.Unlock()
		log.window("backend killed", down.Add(-100*time.Millisecond), time.Now().Add(3*time.Second), kindKill)
		if !at(9 * time.Second) {
			break
		}
		st.stall.Store(true) // a backend stalls (2 s an answer) for 4 s: slow, never failed
		if !at(11 * time.Second) {
			break
		}
		sample(p, probe)
		write(t, filepath.Join(dir, "extra.yaml"), soakExtra) // ... and added back
		extraPresent.setBool(true)
		log.window("route added", time.Now().Add(-time.Second), time.Now().Add(3*time.Second), kindExtra)
		if !at(13 * time.Second) {
			break
		}
		st.stall.Store(false)
		secret() // the certificate rotates: no failure may follow
		if !at(15*time.Second) || tookOver || time.Since(began) < d/2 {
			continue
		}
		// A new instance takes over: traffic moves to it, then the old
		// one gets SIGTERM and drains: requests in flight finish (its
		// graceTimeOut is 10 s); a keep-alive connection it closes may
		// fail the request that raced the close; an upgraded connection
		// ends with the process, as in Traefik.
		tookOver = true
		sample(p, probe)
		q, qprobe := start()
		from := time.Now()
		target.set(q.addr)
		p.cmd.Process.Signal(syscall.SIGTERM)
		exited := make(chan struct{})
		go func() { p.cmd.Wait(); close(exited) }()
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			t.Errorf("the old instance did not exit within 20 s of SIGTERM")
		}
		// A request sent to the old instance just before the switch may
		// meet its listener closing (a connection still in the kernel's
		// accept queue is reset) or its idle keep-alive connections being
		// closed as the client reuses one: every proxy that closes its
		// listener on SIGTERM has that race (Traefik with its default
		// requestAcceptGraceTimeout of 0 too), so the window opens 200 ms
		// before the switch.
		log.window("takeover: keep-alive connections closed by the old instance", from.Add(-200*time.Millisecond), time.Now().Add(time.Second), "*")
		log.window("takeover: upgraded connections end with the old process", from.Add(-10*time.Second), time.Now().Add(time.Second), kindWS)
		p, probe = q, qprobe
		sample(p, probe)
	}
	sample(p, probe)
	wg.Wait()
	figures := log.report(t) + "\n" + sampleTable(samples)
	figures += "\n" + checkSoakAccessLog(t, accessPath, log)
	flat(t, samples)
	t.Logf("soak of %v:\n%s", d, figures)
	if out := os.Getenv("SLUICE_SOAK_OUT"); out != "" {
		os.WriteFile(out, []byte(figures), 0o644)
	}
}

// presence is the extra route's presence, as the schedule last wrote it.
type presence struct{ on atomic.Bool }

func (f *presence) setBool(v bool) { f.on.Store(v) }
func (f *presence) get() bool      { return f.on.Load() }

// The loads that faults may fail, named in their windows.
const (
	kindKill  = "GET killed backend"
	kindExtra = "GET added/removed route"
	kindWS    = "WebSocket"
)

// runLoad starts the load's workers; they stop with ctx.
func runLoad(ctx context.Context, wg *sync.WaitGroup, log *soakLog, target *soakTarget, extra *presence) {
	cl := soakClients()
	stable := []string{"s1", "s2"}
	body := make([]byte, 1<<20)
	rand.Read(body)
	worker := func(kind string, pause time.Duration, one func() string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				start := time.Now()
				err := one()
				if ctx.Err() != nil && err != "" {
					return // cut by the end of the run
				}
				log.add(kind, start, err)
				time.Sleep(pause)
			}
		}()
	}
	url := func(scheme, path string) string { return scheme + "://" + target.get() + path }
	for _, k := range []string{"keepalive", "newconn", "h2c"} {
		worker("GET "+k, 5*time.Millisecond, func() string { return soakGet(cl[k], "GET", url("http", "/"), "stable.soak", nil, stable, "") })
	}
	worker("GET tls", 5*time.Millisecond, func() string { return soakGet(cl["tls"], "GET", url("https", "/"), "tls.soak", nil, stable, "") })
	worker("POST 1 MiB", 20*time.Millisecond, func() string {
		return soakGet(cl["keepalive"], "POST", url("http", "/"), "stable.soak", body, stable, "")
	})
	worker("POST 1 MiB h2c", 20*time.Millisecond, func() string { return soakGet(cl["h2c"], "POST", url("http", "/"), "stable.soak", body, stable, "") })
	worker("stream 4 MiB", 20*time.Millisecond, func() string {
		return soakGet(cl["keepalive"], "GET", url("http", "/stream"), "stable.soak", nil, nil, streamSum)
	})
	worker("stream slow reader", 0, func() string { return slowRead(target.get()) })
	worker("GET churned endpoints", 5*time.Millisecond, func() string {
		return soakGet(cl["keepalive"], "GET", url("http", "/"), "churn.soak", nil, []string{"c1", "c2"}, "")
	})
	worker(kindKill, 5*time.Millisecond, func() string {
		return soakGet(cl["keepalive"], "GET", url("http", "/"), "kill.soak", nil, []string{"k1"}, "")
	})
	worker("GET stalling backend", 5*time.Millisecond, func() string {
		return soakGet(cl["keepalive"], "GET", url("http", "/"), "stall.soak", nil, []string{"st"}, "")
	})
	worker(kindExtra, 5*time.Millisecond, func() string {
		want := extra.get()
		err := soakGet(cl["keepalive"], "GET", url("http", "/"), "extra.soak", nil, stable, "")
		switch {
		case want && err == "", !want && err == "status 404":
			return ""
		case err == "":
			return "served while removed"
		}
		return err
	})
	worker(kindWS, 50*time.Millisecond, func() string { return upgradeEcho(target.get()) })
}

// slowRead fetches /stream reading 64 KiB every 50 ms (about 1.3 MB/s).
func slowRead(addr string) string {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "dial: " + err.Error()
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprint(c, "GET /stream HTTP/1.1\r\nHost: stable.soak\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReaderSize(c, 64<<10), nil)
	if err != nil {
		return "transport: " + err.Error()
	}
	defer resp.Body.Close()
	h := sha256.New()
	buf := make([]byte, 64<<10)
	for {
		n, err := resp.Body.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return "body cut: " + err.Error()
		}
		time.Sleep(50 * time.Millisecond)
	}
	if hex.EncodeToString(h.Sum(nil)) != streamSum {
		return "stream checksum differs"
	}
	return ""
}

// upgradeEcho upgrades a connection and exchanges five lines through it.
func upgradeEcho(addr string) string {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "dial: " + err.Error()
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprint(c, "GET /ws HTTP/1.1\r\nHost: stable.soak\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		return fmt.Sprintf("upgrade: %v %v", resp, err)
	}
	for i := 0; i < 5; i++ {
		fmt.Fprintf(c, "line %d\n", i)
		got, err := br.ReadString('\n')
		if err != nil {
			return "echo: " + err.Error()
		}
		if !strings.HasSuffix(got, fmt.Sprintf(" line %d\n", i)) || !(strings.HasPrefix(got, "s1 ") || strings.HasPrefix(got, "s2 ")) {
			return "MISROUTED echo " + strconv.Quote(got)
		}
	}
	return ""
}

// readSample reads p's RSS, open descriptors and goroutines.
func readSample(t *testing.T, p *sluiceProc, probe string, at time.Duration) soakSample {
	s := soakSample{at: at.Round(time.Second), pid: p.cmd.Process.Pid, rssKiB: rssKiB(t, p)}
	if fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.pid)); err == nil {
		s.fds = len(fds)
	}
	s.routines = goroutines(t, probe)
	return s
}

func sampleTable(ss []soakSample) string {
	var b strings.Builder
	b.WriteString("| at | instance | RSS MiB | descriptors | goroutines |\n|---|---|---|---|---|\n")
	for _, s := range ss {
		fmt.Fprintf(&b, "| %v | %d | %.1f | %d | %d |\n", s.at, s.pid, float64(s.rssKiB)/1024, s.fds, s.routines)
	}
	return b.String()
}

// flat: per instance, from its second sample (after warm-up) to its last,
// RSS grows by less than 64 MiB, descriptors and goroutines by less than
// 200 (the load holds a few dozen connections; a leak per request would
// pass these within seconds).
func flat(t *testing.T, ss []soakSample) {
	by := map[int][]soakSample{}
	for _, s := range ss {
		by[s.pid] = append(by[s.pid], s)
	}
	for pid, s := range by {
		if len(s) < 3 {
			continue
		}
		first, last := s[1], s[len(s)-1]
		if last.rssKiB-first.rssKiB > 64<<10 || last.fds-first.fds > 200 || last.routines-first.routines > 200 {
			t.Errorf("instance %d grew from %+v to %+v", pid, first, last)
		}
	}
}
