package model

import (
	"encoding/json"
	"strconv"
)

// Meta is the part of ObjectMeta Sluice uses.
type Meta struct {
	Name              string            `json:"name,omitempty"`
	GenerateName      string            `json:"generateName,omitempty"`
	Namespace         string            `json:"namespace,omitempty"`
	Labels            map[string]string `json:"labels,omitempty"`
	Annotations       map[string]string `json:"annotations,omitempty"`
	ResourceVersion   string            `json:"resourceVersion,omitempty"`
	Generation        int64             `json:"generation,omitempty"`
	CreationTimestamp string            `json:"creationTimestamp,omitempty"`
}

// MetaOf returns the metadata of a model object (a pointer to any kind
// a Snapshot holds), or nil.
func MetaOf(obj any) *Meta {
	switch o := obj.(type) {
	case *IngressRoute:
		return &o.Meta
	case *Service:
		return &o.Meta
	case *EndpointSlice:
		return &o.Meta
	case *Secret:
		return &o.Meta
	case *ConfigMap:
		return &o.Meta
	case *Node:
		return &o.Meta
	case *Middleware:
		return &o.Meta
	case *TraefikService:
		return &o.Meta
	case *TLSOption:
		return &o.Meta
	case *TLSStore:
		return &o.Meta
	case *ServersTransport:
		return &o.Meta
	}
	return nil
}

// Origin says where an object came from, for diagnostics.
type Origin struct {
	File string `json:"-"` // manifest file, empty for API objects
}

// IntOrString is a Kubernetes int-or-string.
type IntOrString struct {
	IsString bool
	Int      int64
	Str      string
}

// UnmarshalJSON accepts a number or a string.
func (v *IntOrString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		v.IsString = true
		return json.Unmarshal(b, &v.Str)
	}
	v.IsString = false
	return json.Unmarshal(b, &v.Int)
}

// MarshalJSON writes a number or a string.
func (v IntOrString) MarshalJSON() ([]byte, error) {
	if v.IsString {
		return json.Marshal(v.Str)
	}
	return json.Marshal(v.Int)
}

// String is the value as written.
func (v IntOrString) String() string {
	if v.IsString {
		return v.Str
	}
	return strconv.FormatInt(v.Int, 10)
}

// IsZero reports an unset port (0 or "").
func (v IntOrString) IsZero() bool { return v.IsString && v.Str == "" || !v.IsString && v.Int == 0 }

// Service is a core/v1 Service.
type Service struct {
	Origin
	Meta Meta        `json:"metadata"`
	Spec ServiceSpec `json:"spec"`
}

// ServiceSpec is the part of a Service spec Sluice uses.
type ServiceSpec struct {
	Type         string            `json:"type,omitempty"`
	ClusterIP    string            `json:"clusterIP,omitempty"`
	ExternalName string            `json:"externalName,omitempty"`
	Ports        []ServicePort     `json:"ports,omitempty"`
	Selector     map[string]string `json:"selector,omitempty"`
}

// ServicePort is one port of a Service.
type ServicePort struct {
	Name        string      `json:"name,omitempty"`
	Protocol    string      `json:"protocol,omitempty"`
	Port        int32       `json:"port"`
	TargetPort  IntOrString `json:"targetPort,omitempty"`
	NodePort    int32       `json:"nodePort,omitempty"`
	AppProtocol string      `json:"appProtocol,omitempty"`
}

// EndpointSlice is a discovery/v1 EndpointSlice.
type EndpointSlice struct {
	Origin
	Meta        Meta           `json:"metadata"`
	AddressType string         `json:"addressType,omitempty"`
	Endpoints   []Endpoint     `json:"endpoints"`
	Ports       []EndpointPort `json:"ports,omitempty"`
}

// ServiceName is the kubernetes.io/service-name label.
func (s *EndpointSlice) ServiceName() string { return s.Meta.Labels["kubernetes.io/service-name"] }

// Endpoint is one endpoint of a slice.
type Endpoint struct {
	Addresses  []string           `json:"addresses"`
	Conditions EndpointConditions `json:"conditions,omitempty"`
	Hostname   string             `json:"hostname,omitempty"`
	NodeName   string             `json:"nodeName,omitempty"`
	Zone       string             `json:"zone,omitempty"`
	TargetRef  map[string]any     `json:"targetRef,omitempty"`
}

// EndpointConditions: nil means the Kubernetes default.
type EndpointConditions struct {
	Ready       *bool `json:"ready,omitempty"`
	Serving     *bool `json:"serving,omitempty"`
	Terminating *bool `json:"terminating,omitempty"`
}

// EndpointPort is one port of a slice.
type EndpointPort struct {
	Name        *string `json:"name,omitempty"`
	Port        *int32  `json:"port,omitempty"`
	Protocol    string  `json:"protocol,omitempty"`
	AppProtocol *string `json:"appProtocol,omitempty"`
}

// Snapshot is everything the compiler reads. Slices are in no particular
// order; the compiler's output does not depend on it.
type Snapshot struct {
	IngressRoutes     []*IngressRoute
	Services          []*Service
	EndpointSlices    []*EndpointSlice
	Middlewares       []*Middleware
	TraefikServices   []*TraefikService
	TLSOptions        []*TLSOption
	TLSStores         []*TLSStore
	ServersTransports []*ServersTransport
	Secrets           []*Secret
	ConfigMaps        []*ConfigMap
	Nodes             []*Node
}

