package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
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
	"github.com/sluiceproxy/sluice/watch/acme"
)

type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

// routeCmd prints which router a request would hit, without serving: the
// data plane's own pre-routing and lookup on the compiled table, and, for
// routers the compiler left out, which would have matched and why it is
// disabled.
func routeCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("route", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("manifests", "", "manifests directory")
	ep := fs.String("entrypoint", "web", "entry point name")
	syntax := fs.String("default-rule-syntax", "v3", "rule syntax of routes without one (--core.defaultRuleSyntax): v2 or v3")
	remote := fs.String("remote-addr", "127.0.0.1:12345", "client address")
	output := fs.String("output", "text", "text or json")
	sni := fs.String("sni", "", "resolve as a TLS request with this server name (an https:// target is TLS, with its host as the name)")
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
	res := compile.Build(snap, compile.Options{EntryPoints: []string{*ep}, Upstreams: upstream.NewRegistry(upstream.Options{}),
		DefaultRuleSyntax: *syntax})
	var tp atomic.Pointer[route.Table]
	tp.Store(res.Table)
	ctx, err := requestCtx(method, target, hdrs, *remote)
	if err != nil {
		fmt.Fprintln(stderr, "sluice route:", err)
		return 2
	}
	h := fastpath.NewHandler(&tp, fastpath.Config{EntryPoint: *ep})
	shadow, reasons := shadowTable(*ep, res.Disabled)
	var e explained
	conn, hs := handshake(res.Table, *sni, target)
	if hs != nil && conn == nil {
		e = explained{Status: 0, EntryPoint: *ep, Why: "the TLS handshake fails: " + hs.Result}
	} else {
		e = explain(h.Resolve(ctx, shadow, conn), reasons, *ep)
	}
	e.TLS = hs
	if e.Status == 421 {
		e.Why = fmt.Sprintf("421 Misdirected Request: the router's TLS option is %s, the connection's (chosen by its server name) %s",
			e.routeOption, conn.Option)
	}
	e.Diagnostics = len(diags) + len(res.Diags)
	if *output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(e)
	} else {
		printExplain(stdout, e)
	}
	if e.Router == "" {
		return 1
	}
	return 0
}

// shadowTable indexes the routers left out of the table on entry point
// ep, with the reason of each. (A disabled child router, on no entry
// point of its own, is not placed: its parent's rule is not in it.)
func shadowTable(ep string, disabled []compile.Disabled) (*route.Table, map[*route.Route]string) {
	b := route.NewBuilder([]string{ep})
	reasons := map[*route.Route]string{}
	for _, d := range disabled {
		if slices.Contains(d.Route.EntryPoints, ep) {
			r := *d.Route
			b.Add(&r, append([]route.Entry(nil), d.Entries...))
			reasons[&r] = d.Reason
		}
	}
	return b.Build(), reasons
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
	ReadAs      string   `json:"readAs,omitempty"` // a v2 rule's v3 reading
	Priority    int64    `json:"priority,omitempty"`
	Source      string   `json:"source,omitempty"`
	Middlewares []string `json:"middlewares,omitempty"`
	Service     string   `json:"service,omitempty"`
	Tree        string   `json:"serviceTree,omitempty"` // the service graph, one node a line
	Servers     []string `json:"servers,omitempty"`
	Child       string   `json:"childRouter,omitempty"`
	// Disabled is a router left out of the table that would have matched
	// the request first, and DisabledWhy the reason it is left out.
	Disabled    string   `json:"disabledRouter,omitempty"`
	DisabledWhy string   `json:"disabledReason,omitempty"`
	Why         string   `json:"why"`
	Considered  []string `json:"considered,omitempty"`
	Diagnostics int      `json:"diagnostics"`
	// TLS is what the handshake would be, for a TLS request.
	TLS         *handshakeInfo `json:"tls,omitempty"`
	routeOption string
}

func explain(res fastpath.Resolution, reasons map[*route.Route]string, ep string) explained {
	r := res.Route
	e := explained{Status: res.Status, EntryPoint: ep}
	for _, c := range res.Candidates {
		e.Considered = append(e.Considered, fmt.Sprintf("%s priority=%d %s", c.Route.Name, c.Route.Priority, c.Route.Rule))
		if c.Route == r {
			break
		}
	}
	if s := res.Shadow; s != nil && (r == nil || route.Less(s, r)) {
		e.Disabled, e.DisabledWhy = fmt.Sprintf("%s priority=%d %s", s.Name, s.Priority, s.Rule), reasons[s]
	}
	switch {
	case res.Status == 400:
		e.Why = "malformed request (Traefik answers 400)"
	case r == nil && e.Disabled != "":
		e.Why = "404: the router that would match is disabled"
	case r == nil && len(res.Candidates) == 0:
		e.Why = "404: no router on this entry point is indexed for this host and path"
	case r == nil:
		e.Why = fmt.Sprintf("404: %d candidate router(s) for this host and path, none whose rule holds", len(res.Candidates))
	default:
		e.describe(r, res.Child)
	}
	return e
}

