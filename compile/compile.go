package compile

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/compile/rule"
	"github.com/sluiceproxy/sluice/fastpath/obs"
	"github.com/sluiceproxy/sluice/fastpath/pipeline"
	"github.com/sluiceproxy/sluice/fastpath/route"
	"github.com/sluiceproxy/sluice/fastpath/service"
	"github.com/sluiceproxy/sluice/fastpath/tlsconf"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// MaxPriority is the largest user priority Traefik accepts (MaxInt64-1000).
const MaxPriority = math.MaxInt64 - 1000

// Options are the provider options that change the compiled table.
type Options struct {
	EntryPoints         []string // entry point names, in serving order
	DefaultEntryPoints  []string // asDefault ones; routes without entryPoints attach to these, or to all if none
	AllowCrossNamespace bool
	// DefaultRuleSyntax is --core.defaultRuleSyntax: "v2" reads the rules
	// of routes without a syntax field with Traefik v2's matchers.
	DefaultRuleSyntax            string
	AllowExternalNameServices    bool
	AllowEmptyServices           bool
	NativeLBByDefault            bool
	DisableClusterScopeResources bool // no Node lookups: nodePortLB fails
	IngressClass                 string
	Namespaces                   []string           // watched namespaces (all if empty); services elsewhere are errors
	Upstreams                    *upstream.Registry // endpoints by address; a fresh one if nil
	// MirrorSlots bounds the mirror copies in flight, across tables; one
	// of 256 is made per Compiler if nil.
	MirrorSlots chan struct{}
	// CrossProviderNamespaces is Traefik's crossProviderNamespaces: the
	// namespaces whose objects may make cross-provider references
	// ("name@provider"); nil allows all, an empty list none.
	CrossProviderNamespaces []string
	// Internal are the @internal services the process serves itself
	// (ping@internal when ping is on), by name; noop@internal is built in.
	Internal map[string]service.Service
	// DefaultTransport is the static serversTransport (Traefik's
	// --serversTransport.*): services without a ServersTransport of their
	// own, and those naming default@internal, use it. nil: Go's defaults.
	DefaultTransport *upstream.TransportConfig
	// SPIFFE builds SPIFFE mutual TLS for ServersTransports with spiffe
	// (Traefik's --spiffe.workloadAPIAddr); nil: none configured.
	SPIFFE upstream.SPIFFEConfig
	// EntryPointTLS are the entry points with http.tls, by name.
	EntryPointTLS map[string]EntryPointTLS
	// EntryPointModels are the other entry points Traefik gives a model:
	// those with http.middlewares or observability options, and every one
	// when --core.defaultRuleSyntax is given. A router on several entry
	// points is named "<entrypoint>-<name>" on each of them (as on the
	// EntryPointTLS ones).
	EntryPointModels map[string]bool
	// EntryPointTraceDetailed are the entry points with
	// observability.traceVerbosity=detailed: their routers without a
	// verbosity of their own trace in detail there.
	EntryPointTraceDetailed map[string]bool
	// TraceMiddlewares wraps every traceable middleware so that a router
	// tracing in detail gets a span per middleware (--tracing is on).
	TraceMiddlewares bool
	// Redirections are the entry points' http.redirections.entryPoint.
	Redirections []Redirection
	// EntryPointMiddlewares are the entry points' http.middlewares, by
	// entry point: "<namespace>-<name>@kubernetescrd".
	EntryPointMiddlewares map[string][]string
	// TicketKeys seal TLS session tickets for every table; nil: each
	// table's configurations have Go's own keys.
	TicketKeys *tlsconf.TicketKeys
	// TicketSecret ("namespace/name"), when set, is the Secret whose
	// session-ticket-keys set TicketKeys: replicas reading the same
	// Secret resume each other's TLS sessions.
	TicketSecret string
	Logger       *slog.Logger // for health-check transitions; slog.Default() if nil
	// ACMECertificates are the certificates the ACME resolvers hold, added
	// to the TLS store after the Secrets' (nil: none).
	ACMECertificates func() []*tlsconf.Cert
	// ACMEChallengeCert answers TLS-ALPN-01 validations (nil: none).
	ACMEChallengeCert func(serverName string) *tls.Certificate
	// Metrics gives each router and service of a table its handles
	// (nil: metrics off); handles of routers and services the table no
	// longer has are dropped.
	Metrics *obs.Registry
	// AccessLogInternals is --accesslog.addInternals: routers to
	// @internal services are logged too; TracingInternals,
	// --tracing.addInternals, traced.
	AccessLogInternals, TracingInternals bool
}

