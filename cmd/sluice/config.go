package main

import (
	"fmt"
	"net/netip"
	"net/textproto"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sluiceproxy/sluice/fastpath"
	"golang.org/x/net/http/httpguts"

	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/sluiceproxy/sluice/compile"
	"github.com/sluiceproxy/sluice/fastpath/accesslog"
	"github.com/sluiceproxy/sluice/fastpath/trace"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
	"github.com/sluiceproxy/sluice/watch/acme"
	"github.com/sluiceproxy/sluice/watch/kube"
)

// entryPoint is one --entryPoints.<name>.* group.
type entryPoint struct {
	Name       string
	Address    string
	TrustedIPs []netip.Prefix
	Insecure   bool
	// NotAppendXFF is forwardedHeaders.notAppendXForwardedFor.
	NotAppendXFF bool
	// KeepConnection is forwardedHeaders.connection: headers a request's
	// Connection may name that still reach the rule and the middlewares.
	KeepConnection []string
	// ProxyProtocol is proxyProtocol.{insecure,trustedIPs} (nil: off).
	ProxyProtocol *fastpath.ProxyProtocol
	KeepPath      bool // http.sanitizePath=false
	AsDefault     bool // routers without entryPoints attach here (and to other asDefault ones only)
	EncodeSemi    bool // http.encodeQuerySemicolons: ';' in the query becomes %3B, not '&'
	MaxHeader     int  // http.maxHeaderBytes: request header limit (default 1 MiB, as Traefik)
	// TLS is http.tls: every router attached here is a TLS router, with
	// these options (nil: not set).
	TLS *epTLS
	// Redirect is http.redirections.entryPoint (nil: none).
	Redirect *epRedirect
	// Middlewares is http.middlewares: Middleware objects
	// ("<namespace>-<name>@kubernetescrd") before every router's own.
	Middlewares []string
	// transport.lifeCycle: keep accepting this long after SIGTERM, then
	// give in-flight requests GraceTimeOut to finish (Traefik: 0s, 10s).
	AcceptGrace  time.Duration
	GraceTimeOut time.Duration
	// NoMetrics is observability.metrics=false: only routers that set
	// observability.metrics: true are metered here.
	NoMetrics bool
	// TraceDetailed is observability.traceVerbosity=detailed.
	TraceDetailed bool
	// Observed: an observability.* option is set, which gives the entry
	// point a Traefik model (its routers' names, compile.EntryPointModels).
	Observed bool
	// NoAccessLogs and NoTracing are observability.accessLogs=false and
	// .tracing=false, as NoMetrics.
	NoAccessLogs, NoTracing bool
	// Timeouts: transport.respondingTimeouts.*, transport.keepAliveMax*
	// and http2.maxConcurrentStreams, Traefik's defaults unless set.
	Timeouts fastpath.Timeouts
}

// newEntryPoint is an entry point with Traefik's defaults.
func newEntryPoint(name, address string) *entryPoint {
	return &entryPoint{Name: name, Address: address, GraceTimeOut: 10 * time.Second, Timeouts: fastpath.DefaultTimeouts()}
}

