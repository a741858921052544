package compile

import (
	"crypto/tls"
	"fmt"
	"strings"
	"time"

	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// serversTransport resolves a service's serversTransport (crd.md 4): a
// ServersTransport in the service's namespace, or one named by qualified
// name (refs.go); none, or default@internal, is the static default
// transport. Missing, or naming a Secret that is missing or wrong, drops
// the route (Traefik: 404).
func (c *compiler) serversTransport(f, ns, name string) (*upstream.TransportConfig, *svcErr) {
	if name == "" {
		return c.opts.DefaultTransport, nil
	}
	f += ".serversTransport"
	var obj *model.ServersTransport
	if strings.Contains(name, "@") {
		st, dflt, e := c.qualifiedTransport(f, ns, name)
		if e != nil || dflt {
			return c.opts.DefaultTransport, e
		}
		obj = st
	} else {
		key := ns + "/" + name
		c.noteObj(depServersTransport, key)
		if obj = c.transports[key]; obj == nil {
			return nil, &svcErr{f, "serversTransport not found: " + key}
		}
	}
	ns, name = obj.Meta.Namespace, obj.Meta.Name // a qualified name may name another namespace
	key := ns + "/" + name
	st := &obj.Spec
	tc := &upstream.TransportConfig{Name: key, ServerName: st.ServerName, InsecureSkipVerify: st.InsecureSkipVerify,
		MaxIdleConnsPerHost: st.MaxIdleConnsPerHost, DisableHTTP2: st.DisableHTTP2, PeerCertURI: st.PeerCertURI}
	if e := c.transportSecrets(f, ns, st, tc); e != nil {
		return nil, e
	}
	if e := transportTimeouts(f, st.ForwardingTimeouts, tc); e != nil {
		return nil, e
	}
	if sp := st.Spiffe; sp != nil {
		if err := tc.UseSPIFFE(c.opts.SPIFFE, sp.IDs, sp.TrustDomain); err != nil {
			c.errorf(objName("ServersTransport", ns, name), "spec.spiffe", "%v; servers are reached with the default "+
				"TLS configuration, as Traefik does", err)
		}
	}
	if err := tc.Validate(); err != nil {
		return nil, &svcErr{f, fmt.Sprintf("ServersTransport %s: %v", key, err)}
	}
	return tc, nil
}

// transportSecrets reads root CAs ("tls.ca" or "ca.crt") and client
// certificates ("tls.crt", "tls.key") from Secrets in ns.
func (c *compiler) transportSecrets(f, ns string, st *model.ServersTransportSpec, tc *upstream.TransportConfig) *svcErr {
	var cas []string
	for _, r := range st.RootCAs {
		if r.ConfigMap == "" {
			cas = append(cas, r.Secret)
			continue
		}
		key := ns + "/" + r.ConfigMap
		c.noteObj(depConfigMap, key)
		cm := c.configMaps[key]
		if cm == nil {
			return &svcErr{f, "configmap not found: " + key}
		}
		ca, ok := cm.Data["tls.ca"]
		if !ok {
			ca, ok = cm.Data["ca.crt"]
		}
		if !ok {
			return &svcErr{f, fmt.Sprintf("configmap %s has no tls.ca or ca.crt", key)}
		}
		tc.RootCAs = append(tc.RootCAs, []byte(ca))
	}
	for _, name := range append(cas, st.RootCAsSecrets...) {
		s, e := c.secret(f, ns, name)
		if e != nil {
			return e
		}
		ca, ok := s.Value("tls.ca")
		if !ok {
			ca, ok = s.Value("ca.crt")
		}
		if !ok {
			return &svcErr{f, fmt.Sprintf("secret %s/%s has no tls.ca or ca.crt", ns, name)}
		}
		tc.RootCAs = append(tc.RootCAs, ca)
	}
	for _, name := range st.CertificatesSecrets {
		s, e := c.secret(f, ns, name)
		if e != nil {
			return e
		}
		crt, _ := s.Value("tls.crt")
		key, _ := s.Value("tls.key")
		cert, err := tls.X509KeyPair(crt, key)
		if err != nil {
			return &svcErr{f, fmt.Sprintf("secret %s/%s: %v", ns, name, err)}
		}
		tc.Certificates = append(tc.Certificates, cert)
	}
	return nil
}

func (c *compiler) secret(f, ns, name string) (*model.Secret, *svcErr) {
	key := ns + "/" + name
	c.noteObj(depSecret, key)
	if s := c.secrets[key]; s != nil {
		return s, nil
	}
	return nil, &svcErr{f, "secret not found: " + key}
}

// transportTimeouts reads forwardingTimeouts (Traefik: dial 30s,
// responseHeader none, idleConn 90s).
func transportTimeouts(f string, ft *model.ForwardingTimeouts, tc *upstream.TransportConfig) *svcErr {
	if ft == nil {
		return nil
	}
	for _, d := range []struct {
		field string
		v     *model.IntOrString
		dst   *time.Duration
	}{
		{"dialTimeout", ft.DialTimeout, &tc.DialTimeout},
		{"responseHeaderTimeout", ft.ResponseHeaderTimeout, &tc.ResponseHeaderTimeout},
		{"idleConnTimeout", ft.IdleConnTimeout, &tc.IdleConnTimeout},
	} {
		v, err := duration(d.v, 0)
		if err != nil || v < 0 {
			return &svcErr{f + ".forwardingTimeouts." + d.field, fmt.Sprintf("invalid duration %q", d.v.String())}
		}
		*d.dst = v
	}
	return nil
}
