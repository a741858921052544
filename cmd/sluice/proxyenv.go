package main

import (
	"log/slog"
	"net/url"

	"golang.org/x/net/http/httpproxy"
)

// envProxy is Traefik's choice of proxy for servers (its transports use
// Go's http.ProxyFromEnvironment): HTTP_PROXY, HTTPS_PROXY and NO_PROXY
// (or their lower-case forms), with Go's rules (loopback servers are never
// proxied). nil when none is set: nothing changes then.
func envProxy(log *slog.Logger) func(*url.URL) (*url.URL, error) {
	cfg := httpproxy.FromEnvironment()
	if cfg.HTTPProxy == "" && cfg.HTTPSProxy == "" {
		return nil
	}
	log.Info("servers are reached through the proxies of the environment",
		"HTTP_PROXY", redact(cfg.HTTPProxy), "HTTPS_PROXY", redact(cfg.HTTPSProxy), "NO_PROXY", cfg.NoProxy)
	return cfg.ProxyFunc()
}

// redact hides a proxy URL's password (credentials never reach a log).
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		if err != nil && s != "" {
			return "(unparsable)"
		}
		return s
	}
	return u.Redacted()
}
