package model

// IngressRoute is a traefik.io/v1alpha1 IngressRoute. Every field of the
// Traefik v3 reference is decoded.
type IngressRoute struct {
	Origin
	Meta Meta             `json:"metadata"`
	Spec IngressRouteSpec `json:"spec"`
}

// IngressRouteSpec is the spec of an IngressRoute.
type IngressRouteSpec struct {
	EntryPoints      []string    `json:"entryPoints,omitempty"`
	Routes           []Route     `json:"routes"`
	TLS              *TLS        `json:"tls,omitempty"`
	IngressClassName *string     `json:"ingressClassName,omitempty"`
	ParentRefs       []ParentRef `json:"parentRefs,omitempty"`
}

// Route is one route of an IngressRoute.
type Route struct {
	Match         string             `json:"match"`
	Kind          string             `json:"kind,omitempty"`
	Priority      int64              `json:"priority,omitempty"`
	Syntax        string             `json:"syntax,omitempty"`
	Services      []LoadBalancerSpec `json:"services,omitempty"`
	Middlewares   []MiddlewareRef    `json:"middlewares,omitempty"`
	Observability *Observability     `json:"observability,omitempty"`
}

// MiddlewareRef references a Middleware.
type MiddlewareRef struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

// ParentRef references a parent IngressRoute (multi-layer routing).
type ParentRef struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

// Observability toggles per router.
type Observability struct {
	AccessLogs     *bool  `json:"accessLogs,omitempty"`
	Metrics        *bool  `json:"metrics,omitempty"`
	Tracing        *bool  `json:"tracing,omitempty"`
	TraceVerbosity string `json:"traceVerbosity,omitempty"`
}

// LoadBalancerSpec is one entry of routes[n].services.
type LoadBalancerSpec struct {
	Name               string              `json:"name"`
	Kind               string              `json:"kind,omitempty"`
	Namespace          string              `json:"namespace,omitempty"`
	Port               IntOrString         `json:"port,omitempty"`
	Scheme             string              `json:"scheme,omitempty"`
	Strategy           string              `json:"strategy,omitempty"`
	PassHostHeader     *bool               `json:"passHostHeader,omitempty"`
	ResponseForwarding *ResponseForwarding `json:"responseForwarding,omitempty"`
	Sticky             *Sticky             `json:"sticky,omitempty"`
	ServersTransport   string              `json:"serversTransport,omitempty"`
	Weight             *int                `json:"weight,omitempty"`
	NativeLB           *bool               `json:"nativeLB,omitempty"`
	NodePortLB         bool                `json:"nodePortLB,omitempty"`
	HealthCheck        *ServerHealthCheck  `json:"healthCheck,omitempty"`
	PassiveHealthCheck *PassiveHealthCheck `json:"passiveHealthCheck,omitempty"`
	Middlewares        []MiddlewareRef     `json:"middlewares,omitempty"`
}

// ResponseForwarding configures response flushing.
type ResponseForwarding struct {
	FlushInterval string `json:"flushInterval,omitempty"`
}

// Sticky configures sticky sessions.
type Sticky struct {
	Cookie *Cookie `json:"cookie,omitempty"`
}

// Cookie is the sticky cookie.
type Cookie struct {
	Name     string  `json:"name,omitempty"`
	Secure   bool    `json:"secure,omitempty"`
	HTTPOnly bool    `json:"httpOnly,omitempty"`
	SameSite string  `json:"sameSite,omitempty"`
	MaxAge   int     `json:"maxAge,omitempty"`
	Path     *string `json:"path,omitempty"`
	Domain   string  `json:"domain,omitempty"`
}

// ServerHealthCheck is an active health check.
type ServerHealthCheck struct {
	Scheme            string            `json:"scheme,omitempty"`
	Mode              string            `json:"mode,omitempty"`
	Path              string            `json:"path,omitempty"`
	Method            string            `json:"method,omitempty"`
	Status            int               `json:"status,omitempty"`
	Port              int               `json:"port,omitempty"`
	Interval          *IntOrString      `json:"interval,omitempty"`
	UnhealthyInterval *IntOrString      `json:"unhealthyInterval,omitempty"`
	Timeout           *IntOrString      `json:"timeout,omitempty"`
	Hostname          string            `json:"hostname,omitempty"`
	FollowRedirects   *bool             `json:"followRedirects,omitempty"`
	Headers           map[string]string `json:"headers,omitempty"`
}

// PassiveHealthCheck counts failures of live traffic.
type PassiveHealthCheck struct {
	FailureWindow     *IntOrString `json:"failureWindow,omitempty"`
	MaxFailedAttempts *int         `json:"maxFailedAttempts,omitempty"`
}

// TLS is the spec.tls block.
type TLS struct {
	SecretName   string      `json:"secretName,omitempty"`
	Options      *ObjectRef  `json:"options,omitempty"`
	Store        *ObjectRef  `json:"store,omitempty"`
	CertResolver string      `json:"certResolver,omitempty"`
	Domains      []TLSDomain `json:"domains,omitempty"`
}

// ObjectRef references a TLSOption or TLSStore.
type ObjectRef struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

// TLSDomain is a certificate domain request.
type TLSDomain struct {
	Main string   `json:"main,omitempty"`
	SANs []string `json:"sans,omitempty"`
}
