package model

// The traefik.io/v1alpha1 kinds other than IngressRoute, typed as
// Traefik v3.7's CRDs define them (JSON names and shapes), so that a
// field's error names the field when the object is decoded.

// TraefikService is a traefik.io/v1alpha1 TraefikService.
type TraefikService struct {
	Origin
	Meta Meta               `json:"metadata"`
	Spec TraefikServiceSpec `json:"spec"`
}

// ServersTransport is a traefik.io/v1alpha1 ServersTransport.
type ServersTransport struct {
	Origin
	Meta Meta                 `json:"metadata"`
	Spec ServersTransportSpec `json:"spec"`
}

// TLSOption is a traefik.io/v1alpha1 TLSOption.
type TLSOption struct {
	Origin
	Meta Meta          `json:"metadata"`
	Spec TLSOptionSpec `json:"spec"`
}

// TLSOptionSpec is a TLSOption's spec.
type TLSOptionSpec struct {
	MinVersion               string     `json:"minVersion,omitempty"`
	MaxVersion               string     `json:"maxVersion,omitempty"`
	CipherSuites             []string   `json:"cipherSuites,omitempty"`
	CurvePreferences         []string   `json:"curvePreferences,omitempty"`
	ClientAuth               ClientAuth `json:"clientAuth,omitempty"`
	SniStrict                bool       `json:"sniStrict,omitempty"`
	ALPNProtocols            []string   `json:"alpnProtocols,omitempty"`
	DisableSessionTickets    bool       `json:"disableSessionTickets,omitempty"`
	PreferServerCipherSuites *bool      `json:"preferServerCipherSuites,omitempty"` // deprecated, ignored by Go
}

// ClientAuth is a TLSOption's client certificate policy.
type ClientAuth struct {
	SecretNames    []string `json:"secretNames,omitempty"`
	ClientAuthType string   `json:"clientAuthType,omitempty"`
}

// TLSStore is a traefik.io/v1alpha1 TLSStore.
type TLSStore struct {
	Origin
	Meta Meta         `json:"metadata"`
	Spec TLSStoreSpec `json:"spec"`
}

// TLSStoreSpec is a TLSStore's spec.
type TLSStoreSpec struct {
	DefaultCertificate   *Certificate   `json:"defaultCertificate,omitempty"`
	DefaultGeneratedCert *GeneratedCert `json:"defaultGeneratedCert,omitempty"`
	Certificates         []Certificate  `json:"certificates,omitempty"`
}

// Certificate names a Secret holding a certificate and its key.
type Certificate struct {
	SecretName string `json:"secretName"`
}

// GeneratedCert is a default certificate a resolver issues.
type GeneratedCert struct {
	Resolver string     `json:"resolver,omitempty"`
	Domain   *TLSDomain `json:"domain,omitempty"`
}

// Middleware is a traefik.io/v1alpha1 Middleware: exactly one kind is set.
type Middleware struct {
	Origin
	Meta Meta           `json:"metadata"`
	Spec MiddlewareSpec `json:"spec"`
}

// MiddlewareSpec holds the one middleware kind a Middleware configures.
type MiddlewareSpec struct {
	AddPrefix         *AddPrefix                `json:"addPrefix,omitempty"`
	StripPrefix       *StripPrefix              `json:"stripPrefix,omitempty"`
	StripPrefixRegex  *StripPrefixRegex         `json:"stripPrefixRegex,omitempty"`
	ReplacePath       *ReplacePath              `json:"replacePath,omitempty"`
	ReplacePathRegex  *ReplacePathRegex         `json:"replacePathRegex,omitempty"`
	Chain             *Chain                    `json:"chain,omitempty"`
	IPWhiteList       *IPAllowList              `json:"ipWhiteList,omitempty"` // deprecated name of ipAllowList
	IPAllowList       *IPAllowList              `json:"ipAllowList,omitempty"`
	Headers           *Headers                  `json:"headers,omitempty"`
	EncodedCharacters *EncodedCharacters        `json:"encodedCharacters,omitempty"`
	Errors            *ErrorPage                `json:"errors,omitempty"`
	RateLimit         *RateLimit                `json:"rateLimit,omitempty"`
	RedirectRegex     *RedirectRegex            `json:"redirectRegex,omitempty"`
	RedirectScheme    *RedirectScheme           `json:"redirectScheme,omitempty"`
	BasicAuth         *BasicAuth                `json:"basicAuth,omitempty"`
	DigestAuth        *BasicAuth                `json:"digestAuth,omitempty"` // the same fields as basicAuth
	ForwardAuth       *ForwardAuth              `json:"forwardAuth,omitempty"`
	InFlightReq       *InFlightReq              `json:"inFlightReq,omitempty"`
	Buffering         *Buffering                `json:"buffering,omitempty"`
	CircuitBreaker    *CircuitBreaker           `json:"circuitBreaker,omitempty"`
	Compress          *Compress                 `json:"compress,omitempty"`
	PassTLSClientCert *PassTLSClientCert        `json:"passTLSClientCert,omitempty"`
	Retry             *Retry                    `json:"retry,omitempty"`
	ContentType       *ContentType              `json:"contentType,omitempty"`
	GrpcWeb           *GrpcWeb                  `json:"grpcWeb,omitempty"`
	Plugin            map[string]map[string]any `json:"plugin,omitempty"`
}