func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.Default()
	}
	return o.Logger
}

type compiler struct {
	snap            *model.Snapshot
	opts            Options
	services        map[string]*model.Service
	traefikServices map[string]*model.TraefikService
	transports      map[string]*model.ServersTransport
	middlewares     map[string]*model.Middleware
	ingressRoutes   map[string]*model.IngressRoute
	// By Traefik id, Normalize(namespace-name), for "<id>@kubernetescrd".
	tsByID      map[string]*model.TraefikService
	stByID      map[string]*model.ServersTransport
	mwByID      map[string]*model.Middleware
	secrets     map[string]*model.Secret
	configMaps  map[string]*model.ConfigMap
	transport   *upstream.TransportConfig // of the service being built
	slices      map[string][]*model.EndpointSlice
	diags       []model.Diagnostic
	file        string                // file of the object being compiled
	generated   *tlsconf.ACMEDefault  // TLSStore default's defaultGeneratedCert, if any
	refs        map[string]bool       // ns/name of every Service a route references
	bindings    map[string][]*binding // ns/name -> route services built from its EndpointSlices
	bound       *binding              // set by endpointServers for the service being built
	deps        []dep                 // Services read while compiling the current IngressRoute
	lists       serverLists           // server lists shared by route services of one Service port
	oneRefs     map[string]bool       // compileOne's refs and bindings, cleared for each IngressRoute
	oneBindings map[string][]*binding
	disabled    []Disabled            // routes left out of the table (Result.Disabled)
	mwBuilt     map[builtKey]*builtMW // each Middleware object, built once per table (per scope if stateful)
	scope       string                // the router, service or entry point being built (mwstate.go)
	states      map[stateKey]any      // stateful middlewares' states of this table
	prevStates  map[stateKey]any      // the previous Build's
	irStates    []stateEntry          // the states the current IngressRoute's compile used
}

// Result is a compiled table with its diagnostics and the handle that
// applies later EndpointSlice changes to it in place.
type Result struct {
	Table     *route.Table
	Diags     []model.Diagnostic
	Endpoints *Endpoints
	// Disabled are the routes whose rule parsed but which are not served,
	// with the reason: what `sluice route` explains a 404 with.
	Disabled []Disabled
}

// Disabled is a route left out of the table: a copy of it without a
// handler, its entries, and why.
type Disabled struct {
	Route   *route.Route
	Entries []route.Entry
	Reason  string
}

// disable records a route left out of the table, copied: the route and
// entries may be cached and reused by the next Build.
func (c *compiler) disable(r *route.Route, entries []route.Entry, reason string) {
	cp := *r
	cp.Handler, cp.Target, cp.Children = nil, nil, nil
	c.disabled = append(c.disabled, Disabled{Route: &cp, Entries: append([]route.Entry(nil), entries...), Reason: reason})
}

// Compiler compiles successive snapshots with the same options. Not safe
// for concurrent use.
type Compiler struct {
	opts   Options
	states map[stateKey]any // the last Build's stateful middleware states
	cache  map[*model.IngressRoute]*irResult
	certs  map[*model.Secret]certEntry // parsed certificates, by Secret as seen
}

// NewCompiler returns a compiler for opts.
func NewCompiler(opts Options) *Compiler {
	if opts.Upstreams == nil {
		opts.Upstreams = upstream.NewRegistry(upstream.Options{})
	}
	if opts.MirrorSlots == nil {
		opts.MirrorSlots = make(chan struct{}, 256)
	}
	return &Compiler{opts: opts}
}

// Compile builds the routing table of snap. It never fails as a whole: bad
// objects and routes are left out and reported.
func Compile(snap *model.Snapshot, opts Options) (*route.Table, []model.Diagnostic) {
	r := Build(snap, opts)
	diags := append(r.Diags, Overlaps(r.Table)...)
	sortDiags(diags)
	return r.Table, diags
}

// Build is Compile keeping the endpoint bindings (see Endpoints.Update),
// without the overlap analysis: a server publishes the table first and
// runs Overlaps on it afterwards, as it only yields warnings.
func Build(snap *model.Snapshot, opts Options) *Result {
	return NewCompiler(opts).Build(snap)
}