// config is Sluice's static configuration.
type config struct {
	EntryPoints               []*entryPoint
	ManifestsDir              string
	AllowCrossNamespace       bool
	AllowExternalNameServices bool
	AllowEmptyServices        bool
	NativeLBByDefault         bool
	IngressClass              string
	LogLevel                  string
	LogFormat                 string
	PprofAddress              string // debug.pprofAddress: net/http/pprof on this address (off if empty)
	SpiffeAddr                string // spiffe.workloadAPIAddr: the SPIFFE Workload API (off if empty)
	TicketSecret              string // tls.sessionTicketKeysSecret: namespace/name of shared ticket keys
	Kube                      bool   // providers.kubernetesCRD is enabled (the section, or any option of it)
	KubeSection               bool   // --providers.kubernetesCRD itself was given
	KubeOpts                  kube.Options
	Transport                 staticTransport // serversTransport.*
	DefaultRuleSyntax         string          // core.defaultRuleSyntax: v2 or v3 ("": v3)
	DefaultTransport          *upstream.TransportConfig
	Redirections              []compile.Redirection // entry points' http.redirections
	// CrossProviderNamespaces: providers.kubernetesCRD.crossProviderNamespaces
	// (nil: unset, every namespace may make cross-provider references).
	CrossProviderNamespaces []string
	Ping                    bool   // ping: /ping and /ready on PingEntryPoint
	PingEntryPoint          string // ping.entryPoint (default traefik, created on :8080 if missing)
	PingTerminatingStatus   int    // ping.terminatingStatusCode (default 503)
	// Metrics is --metrics.prometheus.* (nil: off).
	Metrics *metricsConfig
	// API is --api.* (nil: off).
	API *apiConfig
	// Tracing is --tracing.* (nil: off); TracingInternals is
	// --tracing.addInternals.
	Tracing          *trace.Config
	TracingInternals bool
	TracingTLS       *tracingTLS // --tracing.otlp.http.tls.* (nil: none given)
	// MetricsAddInternals is --metrics.addInternals.
	MetricsAddInternals bool
	// AccessLog is --accessLog.* (nil: off); AccessLogInternals is
	// --accessLog.addInternals.
	AccessLog          *accesslog.Config
	AccessLogInternals bool
	// Resolvers are the certificatesResolvers (ACME), by name.
	Resolvers map[string]*acme.ResolverConfig
	Warnings  []string
}

