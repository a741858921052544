package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/compile"
	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/fastpath"
	"github.com/sluiceproxy/sluice/fastpath/route"
	"github.com/sluiceproxy/sluice/fastpath/service"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
	"github.com/sluiceproxy/sluice/watch"
)

type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

// routeCmd prints which router a request would hit, without serving.
func routeCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("route", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("manifests", "", "manifests directory")
	ep := fs.String("entrypoint", "web", "entry point name")
	remote := fs.String("remote-addr", "127.0.0.1:12345", "client address")
	output := fs.String("output", "text", "text or json")
	var hdrs headerFlags
	fs.Var(&hdrs, "H", "request header 'K: V' (repeatable)")
	if err := fs.Parse(args); err != nil || fs.NArg() != 2 || *dir == "" {
		fmt.Fprint(stderr, usage)
		return 2
	}
	method, target := fs.Arg(0), fs.Arg(1)
	m := &watch.Manifests{Dir: *dir}
	snap, diags, err := m.Load()
	if err != nil {
		fmt.Fprintln(stderr, "sluice route:", err)
		return 2
	}
	t, _ := compile.Compile(snap, compile.Options{EntryPoints: []string{*ep}, Upstreams: upstream.NewRegistry(upstream.Options{})})
	var tp atomic.Pointer[route.Table]
	tp.Store(t)
	ctx, err := requestCtx(method, target, hdrs, *remote)
	if err != nil {
		fmt.Fprintln(stderr, "sluice route:", err)
		return 2
	}
	h := fastpath.NewHandler(&tp, fastpath.Config{EntryPoint: *ep})
	r, cands, status := h.Resolve(ctx)
	res := explain(r, cands, status, *ep)
	res.Diagnostics = len(diags)
	if *output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(res)
	} else {
		printExplain(stdout, res)
	}
	if r == nil {
		return 1
	}
	return 0
}

func requestCtx(method, target string, hdrs []string, remote string) (*fasthttp.RequestCtx, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	addr, err := net.ResolveTCPAddr("tcp", remote)
	if err != nil {
		return nil, fmt.Errorf("--remote-addr: %w", err)
	}
	var req fasthttp.Request
	req.Header.SetMethod(method)
	uri := u.RequestURI()
	if u.RawPath == "" && u.Opaque == "" {
		uri = strings.TrimPrefix(target, u.Scheme+"://"+u.Host)
		if uri == "" {
			uri = "/"
		}
	}
	req.SetRequestURI(uri)
	req.Header.SetHost(u.Host)
	for _, h := range hdrs {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			return nil, fmt.Errorf("-H %q: want 'Key: Value'", h)
		}
		req.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	ctx := &fasthttp.RequestCtx{}
	ctx.Init(&req, addr, nil)
	return ctx, nil
}

type explained struct {
	Status      int      `json:"status"`
	EntryPoint  string   `json:"entryPoint"`
	Router      string   `json:"router,omitempty"`
	Rule        string   `json:"rule,omitempty"`
	Priority    int64    `json:"priority,omitempty"`
	Source      string   `json:"source,omitempty"`
	Service     string   `json:"service,omitempty"`
	Servers     []string `json:"servers,omitempty"`
	Why         string   `json:"why"`
	Considered  []string `json:"considered,omitempty"`
	Diagnostics int      `json:"manifestDiagnostics"`
}

func explain(r *route.Route, cands []*route.Cand, status int, ep string) explained {
	e := explained{Status: status, EntryPoint: ep}
	for _, c := range cands {
		e.Considered = append(e.Considered, fmt.Sprintf("%s priority=%d %s", c.Route.Name, c.Route.Priority, c.Route.Rule))
		if c.Route == r {
			break
		}
	}
	switch {
	case status == 400:
		e.Why = "malformed request (Traefik answers 400)"
	case r == nil && len(cands) == 0:
		e.Why = "404: no router on this entry point is indexed for this host and path"
	case r == nil:
		e.Why = fmt.Sprintf("404: %d candidate router(s) for this host and path, none whose rule holds", len(cands))
	default:
		e.Router, e.Rule, e.Priority, e.Source, e.Service = r.Name, r.Rule, r.Priority, r.Source, r.Service
		if r.Target != nil {
			r.Target.EachLoadBalancer(func(lb *service.LoadBalancer) {
				for _, s := range lb.Servers().Servers {
					e.Servers = append(e.Servers, s.URL)
				}
			})
		}
		e.Why = "first router in priority order whose rule holds"
		if len(e.Servers) == 0 {
			e.Status, e.Why = 503, e.Why+"; its service has no server (503)"
		}
	}
	return e
}

func printExplain(w io.Writer, e explained) {
	fmt.Fprintf(w, "status:     %d\nentrypoint: %s\n", e.Status, e.EntryPoint)
	if e.Router != "" {
		fmt.Fprintf(w, "router:     %s\nrule:       %s\npriority:   %d\nsource:     %s\nservice:    %s\n", e.Router, e.Rule, e.Priority, e.Source, e.Service)
		for _, s := range e.Servers {
			fmt.Fprintf(w, "server:     %s\n", s)
		}
	}
	fmt.Fprintf(w, "why:        %s\n", e.Why)
	for _, c := range e.Considered {
		fmt.Fprintf(w, "considered: %s\n", c)
	}
}

// checkCmd prints every diagnostic, and routes that can never win.
func checkCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	m := &watch.Manifests{Dir: args[0]}
	snap, diags, err := m.Load()
	if err != nil {
		fmt.Fprintln(stderr, "sluice check:", err)
		return 2
	}
	eps := entryPointsOf(snap)
	t, cdiags := compile.Compile(snap, compile.Options{EntryPoints: eps, Upstreams: upstream.NewRegistry(upstream.Options{})})
	all := append(append(diags, cdiags...), compile.Shadowed(t)...)
	errs := 0
	for _, d := range all {
		if d.Severity == model.Error {
			errs++
		}
		fmt.Fprintln(stdout, d.String())
	}
	fmt.Fprintf(stdout, "%d routers, %d errors, %d warnings\n", len(t.Routes), errs, len(all)-errs)
	if errs > 0 {
		return 1
	}
	return 0
}

// entryPointsOf lists every entry point the IngressRoutes name, plus "web"
// for those that name none, so check sees every route.
func entryPointsOf(snap *model.Snapshot) []string {
	seen := map[string]bool{"web": true}
	out := []string{"web"}
	for _, ir := range snap.IngressRoutes {
		for _, e := range ir.Spec.EntryPoints {
			if !seen[e] {
				seen[e] = true
				out = append(out, e)
			}
		}
	}
	return out
}