// describe fills in the router that serves, or its child for a parent.
func (e *explained) describe(r, child *route.Route) {
	e.Router, e.Rule, e.Priority, e.Source, e.Middlewares = r.Name, r.Rule, r.Priority, r.Source, r.Middlewares
	e.ReadAs = r.ReadAs
	if r.TLS != nil {
		e.routeOption = r.TLS.Option
	}
	e.Why = "first router in priority order whose rule holds"
	serving := r
	if len(r.Children) > 0 {
		if child == nil {
			e.Status, e.Why = 404, e.Why+"; a parent router, and none of its child routers matches (404)"
			return
		}
		e.Child = fmt.Sprintf("%s priority=%d %s", child.Name, child.Priority, child.Rule)
		e.Why += "; a parent router: its child router serves (as the request arrives; the parent's middlewares may change it)"
		serving = child
	}
	e.Service = serving.Service
	if serving.Target == nil {
		return
	}
	e.Tree = service.Describe(serving.Target, "")
	serving.Target.EachLoadBalancer(func(lb *service.LoadBalancer) {
		for _, s := range lb.Servers().Servers {
			e.Servers = append(e.Servers, s.URL)
		}
	})
	if len(e.Servers) == 0 && !strings.Contains(e.Tree, "internal ") {
		e.Status, e.Why = 503, e.Why+"; its service has no server (503)"
	}
}

func printExplain(w io.Writer, e explained) {
	fmt.Fprintf(w, "status:     %d\nentrypoint: %s\n", e.Status, e.EntryPoint)
	if t := e.TLS; t != nil {
		fmt.Fprintf(w, "tls:        server name %q: %s\n", t.ServerName, t.Result)
		if t.Certificate != "" {
			fmt.Fprintf(w, "            certificate %s\n            option %s\n", t.Certificate, t.Option)
		}
	}
	if e.Router != "" {
		fmt.Fprintf(w, "router:     %s\nrule:       %s\n", e.Router, e.Rule)
		if e.ReadAs != "" {
			fmt.Fprintf(w, "syntax:     v2, matched as %s\n", e.ReadAs)
		}
		fmt.Fprintf(w, "priority:   %d\nsource:     %s\n", e.Priority, e.Source)
		if len(e.Middlewares) > 0 {
			fmt.Fprintf(w, "middlewares: %s\n", strings.Join(e.Middlewares, ", "))
		}
		if e.Child != "" {
			fmt.Fprintf(w, "child:      %s\n", e.Child)
		}
		if e.Service != "" {
			fmt.Fprintf(w, "service:    %s\n", e.Service)
		}
		for _, line := range strings.Split(e.Tree, "\n") {
			if line != "" {
				fmt.Fprintf(w, "            %s\n", line)
			}
		}
	}
	if e.Disabled != "" {
		fmt.Fprintf(w, "disabled:   %s\n            would match first, but is not served: %s\n", e.Disabled, e.DisabledWhy)
	}
	fmt.Fprintf(w, "why:        %s\n", e.Why)
	for _, c := range e.Considered {
		fmt.Fprintf(w, "considered: %s\n", c)
	}
}

// checkCmd prints every diagnostic, and routes that can never win; with
// static options after DIR, it compiles as the proxy would with them and
// says what each ACME resolver will request, and why a name cannot be
// issued.
func checkCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) < 1 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(stderr, usage)
		return 2
	}
	m := &watch.Manifests{Dir: args[0]}
	snap, diags, err := m.Load()
	if err != nil {
		fmt.Fprintln(stderr, "sluice check:", err)
		return 2
	}
	cfg := &config{}
	if len(args) > 1 {
		if cfg, err = parseConfig(args[1:]); err != nil {
			fmt.Fprintln(stderr, "sluice check:", err)
			return 2
		}
	}
	opts := compileOptions(cfg, upstream.NewRegistry(upstream.Options{}))
	if len(args) == 1 {
		opts = compile.Options{EntryPoints: entryPointsOf(snap), Upstreams: opts.Upstreams}
	}
	t, cdiags := compile.Compile(snap, opts)
	all := append(append(diags, cdiags...), compile.Shadowed(t)...)
	errs, warns := 0, 0
	for _, d := range all {
		if d.Severity == model.Error {
			errs++
		} else {
			warns++
		}
		fmt.Fprintln(stdout, d.String())
	}
	var resolvers []acme.ResolverConfig
	for _, r := range cfg.Resolvers {
		resolvers = append(resolvers, *r)
	}
	lines, ok := acme.Explain(resolvers, t, opts.EntryPoints)
	for i, l := range lines {
		if !ok[i] {
			warns++
			l = "warning: " + l
		}
		fmt.Fprintln(stdout, l)
	}
	fmt.Fprintf(stdout, "%d routers, %d errors, %d warnings\n", len(t.Routes), errs, warns)
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