// ourKeys are the keys Sluice reads (lower-cased; <ep> is any name).
var ourKeys = []string{
	"configfile", "entrypoints.<ep>.address", "entrypoints.<ep>.forwardedheaders.trustedips",
	"entrypoints.<ep>.forwardedheaders.insecure", "entrypoints.<ep>.http.sanitizepath",
	"entrypoints.<ep>.forwardedheaders.notappendxforwardedfor", "entrypoints.<ep>.forwardedheaders.connection", "entrypoints.<ep>.proxyprotocol",
	"entrypoints.<ep>.proxyprotocol.insecure", "entrypoints.<ep>.proxyprotocol.trustedips",
	"entrypoints.<ep>.asdefault", "entrypoints.<ep>.http.encodequerysemicolons", "entrypoints.<ep>.http.maxheaderbytes",
	"providers.kubernetescrd", "providers.kubernetescrd.allowcrossnamespace",
	"providers.kubernetescrd.allowexternalnameservices", "providers.kubernetescrd.allowemptyservices",
	"providers.kubernetescrd.nativelbbydefault", "providers.kubernetescrd.ingressclass",
	"providers.manifests.directory", "log.level", "log.format", "debug.pprofaddress",
	"providers.kubernetescrd.namespaces", "providers.kubernetescrd.labelselector", "providers.kubernetescrd.throttleduration",
	"providers.kubernetescrd.endpoint", "providers.kubernetescrd.token", "providers.kubernetescrd.certauthfilepath",
	"providers.kubernetescrd.disableclusterscoperesources", "kubeconfig", "ping", "ping.entrypoint", "ping.terminatingstatuscode",
	"entrypoints.<ep>.transport.lifecycle.requestacceptgracetimeout", "entrypoints.<ep>.transport.lifecycle.gracetimeout",
	"entrypoints.<ep>.transport.respondingtimeouts.readtimeout", "entrypoints.<ep>.transport.respondingtimeouts.writetimeout",
	"entrypoints.<ep>.transport.respondingtimeouts.idletimeout", "entrypoints.<ep>.transport.keepalivemaxrequests",
	"entrypoints.<ep>.transport.keepalivemaxtime", "entrypoints.<ep>.http2.maxconcurrentstreams",
	"entrypoints.<ep>.http.tls", "entrypoints.<ep>.http.tls.options", "entrypoints.<ep>.http.tls.certresolver",
	"entrypoints.<ep>.http.tls.domains[0].main", "entrypoints.<ep>.http.tls.domains[0].sans",
	"entrypoints.<ep>.http.redirections.entrypoint.to", "entrypoints.<ep>.http.redirections.entrypoint.scheme",
	"entrypoints.<ep>.http.redirections.entrypoint.permanent", "entrypoints.<ep>.http.redirections.entrypoint.priority",
	"providers.kubernetescrd.crossprovidernamespaces",
	"serverstransport.insecureskipverify", "serverstransport.rootcas", "serverstransport.maxidleconnsperhost",
	"serverstransport.forwardingtimeouts.dialtimeout", "serverstransport.forwardingtimeouts.responseheadertimeout",
	"serverstransport.forwardingtimeouts.idleconntimeout", "serverstransport.spiffe.ids", "serverstransport.spiffe.trustdomain",
	"spiffe.workloadapiaddr", "tls.sessionticketkeyssecret",
	"certificatesresolvers.<r>.acme.email", "certificatesresolvers.<r>.acme.caserver", "certificatesresolvers.<r>.acme.storage",
	"certificatesresolvers.<r>.acme.keytype", "certificatesresolvers.<r>.acme.certificatesduration",
	"certificatesresolvers.<r>.acme.cacertificates", "certificatesresolvers.<r>.acme.casystemcertpool",
	"certificatesresolvers.<r>.acme.caservername", "certificatesresolvers.<r>.acme.httpchallenge.entrypoint",
	"certificatesresolvers.<r>.acme.tlschallenge", "metrics.prometheus", "metrics.prometheus.entrypoint",
	"metrics.prometheus.buckets", "metrics.prometheus.addrouterslabels", "metrics.prometheus.addserviceslabels",
	"metrics.prometheus.addentrypointslabels", "metrics.prometheus.manualrouting", "certificatesresolvers.<r>.acme.preferredchain",
	"certificatesresolvers.<r>.acme.eab.kid", "certificatesresolvers.<r>.acme.eab.hmacencoded",
	"certificatesresolvers.<r>.acme.dnschallenge.provider", "certificatesresolvers.<r>.acme.dnschallenge.resolvers",
	"api", "api.insecure", "api.dashboard", "api.basepath", "tracing", "tracing.servicename", "tracing.samplerate",
	"tracing.capturedrequestheaders", "tracing.capturedresponseheaders", "tracing.safequeryparams", "tracing.addinternals",
	"tracing.otlp", "tracing.otlp.http", "tracing.otlp.http.endpoint", "entrypoints.<ep>.observability.tracing",
	"metrics.addinternals", "entrypoints.<ep>.observability.metrics", "entrypoints.<ep>.observability.accesslogs",
	"accesslog", "accesslog.format", "accesslog.filepath", "accesslog.bufferingsize", "accesslog.addinternals",
	"accesslog.filters.statuscodes", "accesslog.filters.retryattempts", "accesslog.filters.minduration",
	"accesslog.fields.defaultmode", "accesslog.fields.headers.defaultmode", "accesslog.fields.queryparameters.defaultmode",
	"core.defaultrulesyntax",
}

// traefikPrefixes are Traefik static-configuration roots: unknown keys
// under them are accepted with a warning.
var traefikPrefixes = []string{"entrypoints.", "providers.", "api", "ping", "metrics", "accesslog", "log.",
	"global.", "serverstransport", "tcpserverstransport", "certificatesresolvers", "experimental", "tracing",
	"core.", "hostresolver", "spiffe", "ocsp", "otlp"}

