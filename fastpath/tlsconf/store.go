package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/netip"
	"slices"
	"strings"
)

// Cert is one loaded certificate with the names Traefik files it under.
type Cert struct {
	TLS    *tls.Certificate
	Leaf   *x509.Certificate
	Names  []string // CN, DNS and IP SANs, lower case, sorted (Traefik's store key)
	Source string   // where it came from, for explanations: "Secret ns/name"
	key    string   // Names joined by ","
	rank   int      // position in Traefik's search order (0 first)
}

// NewCert files a parsed certificate under its names as Traefik's store
// does (pkg/tls parseCertificate): the subject's common name, then DNS
// names and IP addresses, lower case.
func NewCert(c *tls.Certificate, source string) *Cert {
	leaf := c.Leaf
	if leaf == nil && len(c.Certificate) > 0 {
		leaf, _ = x509.ParseCertificate(c.Certificate[0])
	}
	cert := &Cert{TLS: c, Leaf: leaf, Source: source}
	if leaf == nil {
		return cert
	}
	cn := leaf.Subject.CommonName
	if cn != "" {
		cert.Names = append(cert.Names, strings.ToLower(cn))
	}
	for _, d := range leaf.DNSNames {
		if d != cn {
			cert.Names = append(cert.Names, strings.ToLower(d))
		}
	}
	for _, ip := range leaf.IPAddresses {
		if s := ip.String(); s != cn {
			cert.Names = append(cert.Names, strings.ToLower(s))
		}
	}
	slices.Sort(cert.Names)
	cert.key = strings.Join(cert.Names, ",")
	return cert
}

// Store is the certificates of Traefik's default TLS store, indexed for a
// lookup by server name that neither allocates nor scans. Immutable.
//
// Traefik (pkg/tls CertificateStore.GetBestCertificate) tries the
// certificates in reverse order of their sorted, comma-joined names and
// takes the first with a name equal to the server name, or a wildcard
// name covering its first label; none: the default certificate. Store
// gives the same answer from two maps: per name, the first certificate in
// that order naming it exactly, and per wildcard suffix, the first naming
// that wildcard; the earlier of the two wins.
type Store struct {
	exact   map[string]*Cert
	wild    map[string]*Cert // "*.example.com" under ".example.com"; "*" under ""
	Default *Cert
	certs   []*Cert // in search order
	// ACME answers a ClientHello asking for acme-tls/1 (an ACME
	// TLS-ALPN-01 validation) with the challenge certificate for its
	// server name; nil, or no certificate: the handshake fails.
	ACME func(serverName string) *tls.Certificate
	// ACMEDefault is TLSStore default's defaultGeneratedCert: the default
	// certificate is the one its resolver issues for its names (until
	// then, and nil: Traefik's generated one).
	ACMEDefault *ACMEDefault
}

// ACMEDefault names the resolver and the names (main first, lower case)
// of an ACME default certificate.
type ACMEDefault struct {
	Resolver string
	Names    []string
}

// NewStore indexes certs; def is the default certificate (nil: Traefik's
// generated one, see DefaultCert). Certificates with the same names as an earlier one are
// dropped, as Traefik drops them, and returned.
func NewStore(certs []*Cert, def *Cert) (*Store, []*Cert) {
	s := &Store{exact: map[string]*Cert{}, wild: map[string]*Cert{}, Default: def}
	seen := map[string]bool{}
	var dropped []*Cert
	for _, c := range certs {
		if seen[c.key] {
			dropped = append(dropped, c)
			continue
		}
		seen[c.key] = true
		s.certs = append(s.certs, c)
	}
	slices.SortStableFunc(s.certs, func(a, b *Cert) int { return strings.Compare(b.key, a.key) })
	for i, c := range s.certs {
		c.rank = i
		for _, n := range c.Names {
			if _, ok := s.exact[n]; !ok {
				s.exact[n] = c
			}
			if strings.HasPrefix(n, "*") {
				w := strings.TrimRight(n, ".")[1:]
				if _, ok := s.wild[w]; !ok {
					s.wild[w] = c
				}
			}
		}
	}
	return s, dropped
}

// DefaultCert is the default certificate: the configured one, else
// Traefik's generated one (made at the first need).
func (s *Store) DefaultCert() *Cert {
	if s.Default != nil {
		return s.Default
	}
	return Generated()
}

// Certs are the store's certificates in search order.
func (s *Store) Certs() []*Cert { return s.certs }

// Match returns the certificate for a server name (lower case, without
// surrounding spaces), or nil.
func (s *Store) Match(name string) *Cert {
	e := s.exact[name]
	suffix := ""
	if i := strings.IndexByte(name, '.'); i >= 0 {
		suffix = name[i:]
	}
	w := s.wild[suffix]
	switch {
	case e == nil:
		return w
	case w == nil || e.rank <= w.rank:
		return e
	}
	return w
}

// ForHello returns the certificate for a ClientHello: by its server name,
// or, without one, by the local address it reached (Traefik tries that
// address as a name), or nil.
func (s *Store) ForHello(hello *tls.ClientHelloInfo) *Cert {
	name := hello.ServerName
	if name == "" {
		var buf [64]byte
		if ip := localIP(hello.Conn); ip.IsValid() {
			return s.Match(string(ip.AppendTo(buf[:0])))
		}
		return nil
	}
	return s.Match(canonical(name))
}

// canonical is Traefik's CanonicalDomain: lower case, spaces trimmed; it
// allocates only when the name is not already so.
func canonical(name string) string {
	for i := 0; i < len(name); i++ {
		if c := name[i]; 'A' <= c && c <= 'Z' || c == ' ' || c == '\t' {
			return strings.ToLower(strings.TrimSpace(name))
		}
	}
	return name
}

func localIP(c net.Conn) netip.Addr {
	if c == nil {
		return netip.Addr{}
	}
	if a, ok := c.LocalAddr().(*net.TCPAddr); ok {
		return a.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}
