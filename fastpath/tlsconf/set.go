package tlsconf

import (
	"crypto/tls"
	"slices"
	"strings"
)

// Set is the TLS state of one routing table: the certificate store, the
// options, and per entry point which option serves which server name.
// Immutable once published with its table; a handshake reads the Set of
// the table current when it starts.
type Set struct {
	Store       *Store
	Options     map[string]*Option // by name
	EntryPoints []*EntryPoint      // by entry point index
	configs     map[*Option]*tls.Config
}

// EntryPoint maps server names to options, as the per-entry-point TCP
// router of Traefik maps its HTTPS routers' Host names (HostSNI rules):
// a name maps to the option of the routers serving it; others, and
// connections without a name, get Default.
type EntryPoint struct {
	exact   map[string]*Option // lower case, one trailing dot removed
	wild    map[string]*Option // "*.example.com" under ".example.com"
	Default *Option
}

// NewEntryPoint returns an empty mapping with def for every name.
func NewEntryPoint(def *Option) *EntryPoint {
	return &EntryPoint{exact: map[string]*Option{}, wild: map[string]*Option{}, Default: def}
}

// Map maps a router's Host name (as written in its rule) to o.
func (e *EntryPoint) Map(host string, o *Option) {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if strings.HasPrefix(h, "*") {
		e.wild[h[1:]] = o
		return
	}
	e.exact[h] = o
}

// For returns the option for a server name (lower case): an exact name
// first, then a wildcard covering its first label (Traefik ranks the
// HostSNI rules by length, and an exact name is never shorter), then
// Default.
func (e *EntryPoint) For(name string) *Option {
	if name == "" {
		return e.Default
	}
	if o, ok := e.exact[name]; ok {
		return o
	}
	suffix := ""
	if i := strings.IndexByte(name, '.'); i >= 0 {
		suffix = name[i:]
	}
	if o, ok := e.wild[suffix]; ok {
		return o
	}
	return e.Default
}

// Hosts returns the mapped names and options (explanations, tests).
func (e *EntryPoint) Hosts() map[string]*Option {
	m := make(map[string]*Option, len(e.exact)+len(e.wild))
	for k, o := range e.exact {
		m[k] = o
	}
	for k, o := range e.wild {
		m["*"+k] = o
	}
	return m
}

// NewSet binds every usable option of opts to store: each gets its own
// configuration whose certificate is chosen from store by server name
// (the default certificate when none matches, unless the option is
// sniStrict), with tickets sealed by keys (nil: Go's own keys).
func NewSet(store *Store, opts map[string]*Option, eps []*EntryPoint, keys *TicketKeys) *Set {
	s := &Set{Store: store, Options: opts, EntryPoints: eps, configs: map[*Option]*tls.Config{}}
	for _, o := range opts {
		if o.Err != nil {
			continue
		}
		cfg := o.config.Clone()
		cfg.GetCertificate = certGetter(store, o.SNIStrict)
		keys.apply(cfg)
		s.configs[o] = cfg
	}
	return s
}

// certGetter is Traefik's GetCertificate (pkg/tls Manager.Get): an ACME
// TLS-ALPN-01 hello gets the challenge certificate of its name (none: the
// handshake fails); else the store's best certificate for the name, else
// the default one, unless sniStrict.
func certGetter(store *Store, sniStrict bool) func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		if slices.Contains(hello.SupportedProtos, ACMEProtocol) {
			if store.ACME != nil {
				if c := store.ACME(canonicalSNI(hello.ServerName)); c != nil {
					return c, nil
				}
			}
			return nil, nil // crypto/tls then fails the handshake: no certificate
		}
		if c := store.ForHello(hello); c != nil {
			return c.TLS, nil
		}
		if sniStrict {
			return nil, nil
		}
		return store.DefaultCert().TLS, nil
	}
}

// ConfigFor returns the configuration and option of a ClientHello on
// entry point ep; a nil configuration means the connection is closed
// (an option that could not be built, or an entry point without TLS).
func (s *Set) ConfigFor(ep int, hello *tls.ClientHelloInfo) (*tls.Config, *Option) {
	if s == nil || ep < 0 || ep >= len(s.EntryPoints) || s.EntryPoints[ep] == nil {
		return nil, nil
	}
	o := s.EntryPoints[ep].For(canonicalSNI(hello.ServerName))
	if o == nil {
		return nil, nil
	}
	return s.configs[o], o
}

// Configs are the bound configurations (the ticket keys' rotation
// updates them in place).
func (s *Set) Configs() []*tls.Config {
	out := make([]*tls.Config, 0, len(s.configs))
	for _, c := range s.configs {
		out = append(out, c)
	}
	return out
}

// canonicalSNI is the server name as Traefik's TCP router matches it:
// lower case, spaces trimmed, one trailing dot removed.
func canonicalSNI(name string) string {
	name = canonical(name)
	return strings.TrimSuffix(name, ".")
}