// parseConfig reads flags (--key=value, --key value, --flag) and, if
// --configFile is given, a YAML file; flags win. Keys are case-insensitive.
func parseConfig(args []string) (*config, error) {
	kv := map[string]string{}
	var order []string
	set := func(k, v string) {
		k = strings.ToLower(k)
		if _, ok := kv[k]; !ok {
			order = append(order, k)
		}
		kv[k] = v
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "--") && !strings.HasPrefix(a, "-") {
			return nil, fmt.Errorf("unexpected argument %q", a)
		}
		a = strings.TrimLeft(a, "-")
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			v = "true"
			if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				v, i = args[i+1], i+1
			}
		}
		set(k, v)
	}
	if f := kv["configfile"]; f != "" {
		fileKV, err := readConfigFile(f)
		if err != nil {
			return nil, err
		}
		for k, v := range fileKV {
			if _, ok := kv[k]; !ok {
				set(k, v)
			}
		}
	}
	sort.Strings(order)
	return buildConfig(kv, order)
}

func readConfigFile(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("configFile: %w", err)
	}
	var tree map[string]any
	if err := yaml.Unmarshal(data, &tree); err != nil {
		return nil, fmt.Errorf("configFile %s: %w", path, err)
	}
	out := map[string]string{}
	flatten("", tree, out)
	return out, nil
}

func flatten(prefix string, v any, out map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 && prefix != "" {
			out[prefix] = "true" // "kubernetesCRD: {}" enables a section
		}
		for k, val := range x {
			key := strings.ToLower(k)
			if prefix != "" {
				key = prefix + "." + key
			}
			flatten(key, val, out)
		}
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmt.Sprint(e)
		}
		out[prefix] = strings.Join(parts, ",")
	case nil:
		out[prefix] = "true"
	default:
		out[prefix] = fmt.Sprint(x)
	}
}

