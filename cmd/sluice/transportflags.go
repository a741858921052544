package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// staticTransport is Traefik's static --serversTransport.* group: the
// transport of every service without a ServersTransport of its own (and
// of those naming default@internal), health checks included.
type staticTransport struct {
	set                 bool // any option given
	InsecureSkipVerify  bool
	RootCAs             []string // files, or PEM content (Traefik's FileOrContent)
	MaxIdleConnsPerHost int
	DialTimeout         time.Duration
	ResponseHeader      time.Duration
	IdleConnTimeout     time.Duration
	spiffe              bool // serversTransport.spiffe given: SPIFFE mutual TLS (serve applies it)
	SpiffeIDs           []string
	SpiffeTrustDomain   string
}

// applyTransport sets one serversTransport.* option.
func (c *config) applyTransport(k, v string) error {
	t := &c.Transport
	t.set = true
	switch strings.TrimPrefix(k, "serverstransport.") {
	case "insecureskipverify":
		return parseBool(k, v, &t.InsecureSkipVerify)
	case "rootcas":
		t.RootCAs = append(t.RootCAs, splitList(v)...)
	case "maxidleconnsperhost":
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("--%s: %q is not a number", k, v)
		}
		t.MaxIdleConnsPerHost = n
	case "forwardingtimeouts.dialtimeout":
		return parseDuration(k, v, &t.DialTimeout)
	case "forwardingtimeouts.responseheadertimeout":
		return parseDuration(k, v, &t.ResponseHeader)
	case "forwardingtimeouts.idleconntimeout":
		return parseDuration(k, v, &t.IdleConnTimeout)
	case "forwardingtimeouts.readidletimeout", "forwardingtimeouts.pingtimeout":
		// HTTP/2 health pings of Go's transport: Sluice's pool speaks
		// HTTP/1.1 to servers, where they do not apply.
		c.Warnings = append(c.Warnings, fmt.Sprintf("--%s applies to HTTP/2 connections to servers, which Sluice does not make; ignored", k))
	case "spiffe":
		t.spiffe = true
	case "spiffe.ids":
		t.spiffe, t.SpiffeIDs = true, splitList(v)
	case "spiffe.trustdomain":
		t.spiffe, t.SpiffeTrustDomain = true, v
	default:
		return c.unknown(k)
	}
	return nil
}

// config returns the transport, nil when no option was given. Its
// SPIFFE part needs the Workload API's source: useSPIFFE applies it.
func (t *staticTransport) config() (*upstream.TransportConfig, error) {
	if !t.set {
		return nil, nil
	}
	tc := &upstream.TransportConfig{Name: "default@internal", InsecureSkipVerify: t.InsecureSkipVerify,
		MaxIdleConnsPerHost: t.MaxIdleConnsPerHost, DialTimeout: t.DialTimeout,
		ResponseHeaderTimeout: t.ResponseHeader, IdleConnTimeout: t.IdleConnTimeout}
	for _, ca := range t.RootCAs {
		pem := []byte(ca)
		if !strings.Contains(ca, "-----BEGIN") {
			b, err := os.ReadFile(ca)
			if err != nil {
				return nil, fmt.Errorf("serversTransport.rootCAs: %w", err)
			}
			pem = b
		}
		tc.RootCAs = append(tc.RootCAs, pem)
	}
	if err := tc.Validate(); err != nil {
		return nil, fmt.Errorf("serversTransport.rootCAs: %w", err)
	}
	return tc, nil
}

// useSPIFFE gives the default transport tc the SPIFFE mutual TLS that
// serversTransport.spiffe asks for, built by build (nil without
// --spiffe.workloadAPIAddr). As Traefik, a transport that cannot have it
// is used with the default TLS configuration, and the error is returned
// to be logged.
func (t *staticTransport) useSPIFFE(tc *upstream.TransportConfig, build upstream.SPIFFEConfig) error {
	if !t.spiffe || tc == nil {
		return nil
	}
	if err := tc.UseSPIFFE(build, t.SpiffeIDs, t.SpiffeTrustDomain); err != nil {
		return fmt.Errorf("serversTransport.spiffe: %w; servers are reached with the default TLS configuration, as Traefik does", err)
	}
	return nil
}