// AddPrefix adds a path prefix.
type AddPrefix struct {
	Prefix string `json:"prefix,omitempty"`
}

// StripPrefix removes path prefixes.
type StripPrefix struct {
	Prefixes   []string `json:"prefixes,omitempty"`
	ForceSlash *bool    `json:"forceSlash,omitempty"` // deprecated
}

// StripPrefixRegex removes path prefixes matched by regexps.
type StripPrefixRegex struct {
	Regex []string `json:"regex,omitempty"`
}

// ReplacePath replaces the path.
type ReplacePath struct {
	Path string `json:"path,omitempty"`
}

// ReplacePathRegex rewrites the path with a regexp.
type ReplacePathRegex struct {
	Regex       string `json:"regex,omitempty"`
	Replacement string `json:"replacement,omitempty"`
}

// Chain applies other middlewares.
type Chain struct {
	Middlewares []MiddlewareRef `json:"middlewares,omitempty"`
}

// IPStrategy says which IP of a request is the client's.
type IPStrategy struct {
	Depth       int      `json:"depth,omitempty"`
	ExcludedIPs []string `json:"excludedIPs,omitempty"`
	IPv6Subnet  *int     `json:"ipv6Subnet,omitempty"`
}

// IPAllowList accepts requests from source ranges only.
type IPAllowList struct {
	SourceRange      []string    `json:"sourceRange,omitempty"`
	IPStrategy       *IPStrategy `json:"ipStrategy,omitempty"`
	RejectStatusCode int         `json:"rejectStatusCode,omitempty"`
}

// Headers sets request and response headers, CORS and security headers.
type Headers struct {
	CustomRequestHeaders              map[string]string `json:"customRequestHeaders,omitempty"`
	CustomResponseHeaders             map[string]string `json:"customResponseHeaders,omitempty"`
	AccessControlAllowCredentials     bool              `json:"accessControlAllowCredentials,omitempty"`
	AccessControlAllowHeaders         []string          `json:"accessControlAllowHeaders,omitempty"`
	AccessControlAllowMethods         []string          `json:"accessControlAllowMethods,omitempty"`
	AccessControlAllowOriginList      []string          `json:"accessControlAllowOriginList,omitempty"`
	AccessControlAllowOriginListRegex []string          `json:"accessControlAllowOriginListRegex,omitempty"`
	AccessControlExposeHeaders        []string          `json:"accessControlExposeHeaders,omitempty"`
	AccessControlMaxAge               *int64            `json:"accessControlMaxAge,omitempty"`
	AddVaryHeader                     bool              `json:"addVaryHeader,omitempty"`
	AllowedHosts                      []string          `json:"allowedHosts,omitempty"`
	HostsProxyHeaders                 []string          `json:"hostsProxyHeaders,omitempty"`
	SSLProxyHeaders                   map[string]string `json:"sslProxyHeaders,omitempty"`
	STSSeconds                        *int64            `json:"stsSeconds,omitempty"`
	STSIncludeSubdomains              bool              `json:"stsIncludeSubdomains,omitempty"`
	STSPreload                        bool              `json:"stsPreload,omitempty"`
	ForceSTSHeader                    bool              `json:"forceSTSHeader,omitempty"`
	FrameDeny                         bool              `json:"frameDeny,omitempty"`
	CustomFrameOptionsValue           string            `json:"customFrameOptionsValue,omitempty"`
	ContentTypeNosniff                bool              `json:"contentTypeNosniff,omitempty"`
	BrowserXSSFilter                  bool              `json:"browserXssFilter,omitempty"`
	CustomBrowserXSSValue             string            `json:"customBrowserXSSValue,omitempty"`
	ContentSecurityPolicy             string            `json:"contentSecurityPolicy,omitempty"`
	ContentSecurityPolicyReportOnly   string            `json:"contentSecurityPolicyReportOnly,omitempty"`
	PublicKey                         string            `json:"publicKey,omitempty"`
	ReferrerPolicy                    string            `json:"referrerPolicy,omitempty"`
	PermissionsPolicy                 string            `json:"permissionsPolicy,omitempty"`
	IsDevelopment                     bool              `json:"isDevelopment,omitempty"`
	FeaturePolicy                     *string           `json:"featurePolicy,omitempty"`        // deprecated
	SSLRedirect                       *bool             `json:"sslRedirect,omitempty"`          // deprecated
	SSLTemporaryRedirect              *bool             `json:"sslTemporaryRedirect,omitempty"` // deprecated
	SSLHost                           *string           `json:"sslHost,omitempty"`              // deprecated
	SSLForceHost                      *bool             `json:"sslForceHost,omitempty"`         // deprecated
}

