package compile

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/fastpath/service"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// healthConfig reads a healthCheck block with Traefik's defaults (crd.md
// 5.5): mode http, interval 30s, unhealthyInterval = interval, timeout
// 5s, followRedirects true, any 2xx/3xx unless status is set. A bad
// duration or mode drops the route.
func healthConfig(f string, hc *model.ServerHealthCheck) (upstream.HealthConfig, *svcErr) {
	out := upstream.HealthConfig{
		Scheme: hc.Scheme, Path: hc.Path, Method: strings.ToUpper(hc.Method), Hostname: hc.Hostname,
		Port: hc.Port, Status: hc.Status, FollowRedirects: hc.FollowRedirects == nil || *hc.FollowRedirects,
		Headers: hc.Headers,
	}
	switch hc.Mode {
	case "", "http":
	case "grpc":
		out.Mode = "grpc"
	default:
		return out, &svcErr{f + ".mode", fmt.Sprintf("invalid mode %q (want http or grpc)", hc.Mode)}
	}
	for _, d := range []struct {
		field string
		v     *model.IntOrString
		def   time.Duration
		dst   *time.Duration
	}{
		{"interval", hc.Interval, 30 * time.Second, &out.Interval},
		{"unhealthyInterval", hc.UnhealthyInterval, 0, &out.UnhealthyInterval},
		{"timeout", hc.Timeout, 5 * time.Second, &out.Timeout},
	} {
		v, err := duration(d.v, d.def)
		if err != nil || v < 0 {
			return out, &svcErr{f + "." + d.field, fmt.Sprintf("invalid duration %q", d.v.String())}
		}
		*d.dst = v
	}
	if out.UnhealthyInterval == 0 {
		out.UnhealthyInterval = out.Interval
	}
	if out.Interval == 0 {
		return out, &svcErr{f + ".interval", "interval must be positive"}
	}
	return out, nil
}

// duration reads Traefik's duration (paerser's Duration.Set): a number of
// seconds, as a number or a string, else a Go duration string.
func duration(v *model.IntOrString, def time.Duration) (time.Duration, error) {
	switch {
	case v == nil:
		return def, nil
	case !v.IsString:
		return time.Duration(v.Int) * time.Second, nil
	}
	if n, err := strconv.ParseInt(v.Str, 10, 64); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(v.Str)
}

// passiveConfig reads passiveHealthCheck (Traefik v3.6+): failureWindow
// default 10s, maxFailedAttempts default 1.
func passiveConfig(f string, pc *model.PassiveHealthCheck) (upstream.PassiveConfig, *svcErr) {
	out := upstream.PassiveConfig{MaxFailedAttempts: 1}
	w, err := duration(pc.FailureWindow, 10*time.Second)
	if err != nil || w <= 0 {
		return out, &svcErr{f + ".failureWindow", fmt.Sprintf("invalid duration %q", pc.FailureWindow.String())}
	}
	out.FailureWindow = w
	if pc.MaxFailedAttempts != nil {
		if *pc.MaxFailedAttempts < 1 {
			return out, &svcErr{f + ".maxFailedAttempts", "must be at least 1"}
		}
		out.MaxFailedAttempts = *pc.MaxFailedAttempts
	}
	return out, nil
}

// withPassive gives each server its passive failure counter.
func withPassive(servers []service.Server, cfg *upstream.PassiveConfig, o Options) []service.Server {
	if cfg == nil {
		return servers
	}
	servers = slices.Clone(servers) // the list may be shared (serverLists)
	for i := range servers {
		servers[i].Passive = o.Upstreams.Passive(servers[i].Endpoint, *cfg, o.logger())
	}
	return servers
}
