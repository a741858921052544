package api

// Router is Traefik's routerRepresentation: the dynamic router, its
// runtime status and errors, name, provider and priority as text.
type Router struct {
	EntryPoints   []string       `json:"entryPoints,omitempty"`
	Middlewares   []string       `json:"middlewares,omitempty"`
	Service       string         `json:"service,omitempty"`
	Rule          string         `json:"rule,omitempty"`
	ParentRefs    []string       `json:"parentRefs,omitempty"`
	Priority      int64          `json:"priority,omitempty"`
	TLS           *RouterTLS     `json:"tls,omitempty"`
	Observability *Observability `json:"observability,omitempty"`
	Error         []string       `json:"error,omitempty"`
	Status        string         `json:"status,omitempty"`
	Using         []string       `json:"using,omitempty"`
	Name          string         `json:"name,omitempty"`
	Provider      string         `json:"provider,omitempty"`
	PriorityStr   string         `json:"priorityStr,omitempty"`
}

// RouterTLS is a router's tls block.
type RouterTLS struct {
	Options      string   `json:"options,omitempty"`
	CertResolver string   `json:"certResolver,omitempty"`
	Domains      []Domain `json:"domains,omitempty"`
}

// Domain is one tls.domains entry.
type Domain struct {
	Main string   `json:"main,omitempty"`
	SANs []string `json:"sans,omitempty"`
}

// Observability is a root router's switches, after Traefik's defaults.
type Observability struct {
	AccessLogs     bool   `json:"accessLogs"`
	Metrics        bool   `json:"metrics"`
	Tracing        bool   `json:"tracing"`
	TraceVerbosity string `json:"traceVerbosity,omitempty"`
}

// Service is Traefik's serviceRepresentation.
type Service struct {
	LoadBalancer *LoadBalancer     `json:"loadBalancer,omitempty"`
	Weighted     *Weighted         `json:"weighted,omitempty"`
	Mirroring    *Mirroring        `json:"mirroring,omitempty"`
	Failover     *Failover         `json:"failover,omitempty"`
	Error        []string          `json:"error,omitempty"`
	Status       string            `json:"status,omitempty"`
	UsedBy       []string          `json:"usedBy,omitempty"`
	Name         string            `json:"name,omitempty"`
	Provider     string            `json:"provider,omitempty"`
	Type         string            `json:"type,omitempty"`
	ServerStatus map[string]string `json:"serverStatus,omitempty"`
}

// LoadBalancer is a loadBalancer service's servers and options.
type LoadBalancer struct {
	Servers        []Server `json:"servers,omitempty"`
	Strategy       string   `json:"strategy,omitempty"`
	PassHostHeader bool     `json:"passHostHeader"`
}

// Server is one server of a load balancer.
type Server struct {
	URL string `json:"url,omitempty"`
}

// Weighted is a weighted service's children.
type Weighted struct {
	Services []WeightedChild `json:"services,omitempty"`
}

// WeightedChild is one child and its weight.
type WeightedChild struct {
	Name   string `json:"name"`
	Weight int    `json:"weight"`
}

// Mirroring is a mirroring service's main service and mirrors.
type Mirroring struct {
	Service string   `json:"service,omitempty"`
	Mirrors []Mirror `json:"mirrors,omitempty"`
}

// Mirror is one mirror and its percent.
type Mirror struct {
	Name    string `json:"name"`
	Percent uint64 `json:"percent"`
}

// Failover is a failover service's main service and fallback.
type Failover struct {
	Service  string `json:"service,omitempty"`
	Fallback string `json:"fallback,omitempty"`
}

// Middleware is Traefik's middlewareRepresentation: the middleware's
// configuration as its CRD spec has it (one kind), status, users.
type Middleware struct {
	Config   map[string]any `json:"-"`
	Error    []string       `json:"error,omitempty"`
	Status   string         `json:"status,omitempty"`
	UsedBy   []string       `json:"usedBy,omitempty"`
	Name     string         `json:"name,omitempty"`
	Provider string         `json:"provider,omitempty"`
	Type     string         `json:"type,omitempty"`
}

// EntryPoint is an entry point of the static configuration.
type EntryPoint struct {
	Address          string            `json:"address"`
	AsDefault        bool              `json:"asDefault,omitempty"`
	ForwardedHeaders *ForwardedHeaders `json:"forwardedHeaders,omitempty"`
	HTTP             EntryPointHTTP    `json:"http"`
	Transport        *Transport        `json:"transport,omitempty"`
	Name             string            `json:"name"`
}

// ForwardedHeaders is an entry point's forwardedHeaders.
type ForwardedHeaders struct {
	Insecure   bool     `json:"insecure,omitempty"`
	TrustedIPs []string `json:"trustedIPs,omitempty"`
}

// EntryPointHTTP is an entry point's http block.
type EntryPointHTTP struct {
	Middlewares []string   `json:"middlewares,omitempty"`
	TLS         *RouterTLS `json:"tls,omitempty"`
}

// Transport is an entry point's transport block.
type Transport struct {
	LifeCycle LifeCycle `json:"lifeCycle"`
}

// LifeCycle is the graceful shutdown's timing.
type LifeCycle struct {
	RequestAcceptGraceTimeout string `json:"requestAcceptGraceTimeout,omitempty"`
	GraceTimeOut              string `json:"graceTimeOut,omitempty"`
}

// Section counts one kind of object, as Traefik's overview.
type Section struct {
	Total    int `json:"total"`
	Warnings int `json:"warnings"`
	Errors   int `json:"errors"`
}

// Scheme is one protocol's sections of the overview.
type Scheme struct {
	Routers     *Section `json:"routers,omitempty"`
	Services    *Section `json:"services,omitempty"`
	Middlewares *Section `json:"middlewares,omitempty"`
}

// Features are the observability features on.
type Features struct {
	Tracing   string `json:"tracing"`
	Metrics   string `json:"metrics"`
	AccessLog bool   `json:"accessLog"`
}

// Overview is /api/overview.
type Overview struct {
	HTTP      Scheme   `json:"http"`
	TCP       Scheme   `json:"tcp"`
	UDP       Scheme   `json:"udp"`
	Features  Features `json:"features"`
	Providers []string `json:"providers,omitempty"`
}