// EncodedCharacters allows encoded characters in the path.
type EncodedCharacters struct {
	AllowEncodedSlash         bool `json:"allowEncodedSlash,omitempty"`
	AllowEncodedBackSlash     bool `json:"allowEncodedBackSlash,omitempty"`
	AllowEncodedNullCharacter bool `json:"allowEncodedNullCharacter,omitempty"`
	AllowEncodedSemicolon     bool `json:"allowEncodedSemicolon,omitempty"`
	AllowEncodedPercent       bool `json:"allowEncodedPercent,omitempty"`
	AllowEncodedQuestionMark  bool `json:"allowEncodedQuestionMark,omitempty"`
	AllowEncodedHash          bool `json:"allowEncodedHash,omitempty"`
}

// ErrorPage serves error pages from a service.
type ErrorPage struct {
	Status              []string         `json:"status,omitempty"`
	StatusRewrites      map[string]int   `json:"statusRewrites,omitempty"`
	Service             LoadBalancerSpec `json:"service,omitempty"`
	Query               string           `json:"query,omitempty"`
	ErrorRequestHeaders []string         `json:"errorRequestHeaders,omitempty"`
}

// SourceCriterion says what groups requests for rate and in-flight limits.
type SourceCriterion struct {
	IPStrategy        *IPStrategy `json:"ipStrategy,omitempty"`
	RequestHeaderName string      `json:"requestHeaderName,omitempty"`
	RequestHost       bool        `json:"requestHost,omitempty"`
}

// RateLimit limits the request rate per source.
type RateLimit struct {
	Average         *int64           `json:"average,omitempty"`
	Period          *IntOrString     `json:"period,omitempty"`
	Burst           *int64           `json:"burst,omitempty"`
	SourceCriterion *SourceCriterion `json:"sourceCriterion,omitempty"`
	Redis           *Redis           `json:"redis,omitempty"`
}

// Redis is a rate limit's shared store.
type Redis struct {
	Endpoints      []string     `json:"endpoints,omitempty"`
	TLS            *ClientTLS   `json:"tls,omitempty"`
	Secret         string       `json:"secret,omitempty"`
	DB             int          `json:"db,omitempty"`
	PoolSize       int          `json:"poolSize,omitempty"`
	MinIdleConns   int          `json:"minIdleConns,omitempty"`
	MaxActiveConns int          `json:"maxActiveConns,omitempty"`
	ReadTimeout    *IntOrString `json:"readTimeout,omitempty"`
	WriteTimeout   *IntOrString `json:"writeTimeout,omitempty"`
	DialTimeout    *IntOrString `json:"dialTimeout,omitempty"`
}

// ClientTLS is a client's TLS configuration, from Secrets.
type ClientTLS struct {
	CASecret           string `json:"caSecret,omitempty"`
	CertSecret         string `json:"certSecret,omitempty"`
	InsecureSkipVerify bool   `json:"insecureSkipVerify,omitempty"`
	CAOptional         *bool  `json:"caOptional,omitempty"` // forwardAuth only; deprecated
}

// RedirectRegex redirects by regexp.
type RedirectRegex struct {
	Regex       string `json:"regex,omitempty"`
	Replacement string `json:"replacement,omitempty"`
	Permanent   bool   `json:"permanent,omitempty"`
}

// RedirectScheme redirects to another scheme.
type RedirectScheme struct {
	Scheme    string `json:"scheme,omitempty"`
	Port      string `json:"port,omitempty"`
	Permanent bool   `json:"permanent,omitempty"`
}

// BasicAuth (and digestAuth) authenticates with users from a Secret.
type BasicAuth struct {
	Secret       string `json:"secret,omitempty"`
	Realm        string `json:"realm,omitempty"`
	RemoveHeader bool   `json:"removeHeader,omitempty"`
	HeaderField  string `json:"headerField,omitempty"`
}