// Build compiles snap. IngressRoutes seen by the previous Build of this
// Compiler, with the same object and the same Services and EndpointSlices
// behind their services, are not compiled again: their routes are reused.
func (cc *Compiler) Build(snap *model.Snapshot) *Result {
	opts := cc.opts
	c := newCompiler(snap, opts)
	c.prevStates = cc.states
	c.keptObjects()
	b := route.NewBuilder(opts.EntryPoints)
	tlsOpts := c.tlsOptions()
	all, closed := c.resolveTLS(c.entryPointModels(cc.routes(c, snap)), tlsOpts)
	c.routerTree(b, all)
	c.redirections(b)
	c.entryPointMiddlewares(b)
	t := b.Build()
	c.ticketKeys()
	t.TLS = c.tlsSet(t, tlsOpts, cc.store(c), closed)
	keepEndpoints(t, opts.Upstreams)
	inheritObservability(t.Routes)
	metricHandles(t, opts.Metrics)
	closeDropped(cc.states, c.states)
	cc.states = c.states
	sortDiags(c.diags)
	return &Result{Table: t, Diags: c.diags, Disabled: c.disabled, Endpoints: &Endpoints{opts: opts, refs: c.refs, bindings: c.bindings}}
}

// metricHandles hangs the routers' and services' metrics handles on the
// routes of t (children included), and drops the others' from reg.
func metricHandles(t *route.Table, reg *obs.Registry) {
	if reg == nil {
		return
	}
	reg.Begin()
	var walk func([]*route.Route)
	walk = func(rs []*route.Route) {
		for _, r := range rs {
			// Routes and load balancers an incremental build reuses are
			// being served: they get the same handles, left unwritten.
			if h := reg.Router(r.Name, r.Service); r.Obs != h {
				r.Obs = h
			}
			if r.Target != nil { // Traefik's service metrics are the load balancers' that reach servers
				r.Target.EachLoadBalancer(func(lb *service.LoadBalancer) {
					h := reg.Service(lb.Name)
					if lb.Obs != h {
						lb.Obs = h
					}
					h.SetServers(serverStates(lb))
				})
			}
			walk(r.Children)
		}
	}
	walk(t.Routes)
	reg.End()
}

// observability is a route's observability.metrics and .accessLogs; a
// route to an @internal service is neither metered nor logged unless
// --metrics.addInternals or --accesslog.addInternals, as Traefik's
// shouldMeter and shouldAccessLog decide.
func (c *compiler) observability(rt *model.Route) (metrics, accessLogs, tracing obs.Toggle) {
	var o model.Observability
	if rt.Observability != nil {
		o = *rt.Observability
	}
	metrics, accessLogs, tracing = toggle(o.Metrics), toggle(o.AccessLogs), toggle(o.Tracing)
	if len(rt.Services) == 1 && rt.Services[0].Kind == "TraefikService" && strings.HasSuffix(rt.Services[0].Name, "@internal") {
		if !c.opts.Metrics.AddInternals() {
			metrics = obs.Off
		}
		if !c.opts.AccessLogInternals {
			accessLogs = obs.Off
		}
		if !c.opts.TracingInternals {
			tracing = obs.Off
		}
	}
	return metrics, accessLogs, tracing
}

// toggle is an optional observability switch.
func toggle(on *bool) obs.Toggle {
	switch {
	case on == nil:
		return obs.Inherit
	case *on:
		return obs.On
	}
	return obs.Off
}

// inheritObservability gives child routers (which have no observability
// of their own) their parents' switches; routes an incremental build
// reuses already have them and are left unwritten.
func inheritObservability(rs []*route.Route) {
	for _, r := range rs {
		for _, ch := range r.Children {
			if ch.Metrics != r.Metrics || ch.AccessLogs != r.AccessLogs || ch.Tracing != r.Tracing || ch.TraceDetailed != r.TraceDetailed {
				ch.Metrics, ch.AccessLogs, ch.Tracing, ch.TraceDetailed = r.Metrics, r.AccessLogs, r.Tracing, r.TraceDetailed
			}
		}
		inheritObservability(r.Children)
	}
}

// serverStates reads a load balancer's servers' health for
// traefik_service_server_up: nil when no server has a health check
// (Traefik reports only checked servers).
func serverStates(lb *service.LoadBalancer) obs.ServerStates {
	checked := false
	for _, s := range lb.Servers().Servers {
		checked = checked || s.Health != nil || s.Passive != nil
	}
	if !checked {
		return nil
	}
	return func(yield func(string, bool)) {
		set := lb.Servers()
		for i := range set.Servers {
			yield(set.Servers[i].URL, set.Servers[i].Up())
		}
	}
}

