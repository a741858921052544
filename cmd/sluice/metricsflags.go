package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/sluiceproxy/sluice/fastpath/obs"
)

// metricsConfig is --metrics.prometheus.*, with Traefik's defaults: the
// traefik entry point, entry point and service labels on, router labels
// off, buckets 0.1, 0.3, 1.2, 5.
type metricsConfig struct {
	EntryPoint    string
	ManualRouting bool
	Opts          obs.Options
}

func newMetricsConfig() *metricsConfig {
	return &metricsConfig{EntryPoint: "traefik", Opts: obs.Options{EntryPoints: true, Services: true}}
}

// promLabel is a Prometheus label name.
var promLabel = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// applyMetrics reads one metrics.* key; the backends other than
// Prometheus are warned about and ignored.
func (c *config) applyMetrics(k, v string) error {
	if k == "metrics.addinternals" {
		return parseBool(k, v, &c.MetricsAddInternals)
	}
	field, ok := strings.CutPrefix(k, "metrics.prometheus")
	if !ok {
		c.Warnings = append(c.Warnings, fmt.Sprintf("Traefik option --%s is not supported by Sluice (Prometheus metrics only); ignored", k))
		return nil
	}
	if c.Metrics == nil {
		c.Metrics = newMetricsConfig()
	}
	m := c.Metrics
	switch strings.TrimPrefix(field, ".") {
	case "":
		var on bool
		if err := parseBool(k, v, &on); err != nil || on {
			return err
		}
		c.Metrics = nil
	case "entrypoint":
		m.EntryPoint = strings.ToLower(v)
	case "manualrouting":
		return parseBool(k, v, &m.ManualRouting)
	case "addentrypointslabels":
		return parseBool(k, v, &m.Opts.EntryPoints)
	case "addrouterslabels":
		return parseBool(k, v, &m.Opts.Routers)
	case "addserviceslabels":
		return parseBool(k, v, &m.Opts.Services)
	case "buckets":
		m.Opts.Buckets = nil
		for _, s := range splitList(v) {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil || f <= 0 {
				return fmt.Errorf("--%s: %q is not a positive number of seconds", k, s)
			}
			m.Opts.Buckets = append(m.Opts.Buckets, f)
		}
	case "headerlabels":
	default:
		label, ok := strings.CutPrefix(field, ".headerlabels.")
		if !ok {
			return fmt.Errorf("unknown option --%s", k)
		}
		if !promLabel.MatchString(label) || label == "code" || label == "method" || label == "protocol" ||
			label == "entrypoint" || label == "router" || label == "service" {
			return fmt.Errorf("--%s: %q is not a label name of its own", k, label)
		}
		if m.Opts.HeaderLabels == nil {
			m.Opts.HeaderLabels = map[string]string{}
		}
		m.Opts.HeaderLabels[label] = v
	}
	return nil
}
