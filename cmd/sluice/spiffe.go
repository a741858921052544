package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/workloadapi"

	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// spiffeSource connects to the SPIFFE Workload API at addr (Traefik's
// --spiffe.workloadAPIAddr) and waits, as Traefik does, until it has
// delivered this process's X.509 SVID and bundle; ctx ends the wait. The
// source follows rotations for as long as it is open. The returned
// function builds a transport's mutual TLS from it.
func spiffeSource(ctx context.Context, addr string, log *slog.Logger) (upstream.SPIFFEConfig, io.Closer, error) {
	log.Info("waiting on SPIFFE SVID delivery", "workloadAPIAddr", addr)
	src, err := workloadapi.NewX509Source(ctx, workloadapi.WithClientOptions(workloadapi.WithAddr(addr)))
	if err != nil {
		return nil, nil, fmt.Errorf("unable to create SPIFFE x509 source: %w", err)
	}
	if svid, err := src.GetX509SVID(); err == nil {
		log.Info("obtained SPIFFE SVID", "id", svid.ID.String())
	}
	build := func(ids []string, trustDomain string) (*tls.Config, error) {
		auth, err := spiffeAuthorizer(ids, trustDomain)
		if err != nil {
			return nil, err
		}
		return tlsconfig.MTLSClientConfig(src, src, auth), nil
	}
	return build, src, nil
}

// spiffeAuthorizer accepts the servers Traefik's would: one of ids, else
// a member of trustDomain, else any ID the bundle verifies.
func spiffeAuthorizer(ids []string, trustDomain string) (tlsconfig.Authorizer, error) {
	switch {
	case len(ids) > 0:
		parsed := make([]spiffeid.ID, 0, len(ids))
		for _, raw := range ids {
			id, err := spiffeid.FromString(raw)
			if err != nil {
				return nil, fmt.Errorf("invalid SPIFFE ID: %w", err)
			}
			parsed = append(parsed, id)
		}
		return tlsconfig.AuthorizeOneOf(parsed...), nil
	case trustDomain != "":
		td, err := spiffeid.TrustDomainFromString(trustDomain)
		if err != nil {
			return nil, fmt.Errorf("invalid SPIFFE trust domain: %w", err)
		}
		return tlsconfig.AuthorizeMemberOf(td), nil
	}
	return tlsconfig.AuthorizeAny(), nil
}

// checkSPIFFE stands in for the source where nothing is served (sluice
// check, sluice route): it checks ids and trust domain as the real one
// does, so diagnostics are the same.
func checkSPIFFE(ids []string, trustDomain string) (*tls.Config, error) {
	if _, err := spiffeAuthorizer(ids, trustDomain); err != nil {
		return nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS12}, nil
}