// newCompiler indexes the snapshot's objects by namespace/name.
func newCompiler(snap *model.Snapshot, opts Options) *compiler {
	c := &compiler{snap: snap, opts: opts, services: map[string]*model.Service{}, slices: map[string][]*model.EndpointSlice{},
		refs: map[string]bool{}, bindings: map[string][]*binding{}, traefikServices: map[string]*model.TraefikService{},
		transports: map[string]*model.ServersTransport{}, middlewares: map[string]*model.Middleware{},
		secrets: map[string]*model.Secret{}, configMaps: map[string]*model.ConfigMap{}, states: map[stateKey]any{}}
	key := func(m model.Meta) string { return m.Namespace + "/" + m.Name }
	for _, o := range snap.Services {
		c.services[key(o.Meta)] = o
	}
	for _, o := range snap.TraefikServices {
		c.traefikServices[key(o.Meta)] = o
	}
	for _, o := range snap.ServersTransports {
		c.transports[key(o.Meta)] = o
	}
	for _, o := range snap.Middlewares {
		c.middlewares[key(o.Meta)] = o
	}
	c.ingressRoutes = make(map[string]*model.IngressRoute, len(snap.IngressRoutes))
	for _, o := range snap.IngressRoutes {
		c.ingressRoutes[key(o.Meta)] = o
	}
	c.tsByID = byID(c.traefikServices, func(o *model.TraefikService) *model.Meta { return &o.Meta })
	c.stByID = byID(c.transports, func(o *model.ServersTransport) *model.Meta { return &o.Meta })
	c.mwByID = byID(c.middlewares, func(o *model.Middleware) *model.Meta { return &o.Meta })
	for _, o := range snap.Secrets {
		c.secrets[key(o.Meta)] = o
	}
	for _, o := range snap.ConfigMaps {
		c.configMaps[key(o.Meta)] = o
	}
	for _, s := range snap.EndpointSlices {
		k := s.Meta.Namespace + "/" + s.ServiceName()
		c.slices[k] = append(c.slices[k], s)
	}
	return c
}

// routes compiles (or reuses) every IngressRoute's routes in name order;
// a later router with the same name replaces an earlier one, as in Traefik.
func (cc *Compiler) routes(c *compiler, snap *model.Snapshot) []*placed {
	type keyed struct {
		key string
		ir  *model.IngressRoute
	}
	irs := make([]keyed, len(snap.IngressRoutes))
	for i, ir := range snap.IngressRoutes {
		irs[i] = keyed{irKey(ir), ir}
	}
	sort.Slice(irs, func(i, j int) bool { return irs[i].key < irs[j].key })
	byName := map[string]int{}
	var out []*placed
	next := make(map[*model.IngressRoute]*irResult, len(irs))
	for _, k := range irs {
		ir := k.ir
		res := cc.ingressRoute(c, ir)
		next[ir] = res
		c.file = ir.File
		for j := range res.routes {
			cr := &res.routes[j]
			if cr.disabled != "" {
				c.disable(cr.r, cr.entries, cr.disabled)
				continue
			}
			r, es := cr.take()
			p := &placed{r: r, entries: es, cr: cr, file: ir.File}
			if i, dup := byName[r.Name]; dup {
				c.warn(objName("IngressRoute", ir.Meta.Namespace, ir.Meta.Name), r.Source[len(k.key)+1:],
					"router %s has the same match as %s and replaces it (Traefik keeps only the last)", r.Name, out[i].r.Source)
				out[i] = p
				continue
			}
			byName[r.Name] = len(out)
			out = append(out, p)
		}
	}
	cc.cache = next
	c.file = ""
	return out
}

func irKey(ir *model.IngressRoute) string { return ir.Meta.Namespace + "/" + irName(ir) }

func irName(ir *model.IngressRoute) string {
	if ir.Meta.Name == "" {
		return ir.Meta.GenerateName
	}
	return ir.Meta.Name
}

func objName(kind, ns, name string) string { return kind + " " + ns + "/" + name }

func (c *compiler) add(d model.Diagnostic) {
	d.File = c.file
	c.diags = append(c.diags, d)
}

func (c *compiler) warn(obj, field, format string, a ...any) {
	c.add(model.Warnf(obj, field, format, a...))
}

func (c *compiler) errorf(obj, field, format string, a ...any) {
	c.add(model.Errorf(obj, field, format, a...))
}

