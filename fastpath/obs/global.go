package obs

import (
	"bufio"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
)

// Global is the process-wide series: open connections per entry point and
// protocol, configuration reloads, certificates' expiry, and Sluice's
// own.
type Global struct {
	ReloadsTotal      atomic.Uint64
	LastReloadSuccess atomic.Int64 // Unix seconds of the last table published
	TablePublishes    atomic.Uint64
	CompileNanos      atomic.Uint64   // sum of compile times
	Diagnostics       [2]atomic.Int64 // of the last table: errors, warnings

	// OpenConns reports the open client connections of each entry point
	// (traefik_open_connections{entrypoint,protocol="TCP"}, as Traefik
	// counts the connections of its HTTP entry points).
	OpenConns func() map[string]int
	// AccessLogDropped counts the access log lines dropped because its
	// queue was full (nil: no access log).
	AccessLogDropped func() uint64
	// Own are more of Sluice's series, each read when exposed; set before
	// the registry is first exposed.
	Own []Series

	mu    sync.Mutex
	certs []Cert
}

// Series is one unlabelled series read when exposed.
type Series struct {
	Name, Help, Type string // Type: counter or gauge
	Value            func() float64
}

// Cert is one certificate of the TLS store, for traefik_tls_certs_not_after.
type Cert struct {
	CN, Serial, SANs string
	NotAfter         int64 // Unix seconds
}

// SetCerts replaces the certificates reported.
func (g *Global) SetCerts(c []Cert) {
	g.mu.Lock()
	g.certs = c
	g.mu.Unlock()
}

func (g *Global) write(b *bufio.Writer) {
	b.WriteString("# HELP traefik_config_reloads_total Config reloads\n# TYPE traefik_config_reloads_total counter\n")
	b.WriteString("traefik_config_reloads_total " + strconv.FormatUint(g.ReloadsTotal.Load(), 10) + "\n")
	b.WriteString("# HELP traefik_config_last_reload_success Last config reload success\n# TYPE traefik_config_last_reload_success gauge\n")
	b.WriteString("traefik_config_last_reload_success " + strconv.FormatInt(g.LastReloadSuccess.Load(), 10) + "\n")
	g.mu.Lock()
	certs := g.certs
	g.mu.Unlock()
	b.WriteString("# HELP traefik_open_connections How many open connections exist, by entryPoint and protocol\n# TYPE traefik_open_connections gauge\n")
	if g.OpenConns != nil {
		conns := g.OpenConns()
		eps := make([]string, 0, len(conns))
		for ep := range conns {
			eps = append(eps, ep)
		}
		sort.Strings(eps)
		for _, ep := range eps {
			b.WriteString(`traefik_open_connections{entrypoint="` + escape(ep) + `",protocol="TCP"} ` + strconv.Itoa(conns[ep]) + "\n")
		}
	}
	b.WriteString("# HELP traefik_tls_certs_not_after Certificate expiration timestamp\n# TYPE traefik_tls_certs_not_after gauge\n")
	for _, c := range certs {
		b.WriteString(`traefik_tls_certs_not_after{cn="` + escape(c.CN) + `",sans="` + escape(c.SANs) + `",serial="` + escape(c.Serial) + `"} ` +
			strconv.FormatInt(c.NotAfter, 10) + "\n")
	}
	b.WriteString("# HELP sluice_table_publishes_total Routing tables published.\n# TYPE sluice_table_publishes_total counter\n")
	b.WriteString("sluice_table_publishes_total " + strconv.FormatUint(g.TablePublishes.Load(), 10) + "\n")
	b.WriteString("# HELP sluice_compile_seconds_total Time spent compiling routing tables.\n# TYPE sluice_compile_seconds_total counter\n")
	b.WriteString("sluice_compile_seconds_total " + strconv.FormatFloat(fmtSeconds(g.CompileNanos.Load()), 'g', -1, 64) + "\n")
	if g.AccessLogDropped != nil {
		b.WriteString("# HELP sluice_accesslog_dropped_total Access log lines dropped because the writer fell behind.\n# TYPE sluice_accesslog_dropped_total counter\n")
		b.WriteString("sluice_accesslog_dropped_total " + strconv.FormatUint(g.AccessLogDropped(), 10) + "\n")
	}
	for _, s := range g.Own {
		b.WriteString("# HELP " + s.Name + " " + s.Help + "\n# TYPE " + s.Name + " " + s.Type + "\n")
		b.WriteString(s.Name + " " + strconv.FormatFloat(s.Value(), 'g', -1, 64) + "\n")
	}
	b.WriteString("# HELP sluice_diagnostics Diagnostics of the last table, by severity.\n# TYPE sluice_diagnostics gauge\n")
	b.WriteString(`sluice_diagnostics{severity="error"} ` + strconv.FormatInt(g.Diagnostics[0].Load(), 10) + "\n")
	b.WriteString(`sluice_diagnostics{severity="warning"} ` + strconv.FormatInt(g.Diagnostics[1].Load(), 10) + "\n")
}
