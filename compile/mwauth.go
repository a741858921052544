package compile

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/fastpath/middleware"
	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// basicAuth builds a basicAuth middleware from its Secret, as Traefik's
// provider reads it (pkg/provider/kubernetes/crd kubernetes.go): a
// kubernetes.io/basic-auth Secret is one user (username, password hashed
// {SHA}); any other holds exactly one key whose lines are htpasswd lines.
// Errors name the Secret and never its content.
func basicAuth(c *compiler, m *model.Middleware) (pipeline.Middleware, error) {
	spec := m.Spec.BasicAuth
	s, err := c.authSecret(m, spec.Secret)
	if err != nil {
		return nil, err
	}
	var users []string
	if s.Type == "kubernetes.io/basic-auth" {
		name, okName := s.Value("username")
		password, okPassword := s.Value("password")
		if !okName || !okPassword {
			return nil, fmt.Errorf("failed to load basic auth credentials: secret '%s/%s' must contain both username and password keys", s.Meta.Namespace, s.Meta.Name)
		}
		sum := sha1.Sum(password)
		users = []string{string(name) + ":{SHA}" + base64.StdEncoding.EncodeToString(sum[:])}
	} else if users, err = authLines(s); err != nil {
		return nil, fmt.Errorf("failed to load basic auth credentials: %w", err)
	}
	mw, err := middleware.BasicAuth{Users: users, Realm: spec.Realm, HeaderField: spec.HeaderField, RemoveHeader: spec.RemoveHeader}.Middleware()
	if err != nil {
		return nil, fmt.Errorf("secret '%s/%s': %w", s.Meta.Namespace, s.Meta.Name, err)
	}
	return mw, nil
}

// digestAuth builds a digestAuth middleware from its Secret's htdigest
// lines.
func digestAuth(c *compiler, m *model.Middleware) (pipeline.Middleware, error) {
	spec := m.Spec.DigestAuth
	s, err := c.authSecret(m, spec.Secret)
	if err != nil {
		return nil, err
	}
	users, err := authLines(s)
	if err != nil {
		return nil, fmt.Errorf("failed to load digest auth credentials: %w", err)
	}
	mw, err := middleware.DigestAuth{Users: users, Realm: spec.Realm, HeaderField: spec.HeaderField, RemoveHeader: spec.RemoveHeader}.Middleware()
	if err != nil {
		return nil, fmt.Errorf("secret '%s/%s': %w", s.Meta.Namespace, s.Meta.Name, err)
	}
	return mw, nil
}

// authSecret is the Secret an auth middleware names, in its namespace.
func (c *compiler) authSecret(m *model.Middleware, name string) (*model.Secret, error) {
	if name == "" {
		return nil, errors.New("auth secret must be set")
	}
	s, e := c.secret("", m.Meta.Namespace, name)
	if e != nil {
		return nil, fmt.Errorf("secret '%s/%s' not found", m.Meta.Namespace, name)
	}
	return s, nil
}

// authLines are the non-empty lines of a Secret's only key.
func authLines(s *model.Secret) ([]string, error) {
	var data []byte
	n := 0
	for _, v := range s.Data {
		data, n = v, n+1
	}
	for k, v := range s.StringData {
		if _, dup := s.Data[k]; !dup {
			data, n = []byte(v), n+1
		}
	}
	if n != 1 {
		return nil, fmt.Errorf("found %d elements for secret '%s/%s', must be single element exactly", n, s.Meta.Namespace, s.Meta.Name)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if l := sc.Text(); l != "" {
			lines = append(lines, l)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("error reading secret for %s/%s: %w", s.Meta.Namespace, s.Meta.Name, err)
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("secret '%s/%s' does not contain any credentials", s.Meta.Namespace, s.Meta.Name)
	}
	return lines, nil
}
