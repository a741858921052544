package main

import (
	"fmt"
	"math"
	"net"
	"regexp"
	"slices"
	"strconv"

	"github.com/sluiceproxy/sluice/compile"
)

// epTLS is an entry point's http.tls group.
type epTLS struct {
	Options      string
	CertResolver string
	Domains      map[int]*epDomain // http.tls.domains[i]
}

type epDomain struct {
	Main string
	SANs []string
}

var tlsDomainKey = regexp.MustCompile(`^http\.tls\.domains\[(\d+)\]\.(main|sans)$`)

// applyTLSDomain sets http.tls.domains[i].main or .sans (a comma list).
func (ep *entryPoint) applyTLSDomain(k, field, v string) error {
	m := tlsDomainKey.FindStringSubmatch(field)
	i, err := strconv.Atoi(m[1])
	if err != nil || i > 1000 {
		return fmt.Errorf("--%s: bad index", k)
	}
	if ep.TLS == nil {
		ep.TLS = &epTLS{}
	}
	if ep.TLS.Domains == nil {
		ep.TLS.Domains = map[int]*epDomain{}
	}
	d := ep.TLS.Domains[i]
	if d == nil {
		d = &epDomain{}
		ep.TLS.Domains[i] = d
	}
	if m[2] == "main" {
		d.Main = v
	} else {
		d.SANs = splitList(v)
	}
	return nil
}

// domains are http.tls.domains in index order, each the main name then
// the SANs.
func (t *epTLS) domains() [][]string {
	var idx []int
	for i := range t.Domains {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	var out [][]string
	for _, i := range idx {
		out = append(out, append([]string{t.Domains[i].Main}, t.Domains[i].SANs...))
	}
	return out
}

// applyTLS sets http.tls (true or false) or one of its fields, which
// turns it on, as Traefik's configuration does.
func (ep *entryPoint) applyTLS(k, field, v string) error {
	if field == "http.tls" {
		var on bool
		if err := parseBool(k, v, &on); err != nil {
			return err
		}
		if !on {
			ep.TLS = nil
		} else if ep.TLS == nil {
			ep.TLS = &epTLS{}
		}
		return nil
	}
	if ep.TLS == nil {
		ep.TLS = &epTLS{}
	}
	if field == "http.tls.options" {
		ep.TLS.Options = v
	} else {
		ep.TLS.CertResolver = v
	}
	return nil
}

// epRedirect is an entry point's http.redirections.entryPoint group, with
// Traefik's defaults (https, permanent, priority MaxInt-1).
type epRedirect struct {
	To        string
	Scheme    string
	Permanent bool
	Priority  int64
}

func (ep *entryPoint) applyRedirect(k, field, v string) error {
	if ep.Redirect == nil {
		ep.Redirect = &epRedirect{Scheme: "https", Permanent: true, Priority: math.MaxInt64 - 1}
	}
	r := ep.Redirect
	switch field {
	case "to":
		r.To = v
	case "scheme":
		r.Scheme = v
	case "permanent":
		return parseBool(k, v, &r.Permanent)
	case "priority":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("--%s: %q is not a number", k, v)
		}
		r.Priority = n
	}
	return nil
}

var portOnly = regexp.MustCompile(`^:(\d+)$`)

// redirections are the compile options of the entry points'
// redirections, the target port worked out as Traefik does: "to" is
// ":port", or an entry point whose address gives the port.
func (c *config) redirections() ([]compile.Redirection, error) {
	var out []compile.Redirection
	for _, ep := range c.EntryPoints {
		r := ep.Redirect
		if r == nil {
			continue
		}
		if r.To == "" {
			return nil, fmt.Errorf("entryPoints.%s.http.redirections.entryPoint.to: the entry point or the port is missing", ep.Name)
		}
		port := ""
		if m := portOnly.FindStringSubmatch(r.To); m != nil {
			port = m[1]
		} else {
			var dst *entryPoint
			for _, e := range c.EntryPoints {
				if e.Name == r.To {
					dst = e
				}
			}
			if dst == nil {
				return nil, fmt.Errorf("entryPoints.%s.http.redirections.entryPoint.to: 'to' entry point field references a non-existing entry point: %s", ep.Name, r.To)
			}
			_, p, err := net.SplitHostPort(dst.Address)
			if err != nil {
				return nil, fmt.Errorf("entryPoints.%s.http.redirections.entryPoint.to: invalid entry point %q address %q: %w", ep.Name, dst.Name, dst.Address, err)
			}
			port = p
		}
		out = append(out, compile.Redirection{EntryPoint: ep.Name, To: r.To, Scheme: r.Scheme, Port: port,
			Permanent: r.Permanent, Priority: r.Priority})
	}
	return out, nil
}