// ForwardAuth delegates authentication to a service.
type ForwardAuth struct {
	Address                  string     `json:"address,omitempty"`
	TrustForwardHeader       *bool      `json:"trustForwardHeader,omitempty"`
	AuthResponseHeaders      []string   `json:"authResponseHeaders,omitempty"`
	AuthResponseHeadersRegex string     `json:"authResponseHeadersRegex,omitempty"`
	AuthRequestHeaders       []string   `json:"authRequestHeaders,omitempty"`
	TLS                      *ClientTLS `json:"tls,omitempty"`
	MaxResponseBodySize      *int64     `json:"maxResponseBodySize,omitempty"`
	AddAuthCookiesToResponse []string   `json:"addAuthCookiesToResponse,omitempty"`
	HeaderField              string     `json:"headerField,omitempty"`
	ForwardBody              bool       `json:"forwardBody,omitempty"`
	MaxBodySize              *int64     `json:"maxBodySize,omitempty"`
	PreserveLocationHeader   bool       `json:"preserveLocationHeader,omitempty"`
	PreserveRequestMethod    bool       `json:"preserveRequestMethod,omitempty"`
	AuthSigninURL            string     `json:"authSigninURL,omitempty"`
}

// InFlightReq limits requests in flight per source.
type InFlightReq struct {
	Amount          int64            `json:"amount,omitempty"`
	SourceCriterion *SourceCriterion `json:"sourceCriterion,omitempty"`
}

// Buffering buffers request and response bodies.
type Buffering struct {
	MaxRequestBodyBytes  int64  `json:"maxRequestBodyBytes,omitempty"`
	MemRequestBodyBytes  int64  `json:"memRequestBodyBytes,omitempty"`
	MaxResponseBodyBytes int64  `json:"maxResponseBodyBytes,omitempty"`
	MemResponseBodyBytes int64  `json:"memResponseBodyBytes,omitempty"`
	RetryExpression      string `json:"retryExpression,omitempty"`
}

// CircuitBreaker stops calling a failing service for a while.
type CircuitBreaker struct {
	Expression       string       `json:"expression,omitempty"`
	CheckPeriod      *IntOrString `json:"checkPeriod,omitempty"`
	FallbackDuration *IntOrString `json:"fallbackDuration,omitempty"`
	RecoveryDuration *IntOrString `json:"recoveryDuration,omitempty"`
	ResponseCode     int          `json:"responseCode,omitempty"`
}

// Compress compresses responses.
type Compress struct {
	ExcludedContentTypes []string `json:"excludedContentTypes,omitempty"`
	IncludedContentTypes []string `json:"includedContentTypes,omitempty"`
	MinResponseBodyBytes *int     `json:"minResponseBodyBytes,omitempty"`
	Encodings            []string `json:"encodings,omitempty"`
	DefaultEncoding      *string  `json:"defaultEncoding,omitempty"`
}

// PassTLSClientCert passes the client certificate on in headers.
type PassTLSClientCert struct {
	PEM  bool                      `json:"pem,omitempty"`
	Info *TLSClientCertificateInfo `json:"info,omitempty"`
}

// TLSClientCertificateInfo selects what of the certificate is passed.
type TLSClientCertificateInfo struct {
	NotAfter     bool                 `json:"notAfter,omitempty"`
	NotBefore    bool                 `json:"notBefore,omitempty"`
	Sans         bool                 `json:"sans,omitempty"`
	SerialNumber bool                 `json:"serialNumber,omitempty"`
	Subject      *TLSClientCertDNInfo `json:"subject,omitempty"`
	Issuer       *TLSClientCertDNInfo `json:"issuer,omitempty"`
}

// TLSClientCertDNInfo selects the parts of a distinguished name passed
// (organizationalUnit: subject only).
type TLSClientCertDNInfo struct {
	Country            bool `json:"country,omitempty"`
	Province           bool `json:"province,omitempty"`
	Locality           bool `json:"locality,omitempty"`
	Organization       bool `json:"organization,omitempty"`
	OrganizationalUnit bool `json:"organizationalUnit,omitempty"`
	CommonName         bool `json:"commonName,omitempty"`
	SerialNumber       bool `json:"serialNumber,omitempty"`
	DomainComponent    bool `json:"domainComponent,omitempty"`
}

// Retry retries failed requests.
type Retry struct {
	Attempts                   int          `json:"attempts,omitempty"`
	Timeout                    *IntOrString `json:"timeout,omitempty"`
	InitialInterval            *IntOrString `json:"initialInterval,omitempty"`
	MaxRequestBodyBytes        *int64       `json:"maxRequestBodyBytes,omitempty"`
	Status                     []string     `json:"status,omitempty"`
	DisableRetryOnNetworkError bool         `json:"disableRetryOnNetworkError,omitempty"`
	RetryNonIdempotentMethod   bool         `json:"retryNonIdempotentMethod,omitempty"`
}

// ContentType controls Content-Type detection.
type ContentType struct {
	AutoDetect *bool `json:"autoDetect,omitempty"`
}

// GrpcWeb translates gRPC-Web to gRPC.
type GrpcWeb struct {
	AllowOrigins []string `json:"allowOrigins,omitempty"`
}
