package compile

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/fastpath/middleware"
	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// forwardAuth builds a forwardAuth middleware as Traefik's provider reads
// it (createForwardAuthMiddleware): maxBodySize -1 unless set, the TLS
// block's CA and client certificate from Secrets. Its HTTP client (and so
// its pool of connections to the auth server) is kept across tables while
// the Middleware and its Secrets are unchanged.
func forwardAuth(c *compiler, m *model.Middleware) (pipeline.Middleware, error) {
	s := m.Spec.ForwardAuth
	if s.Address == "" {
		return nil, errors.New("forward authentication requires an address")
	}
	f := middleware.ForwardAuth{Address: s.Address, TrustForwardHeader: s.TrustForwardHeader, AuthResponseHeaders: s.AuthResponseHeaders,
		AuthResponseHeadersRegex: s.AuthResponseHeadersRegex, AuthRequestHeaders: s.AuthRequestHeaders,
		AddAuthCookiesToResponse: s.AddAuthCookiesToResponse, ForwardBody: s.ForwardBody, MaxBodySize: -1, MaxResponseBodySize: -1,
		PreserveLocationHeader: s.PreserveLocationHeader, PreserveRequestMethod: s.PreserveRequestMethod, AuthSigninURL: s.AuthSigninURL}
	if s.MaxBodySize != nil {
		f.MaxBodySize = *s.MaxBodySize
	}
	if s.MaxResponseBodySize != nil {
		f.MaxResponseBodySize = *s.MaxResponseBodySize
	}
	conf, identity, err := c.forwardAuthTLS(m, s.TLS)
	if err != nil {
		return nil, err
	}
	c.inScope("forwardAuth client"+identity, func() {
		f.Client = c.state(m, func() any { return authClient(conf) }).(*http.Client)
	})
	return f.Middleware()
}

// authClient is Traefik's forwardAuth client: no redirects followed, 30 s
// for the whole exchange, Go's default transport (HTTP/2 by ALPN) with
// the TLS settings, keeping more idle connections per host than Go's two
// so that a busy route reuses them.
func authClient(conf *tls.Config) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	if conf != nil {
		tr.TLSClientConfig = conf
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// forwardAuthTLS reads the tls block: caSecret (tls.ca or ca.crt, or a
// Secret's only key), certSecret (tls.crt and tls.key),
// insecureSkipVerify; identity names the Secrets as read, so that a
// changed Secret gets a new client.
func (c *compiler) forwardAuthTLS(m *model.Middleware, t *model.ClientTLS) (*tls.Config, string, error) {
	if t == nil {
		return nil, "", nil
	}
	ns := m.Meta.Namespace
	conf := &tls.Config{InsecureSkipVerify: t.InsecureSkipVerify} //nolint:gosec // the user's choice, as in Traefik
	identity := ""
	if t.CASecret != "" {
		s, e := c.secret("", ns, t.CASecret)
		if e != nil {
			return nil, "", fmt.Errorf("failed to load auth ca secret: secret '%s/%s' not found", ns, t.CASecret)
		}
		ca, ok := s.Value("tls.ca")
		if !ok {
			ca, ok = s.Value("ca.crt")
		}
		if !ok && len(s.Data)+len(s.StringData) == 1 {
			for _, v := range s.Data {
				ca, ok = v, true
			}
			for _, v := range s.StringData {
				ca, ok = []byte(v), true
			}
		}
		if !ok {
			return nil, "", fmt.Errorf("failed to load auth ca secret: secret '%s/%s' has no CA block", ns, t.CASecret)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(ca) {
			return nil, "", fmt.Errorf("unable to create client TLS configuration: secret '%s/%s': no certificate in its CA", ns, t.CASecret)
		}
		conf.RootCAs = pool
		identity += fmt.Sprintf(" ca %p", s)
	}
	if t.CertSecret != "" {
		s, e := c.secret("", ns, t.CertSecret)
		if e != nil {
			return nil, "", fmt.Errorf("failed to load auth secret: secret '%s/%s' does not exist", ns, t.CertSecret)
		}
		crt, okc := s.Value("tls.crt")
		key, okk := s.Value("tls.key")
		if !okc || !okk {
			return nil, "", fmt.Errorf("failed to load auth secret: secret '%s/%s' must contain tls.crt and tls.key", ns, t.CertSecret)
		}
		pair, err := tls.X509KeyPair(crt, key)
		if err != nil {
			return nil, "", fmt.Errorf("unable to create client TLS configuration: secret '%s/%s': the certificate and key do not load", ns, t.CertSecret)
		}
		conf.Certificates = []tls.Certificate{pair}
		identity += fmt.Sprintf(" cert %p", s)
	}
	return conf, identity, nil
}

// redisLimiter is a rateLimit's Redis client, as Traefik's provider reads
// the redis block (its defaults; the credentials from a Secret's username
// and password; TLS as forwardAuth's), kept across tables while the
// Middleware and its Secrets are unchanged, and closed once dropped.
func (c *compiler) redisLimiter(m *model.Middleware, r *model.Redis) (*middleware.RedisLimiter, error) {
	o := middleware.RedisOptions{Endpoints: []string{"localhost:6379"}, DB: r.DB, PoolSize: r.PoolSize, MinIdleConns: r.MinIdleConns,
		MaxActive: r.MaxActiveConns}
	if len(r.Endpoints) > 0 {
		o.Endpoints = r.Endpoints
	}
	var err error
	if o.DialTimeout, err = duration(r.DialTimeout, 5*time.Second); err != nil {
		return nil, err
	}
	if o.ReadTimeout, err = duration(r.ReadTimeout, 3*time.Second); err != nil {
		return nil, err
	}
	if o.WriteTimeout, err = duration(r.WriteTimeout, 3*time.Second); err != nil {
		return nil, err
	}
	tlsConf, identity, err := c.forwardAuthTLS(m, r.TLS)
	if err != nil {
		return nil, err
	}
	o.TLS = tlsConf
	if r.Secret != "" {
		s, e := c.secret("", m.Meta.Namespace, r.Secret)
		if e != nil {
			return nil, fmt.Errorf("secret '%s/%s' not found", m.Meta.Namespace, r.Secret)
		}
		user, okU := s.Value("username")
		password, okP := s.Value("password")
		if !okU || !okP {
			return nil, fmt.Errorf("secret '%s/%s' must contain both username and password keys", m.Meta.Namespace, r.Secret)
		}
		o.Username, o.Password = string(user), string(password)
		identity += fmt.Sprintf(" credentials %p", s)
	}
	name := Normalize(m.Meta.Namespace+"-"+m.Meta.Name) + Provider
	var lim *middleware.RedisLimiter
	c.inScope("redis client"+identity, func() {
		lim = c.state(m, func() any { return middleware.NewRedisLimiter(name, o) }).(*middleware.RedisLimiter)
	})
	return lim, nil
}
