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
	spiffe              bool
}

// applyTransport sets one serversTransport.* option.
func (c *config) applyTransport(k, v string) error {
	t := &c.Transport
	t.set = true
	switch strings.TrimPrefix(k, "serverstransport.") {
	case "insecureskipverify":
		return parseBool(k, v, &t.InsecureSkipVerify)
	case "rootcas":
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				t.RootCAs = append(t.RootCAs, f)
			}
		}
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
	case "spiffe", "spiffe.ids", "spiffe.trustdomain":
		t.spiffe = true
	default:
		return c.unknown(k)
	}
	return nil
}

// config returns the transport, nil when no option was given. SPIFFE is
// refused rather than ignored: serving without it would skip the peer
// verification it asks for.
func (t *staticTransport) config() (*upstream.TransportConfig, error) {
	if !t.set {
		return nil, nil
	}
	if t.spiffe {
		return nil, fmt.Errorf("serversTransport.spiffe is not supported by Sluice; remove it rather than have servers reached without the SPIFFE verification it asks for")
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