func buildConfig(kv map[string]string, keys []string) (*config, error) {
	c := &config{LogLevel: "info", LogFormat: "text", PingEntryPoint: "traefik"}
	eps := map[string]*entryPoint{}
	for _, k := range keys {
		v := kv[k]
		if err := c.apply(k, v, eps); err != nil {
			return nil, err
		}
	}
	if c.Ping && eps[strings.ToLower(c.PingEntryPoint)] == nil {
		// Traefik creates its "traefik" entry point on :8080 when ping needs it.
		eps[strings.ToLower(c.PingEntryPoint)] = newEntryPoint(c.PingEntryPoint, ":8080")
	}
	if m := c.Metrics; m != nil && eps[m.EntryPoint] == nil {
		if m.EntryPoint != "traefik" {
			return nil, fmt.Errorf("metrics.prometheus.entryPoint: %q is not an entry point", m.EntryPoint)
		}
		eps["traefik"] = newEntryPoint("traefik", ":8080") // as for ping
	}
	if c.API != nil && c.API.Insecure && eps["traefik"] == nil {
		eps["traefik"] = newEntryPoint("traefik", ":8080") // as Traefik's api.insecure
	}
	for _, ep := range eps {
		if ep.Address == "" {
			return nil, fmt.Errorf("entryPoints.%s: address is required", ep.Name)
		}
		c.EntryPoints = append(c.EntryPoints, ep)
	}
	sort.Slice(c.EntryPoints, func(i, j int) bool { return c.EntryPoints[i].Name < c.EntryPoints[j].Name })
	var err error
	if c.DefaultTransport, err = c.Transport.config(); err != nil {
		return nil, err
	}
	if c.Redirections, err = c.redirections(); err != nil {
		return nil, err
	}
	if c.Tracing != nil && c.TracingTLS != nil {
		if c.Tracing.TLS, err = c.TracingTLS.config(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *config) apply(k, v string, eps map[string]*entryPoint) error {
	b := func() (bool, error) {
		x, err := strconv.ParseBool(v)
		if err != nil {
			return false, fmt.Errorf("--%s: %q is not a boolean", k, v)
		}
		return x, nil
	}
	var err error
	switch {
	case k == "configfile":
	case k == "providers.kubernetescrd":
		c.Kube, err = b()
		c.KubeSection = c.Kube
	case strings.HasPrefix(k, "providers.kubernetescrd."):
		return c.applyKube(k, v)
	case k == "kubeconfig":
		c.KubeOpts.Kubeconfig = v
	case k == "ping":
		c.Ping, err = b()
	case k == "ping.entrypoint":
		c.Ping, c.PingEntryPoint = true, strings.ToLower(v)
	case k == "ping.terminatingstatuscode":
		c.Ping = true
		c.PingTerminatingStatus, err = strconv.Atoi(v)
		if err != nil || c.PingTerminatingStatus < 100 || c.PingTerminatingStatus > 599 {
			return fmt.Errorf("--%s: %q is not an HTTP status code", k, v)
		}
	case k == "providers.manifests.directory":
		c.ManifestsDir = v
	case k == "log.level":
		c.LogLevel = strings.ToLower(v)
	case k == "log.format":
		c.LogFormat = strings.ToLower(v)
	case k == "debug.pprofaddress":
		c.PprofAddress = v
	case k == "core.defaultrulesyntax":
		if v != "v2" && v != "v3" {
			return fmt.Errorf("--core.defaultRuleSyntax: unsupported default rule syntax configuration: %q (v2 or v3)", v)
		}
		c.DefaultRuleSyntax = v
		if v == "v2" {
			c.Warnings = append(c.Warnings, "v2 rules syntax is now deprecated, please use v3 instead...")
		}
	case k == "spiffe.workloadapiaddr":
		c.SpiffeAddr = v
	case k == "tls.sessionticketkeyssecret":
		if ns, name, ok := strings.Cut(v, "/"); !ok || ns == "" || name == "" {
			return fmt.Errorf("--%s: %q is not NAMESPACE/NAME", k, v)
		}
		c.TicketSecret = v
	case strings.HasPrefix(k, "entrypoints."):
		return c.applyEntryPoint(k, v, eps)
	case strings.HasPrefix(k, "serverstransport."):
		return c.applyTransport(k, v)
	case strings.HasPrefix(k, "certificatesresolvers."):
		return c.applyResolver(k, v)
	case strings.HasPrefix(k, "metrics."):
		return c.applyMetrics(k, v)
	case k == "tracing" || strings.HasPrefix(k, "tracing."):
		return c.applyTracing(k, v)
	case k == "api" || strings.HasPrefix(k, "api."):
		return c.applyAPI(k, v)
	case k == "accesslog" || strings.HasPrefix(k, "accesslog."):
		return c.applyAccessLog(k, v)
	default:
		return c.unknown(k)
	}
	return err
}

func (c *config) applyEntryPoint(k, v string, eps map[string]*entryPoint) error {
	rest := strings.TrimPrefix(k, "entrypoints.")
	name, field, _ := strings.Cut(rest, ".")
	ep := eps[name]
	if ep == nil {
		ep = newEntryPoint(name, "")
		eps[name] = ep
	}
	switch field {
	case "address":
		addr, proto, _ := strings.Cut(v, "/")
		if proto != "" && proto != "tcp" {
			return fmt.Errorf("--%s: %q: only TCP entry points are supported", k, v)
		}
		ep.Address = addr
	case "forwardedheaders.trustedips":
		return parsePrefixes(k, v, &ep.TrustedIPs)
	case "proxyprotocol", "proxyprotocol.insecure", "proxyprotocol.trustedips":
		if ep.ProxyProtocol == nil {
			ep.ProxyProtocol = &fastpath.ProxyProtocol{}
		}
		switch field {
		case "proxyprotocol.insecure":
			return parseBool(k, v, &ep.ProxyProtocol.Insecure)
		case "proxyprotocol.trustedips":
			return parsePrefixes(k, v, &ep.ProxyProtocol.TrustedIPs)
		}
	case "forwardedheaders.insecure":
		return parseBool(k, v, &ep.Insecure)
	case "forwardedheaders.notappendxforwardedfor":
		return parseBool(k, v, &ep.NotAppendXFF)
	case "forwardedheaders.connection":
		return parseHeaderNames(k, v, &ep.KeepConnection)
	case "http.sanitizepath":
		return parseNegated(k, v, &ep.KeepPath)
	case "asdefault":
		return parseBool(k, v, &ep.AsDefault)
	case "http.encodequerysemicolons":
		return parseBool(k, v, &ep.EncodeSemi)
	case "http.tls", "http.tls.options", "http.tls.certresolver":
		return ep.applyTLS(k, field, v)
	case tlsDomainKey.FindString(field):
		return ep.applyTLSDomain(k, field, v)
	case "http.redirections.entrypoint.to", "http.redirections.entrypoint.scheme",
		"http.redirections.entrypoint.permanent", "http.redirections.entrypoint.priority":
		return ep.applyRedirect(k, strings.TrimPrefix(field, "http.redirections.entrypoint."), v)
	case "observability.metrics", "observability.accesslogs", "observability.tracing", "observability.traceverbosity":
		ep.Observed = true // Traefik gives the entry point a model (router names)
		return ep.applyObservability(k, field, v)
	case "http.middlewares":
		ep.Middlewares = splitList(v)
	case "transport.lifecycle.requestacceptgracetimeout":
		return parseDuration(k, v, &ep.AcceptGrace)
	case "transport.lifecycle.gracetimeout":
		return parseDuration(k, v, &ep.GraceTimeOut)
	case "transport.respondingtimeouts.readtimeout":
		return parseDuration(k, v, &ep.Timeouts.Read)
	case "transport.respondingtimeouts.writetimeout":
		return parseDuration(k, v, &ep.Timeouts.Write)
	case "transport.respondingtimeouts.idletimeout":
		return parseDuration(k, v, &ep.Timeouts.Idle)
	case "transport.keepalivemaxtime":
		return parseDuration(k, v, &ep.Timeouts.KeepAliveMaxTime)
	case "transport.keepalivemaxrequests":
		return parseCount(k, v, 0, 1<<31-1, &ep.Timeouts.KeepAliveMaxRequests)
	case "http2.maxconcurrentstreams":
		return parseCount(k, v, 1, 1<<31-1, &ep.Timeouts.MaxConcurrentStreams)
	case "http.maxheaderbytes":
		n, err := strconv.Atoi(v)
		if err != nil || n < 4096 || n > 16<<20 {
			return fmt.Errorf("--%s: %q is not a byte count between 4096 and 16777216", k, v)
		}
		ep.MaxHeader = n
	case "":
	default:
		return c.unknown(k)
	}
	return nil
}

// applyKube sets one providers.kubernetesCRD option; any of them enables
// the provider, as in Traefik.
func (c *config) applyKube(k, v string) error {
	c.Kube = true
	o := &c.KubeOpts
	switch strings.TrimPrefix(k, "providers.kubernetescrd.") {
	case "allowcrossnamespace":
		return parseBool(k, v, &c.AllowCrossNamespace)
	case "allowexternalnameservices":
		return parseBool(k, v, &c.AllowExternalNameServices)
	case "allowemptyservices":
		return parseBool(k, v, &c.AllowEmptyServices)
	case "nativelbbydefault":
		return parseBool(k, v, &c.NativeLBByDefault)
	case "ingressclass":
		c.IngressClass = v
	case "namespaces":
		o.Namespaces = splitList(v)
	case "labelselector":
		if _, err := labels.Parse(v); err != nil {
			return fmt.Errorf("--%s: invalid label selector %q: %v", k, v, err)
		}
		o.LabelSelector = v
	case "throttleduration":
		return parseDuration(k, v, &o.ThrottleDuration)
	case "endpoint":
		o.Endpoint = v
	case "token":
		o.Token = v
	case "certauthfilepath":
		o.CertAuthFilePath = v
	case "disableclusterscoperesources":
		return parseBool(k, v, &o.DisableClusterScopeResources)
	case "crossprovidernamespaces": // an empty value is the empty list: no namespace may
		c.CrossProviderNamespaces = append([]string{}, splitList(v)...)
	default:
		return c.unknown(k)
	}
	return nil
}

// parsePrefixes appends the IPs and CIDRs of a list to dst.
func parsePrefixes(k, v string, dst *[]netip.Prefix) error {
	for _, s := range splitList(v) {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return fmt.Errorf("--%s: %q is not an IP or CIDR", k, s)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		*dst = append(*dst, p)
	}
	return nil
}

// applyObservability reads an entry point's observability.* option.
func (ep *entryPoint) applyObservability(k, field, v string) error {
	switch field {
	case "observability.metrics":
		return parseNegated(k, v, &ep.NoMetrics)
	case "observability.accesslogs":
		return parseNegated(k, v, &ep.NoAccessLogs)
	case "observability.tracing":
		return parseNegated(k, v, &ep.NoTracing)
	case "observability.traceverbosity":
		if v != "minimal" && v != "detailed" {
			return fmt.Errorf("--%s: %q is not minimal or detailed", k, v)
		}
		ep.TraceDetailed = v == "detailed"
	}
	return nil
}

// parseNegated reads a boolean into dst negated (an "on" option kept as
// its "off" field).
func parseNegated(k, v string, dst *bool) error {
	var on bool
	err := parseBool(k, v, &on)
	*dst = !on
	return err
}

// parseHeaderNames reads a list of field names (RFC 9110 tokens),
// canonical as Traefik keeps them.
func parseHeaderNames(k, v string, dst *[]string) error {
	for _, s := range splitList(v) {
		if !httpguts.ValidHeaderFieldName(s) {
			return fmt.Errorf("--%s: %q is not a header name", k, s)
		}
		*dst = append(*dst, textproto.CanonicalMIMEHeaderKey(s))
	}
	return nil
}

// parseCount reads a whole number between lo and hi.
func parseCount(k, v string, lo, hi int, dst *int) error {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < lo || n > hi {
		return fmt.Errorf("--%s: %q is not a whole number between %d and %d", k, v, lo, hi)
	}
	*dst = n
	return nil
}

// parseDuration reads Go syntax or, as Traefik does, bare seconds.
func parseDuration(k, v string, dst *time.Duration) error {
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		*dst = time.Duration(n * float64(time.Second))
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("--%s: %q is not a duration", k, v)
	}
	*dst = d
	return nil
}

func parseBool(k, v string, dst *bool) error {
	x, err := strconv.ParseBool(v)
	if err != nil {
		return fmt.Errorf("--%s: %q is not a boolean", k, v)
	}
	*dst = x
	return nil
}

// unknown: a near-miss of one of our keys is a typo (error); other keys
// under Traefik's roots are accepted with a warning.
func (c *config) unknown(k string) error {
	generic := k
	if strings.HasPrefix(k, "entrypoints.") {
		parts := strings.SplitN(k, ".", 3)
		if len(parts) == 3 {
			generic = "entrypoints.<ep>." + parts[2]
		}
	}
	for _, ours := range ourKeys {
		if d := distance(generic, ours); d > 0 && d <= 2 {
			return fmt.Errorf("unknown option --%s: did you mean --%s?", k, strings.ReplaceAll(ours, "<ep>", "NAME"))
		}
	}
	if strings.HasPrefix(k, "providers.manifests.") {
		return fmt.Errorf("unknown option --%s (providers.manifests has only: directory)", k)
	}
	for _, p := range traefikPrefixes {
		if strings.HasPrefix(k, p) {
			c.Warnings = append(c.Warnings, fmt.Sprintf("Traefik option --%s is not supported by Sluice yet; ignored", k))
			return nil
		}
	}
	return fmt.Errorf("unknown option --%s", k)
}

// distance is the Levenshtein distance.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// splitList splits a comma-separated option value, dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