// keptObjects reports the Middleware objects Sluice decodes but cannot
// serve (no kind, several, or a kind it does not serve yet), whether or
// not a route names them; a route that does is disabled with the reason.
func (c *compiler) keptObjects() {
	for _, o := range c.snap.Middlewares {
		kinds := middlewareKinds(&o.Spec)
		why := ""
		switch {
		case len(kinds) != 1:
			why = fmt.Sprintf("%d kinds set (%s): a Middleware has exactly one", len(kinds), strings.Join(kinds, ", "))
		case kindBuilders[kinds[0]] == nil && kinds[0] != "chain":
			why = "kind " + kinds[0] + " is not yet supported by Sluice"
		}
		if why != "" {
			c.file = o.File
			c.warn(objName("Middleware", o.Meta.Namespace, o.Meta.Name), "spec", "%s; routes naming it are not served", why)
		}
	}
	c.file = ""
}

type compiledRoute struct {
	r       *route.Route
	entries []route.Entry
	built   bool // r and entries belong to a table (Build wrote into them)

	// Multi-layer routing (tree.go): the parent routers' names (nil: a
	// root), whether the route has a service, the configuration a child
	// must not have ("" if none), and its middlewares, for a parent's
	// handler.
	parents    []string
	hasService bool
	verbosity  string // the route's own observability.traceVerbosity ("": its entry point's)
	nonRoot    string
	mws        []pipeline.Middleware

	// disabled: why a route whose rule parsed is not served (r has no
	// handler then); kept so that `sluice route` can say it would match.
	disabled string
	hosts    []string // the rule's Host names (TLS option mapping)
}

// ingressRoute compiles the routes of one IngressRoute (crd.md section 3).
func (c *compiler) ingressRoute(ir *model.IngressRoute) []compiledRoute {
	obj := objName("IngressRoute", ir.Meta.Namespace, ir.Meta.Name)
	if !c.classMatches(ir) {
		return nil
	}
	var parents []string
	nonRoot := ""
	if len(ir.Spec.ParentRefs) > 0 {
		var err string
		if parents, err = c.parentRouters(ir); err != "" {
			c.errorf(obj, "spec.parentRefs", "%s; IngressRoute skipped", err)
			return nil
		}
		if ir.Spec.TLS != nil { // Traefik's checks of a router with parentRefs: TLS, observability, entry points
			nonRoot = "TLS"
		}
	}
	var eps []string
	irDisabled := ""
	if parents == nil {
		eps = c.entryPoints(obj, ir.Spec.EntryPoints)
		if len(eps) == 0 {
			irDisabled = "no valid entry point"
		}
	}
	var out []compiledRoute
	for i := range ir.Spec.Routes {
		cr, ok := c.route(ir, obj, i, eps)
		cr.parents, cr.nonRoot = parents, nonRoot
		switch {
		case nonRoot != "" || parents == nil:
		case ir.Spec.Routes[i].Observability != nil:
			cr.nonRoot = "Observability"
		case len(ir.Spec.EntryPoints) > 0:
			cr.nonRoot = "Entrypoints"
		}
		if ok && irDisabled != "" {
			cr.disabled = irDisabled
		}
		if ok || cr.disabled != "" {
			out = append(out, cr)
		}
	}
	return out
}

// classMatches applies providers.kubernetesCRD.ingressClass (crd.md 1).
func (c *compiler) classMatches(ir *model.IngressRoute) bool {
	class := ir.Meta.Annotations["kubernetes.io/ingress.class"]
	if ir.Spec.IngressClassName != nil {
		class = *ir.Spec.IngressClassName
	}
	return class == c.opts.IngressClass || c.opts.IngressClass == "" && class == "traefik"
}