// Secret is a core/v1 Secret (TLS certificates, auth middlewares).
type Secret struct {
	Origin
	Meta       Meta              `json:"metadata"`
	Type       string            `json:"type,omitempty"`
	Data       map[string][]byte `json:"data,omitempty"`
	StringData map[string]string `json:"stringData,omitempty"` // manifests only; the API server folds it into data
}

// Value is the value of key in data, or else in stringData.
func (s *Secret) Value(key string) ([]byte, bool) {
	if v, ok := s.Data[key]; ok {
		return v, true
	}
	v, ok := s.StringData[key]
	return []byte(v), ok
}

// ConfigMap is a core/v1 ConfigMap (ServersTransport rootCAs).
type ConfigMap struct {
	Origin
	Meta Meta              `json:"metadata"`
	Data map[string]string `json:"data,omitempty"`
}

// Node is a core/v1 Node, read for nodePortLB.
type Node struct {
	Meta   Meta       `json:"metadata"`
	Spec   NodeSpec   `json:"spec,omitempty"`
	Status NodeStatus `json:"status,omitempty"`
}

// NodeSpec is the part of a Node's spec Sluice reads.
type NodeSpec struct {
	Unschedulable bool `json:"unschedulable,omitempty"`
}

// NodeStatus is the part of a Node's status Sluice reads.
type NodeStatus struct {
	Addresses []NodeAddress `json:"addresses,omitempty"`
}

// NodeAddress is one address of a Node (InternalIP, ExternalIP, ...).
type NodeAddress struct {
	Type    string `json:"type"`
	Address string `json:"address"`
}

// TraefikServiceSpec is a TraefikService's spec: exactly one kind is set.
type TraefikServiceSpec struct {
	Weighted            *WeightedService  `json:"weighted,omitempty"`
	Mirroring           *MirroringService `json:"mirroring,omitempty"`
	HighestRandomWeight *WeightedService  `json:"highestRandomWeight,omitempty"` // services only; no sticky
	Failover            *FailoverService  `json:"failover,omitempty"`
}

// MirroringService is a TraefikService's mirroring: the main service
// inline, and its mirrors.
type MirroringService struct {
	LoadBalancerSpec
	Mirrors     []MirrorService `json:"mirrors,omitempty"`
	MirrorBody  *bool           `json:"mirrorBody,omitempty"`
	MaxBodySize *int64          `json:"maxBodySize,omitempty"`
}

// MirrorService is one mirror: a service and the percent of requests.
type MirrorService struct {
	LoadBalancerSpec
	Percent int `json:"percent,omitempty"`
}

// FailoverService is a TraefikService's failover (v3.7).
type FailoverService struct {
	Service  *LoadBalancerSpec `json:"service,omitempty"`
	Fallback *LoadBalancerSpec `json:"fallback,omitempty"`
	Errors   *FailoverErrors   `json:"errors,omitempty"`
}

// FailoverErrors says which main answers are retried on the fallback.
type FailoverErrors struct {
	Status              []string `json:"status,omitempty"` // "500-504", "502"
	MaxRequestBodyBytes *int64   `json:"maxRequestBodyBytes,omitempty"`
}

// WeightedService is a TraefikService's weighted round robin.
type WeightedService struct {
	Services []LoadBalancerSpec `json:"services,omitempty"`
	Sticky   *Sticky            `json:"sticky,omitempty"`
}

// ServersTransportSpec is a ServersTransport's spec (the HTTP one).
type ServersTransportSpec struct {
	ServerName          string              `json:"serverName,omitempty"`
	InsecureSkipVerify  bool                `json:"insecureSkipVerify,omitempty"`
	RootCAs             []RootCA            `json:"rootCAs,omitempty"`
	RootCAsSecrets      []string            `json:"rootCAsSecrets,omitempty"` // deprecated form
	CertificatesSecrets []string            `json:"certificatesSecrets,omitempty"`
	CipherSuites        []string            `json:"cipherSuites,omitempty"`
	MinVersion          string              `json:"minVersion,omitempty"`
	MaxVersion          string              `json:"maxVersion,omitempty"`
	MaxIdleConnsPerHost int                 `json:"maxIdleConnsPerHost,omitempty"`
	ForwardingTimeouts  *ForwardingTimeouts `json:"forwardingTimeouts,omitempty"`
	DisableHTTP2        bool                `json:"disableHTTP2,omitempty"`
	PeerCertURI         string              `json:"peerCertURI,omitempty"`
	Spiffe              *Spiffe             `json:"spiffe,omitempty"`
}

// Spiffe is a transport's SPIFFE peer verification.
type Spiffe struct {
	IDs         []string `json:"ids,omitempty"`
	TrustDomain string   `json:"trustDomain,omitempty"`
}

// RootCA names a Secret or a ConfigMap holding a CA bundle.
type RootCA struct {
	Secret    string `json:"secret,omitempty"`
	ConfigMap string `json:"configMap,omitempty"`
}

// ForwardingTimeouts are a ServersTransport's timeouts.
type ForwardingTimeouts struct {
	DialTimeout           *IntOrString `json:"dialTimeout,omitempty"`
	ResponseHeaderTimeout *IntOrString `json:"responseHeaderTimeout,omitempty"`
	IdleConnTimeout       *IntOrString `json:"idleConnTimeout,omitempty"`
	ReadIdleTimeout       *IntOrString `json:"readIdleTimeout,omitempty"`
	PingTimeout           *IntOrString `json:"pingTimeout,omitempty"`
}