func (c *compiler) entryPoints(obj string, names []string) []string {
	if len(names) == 0 && len(c.opts.DefaultEntryPoints) > 0 {
		return c.opts.DefaultEntryPoints
	}
	if len(names) == 0 {
		return c.opts.EntryPoints
	}
	var out []string
	for i, n := range names {
		if !slices.Contains(c.opts.EntryPoints, n) {
			c.warn(obj, fmt.Sprintf("spec.entryPoints[%d]", i), "entry point %q does not exist; ignored", n)
			continue
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		c.errorf(obj, "spec.entryPoints", "no valid entry point; the routes are disabled")
	}
	return out
}

// syntaxOf is the rule syntax of a route, as Traefik resolves it: the
// route's syntax field, or --core.defaultRuleSyntax when it has none; any
// value but v2 is v3.
func (c *compiler) syntaxOf(rt *model.Route) string {
	s := rt.Syntax
	if s == "" {
		s = c.opts.DefaultRuleSyntax
	}
	if s == "v2" {
		return "v2"
	}
	return "v3"
}

// parseRule parses a rule in its syntax.
func parseRule(match, syntax string) (*rule.Node, error) {
	if syntax == "v2" {
		return rule.ParseV2(match)
	}
	return rule.Parse(match)
}

func (c *compiler) route(ir *model.IngressRoute, obj string, i int, eps []string) (compiledRoute, bool) {
	rt := &ir.Spec.Routes[i]
	f := fmt.Sprintf("spec.routes[%d]", i)
	switch {
	case rt.Kind != "" && rt.Kind != "Rule":
		c.errorf(obj, f+".kind", "kind %q is not allowed (only Rule); route skipped", rt.Kind)
		return compiledRoute{}, false
	case rt.Match == "":
		c.warn(obj, f+".match", "empty match; route skipped (as Traefik does)")
		return compiledRoute{}, false
	case rt.Priority > MaxPriority:
		c.errorf(obj, f+".priority", "priority %d exceeds the max user-defined priority %d; route disabled", rt.Priority, int64(MaxPriority))
		return compiledRoute{}, false
	}
	switch rt.Syntax {
	case "":
	case "v2", "v3":
		c.warn(obj, f+".syntax", "the syntax option is deprecated in Traefik v3 (%s rules are read)", rt.Syntax)
	default:
		c.warn(obj, f+".syntax", "syntax %q is neither v2 nor v3, so v3 is used (as Traefik does)", rt.Syntax)
	}
	syntax := c.syntaxOf(rt)
	tree, err := parseRule(rt.Match, syntax)
	if err != nil {
		v2 := ""
		if syntax == "v2" {
			v2 = " (read as Traefik v2 syntax)"
		}
		c.errorf(obj, f+".match", "%v%s; route disabled", err, v2)
		return compiledRoute{}, false
	}
	name := RouterKey(ir.Meta.Namespace, irName(ir), rt.Match) + Provider // router and service
	prio := rt.Priority
	if prio == 0 {
		prio = int64(len(rt.Match))
	}
	readAs := ""
	if syntax == "v2" {
		readAs = rule.Print(tree)
	}
	disabled := func(e *svcErr) (compiledRoute, bool) {
		c.errorf(obj, e.field, "%s; route disabled", e.msg)
		r := &route.Route{Name: name, Rule: rt.Match, ReadAs: readAs, Priority: prio, EntryPoints: eps, Source: irKey(ir) + "#" + f}
		return compiledRoute{r: r, entries: Entries(tree), disabled: e.field + ": " + e.msg}, false
	}
	var tlsBlock *route.TLS
	if len(ir.Spec.ParentRefs) == 0 {
		var terr *svcErr
		if tlsBlock, terr = c.routeTLS(ir, tree); terr != nil {
			return disabled(terr)
		}
	}
	var mws []pipeline.Middleware
	var mwNames []string
	var merr *svcErr
	c.inScope("router "+name, func() { mws, mwNames, merr = c.middlewareChain(f, ir.Meta.Namespace, rt.Middlewares) })
	if merr != nil {
		return disabled(merr)
	}
	var target service.Service
	var handler pipeline.Handler
	if len(rt.Services) > 0 { // without: a parent router, or disabled (tree.go)
		var serr *svcErr
		if target, serr = c.routeService(ir, f, name, rt.Services); serr != nil {
			return disabled(serr)
		}
		handler = pipeline.Chain(target, mws...)
	}
	svcName := name
	if target == nil {
		svcName = ""
	}
	r := &route.Route{
		Name: name, Rule: rt.Match, ReadAs: readAs, Priority: prio, EntryPoints: eps, Middlewares: mwNames,
		Source: irKey(ir) + "#" + f, Service: svcName, Target: target, Handler: handler, TLS: tlsBlock,
	}
	r.Metrics, r.AccessLogs, r.Tracing = c.observability(rt)
	verbosity := ""
	if o := rt.Observability; o != nil {
		verbosity = o.TraceVerbosity
	}
	r.TraceDetailed = verbosity == "detailed"
	return compiledRoute{r: r, entries: Entries(tree), hasService: target != nil, mws: mws, hosts: hostNames(tree), verbosity: verbosity}, true
}

func sortDiags(d []model.Diagnostic) {
	sort.SliceStable(d, func(i, j int) bool {
		a, b := d[i], d[j]
		if a.Object != b.Object {
			return a.Object < b.Object
		}
		if a.Field != b.Field {
			return a.Field < b.Field
		}
		return a.Message < b.Message
	})
}
