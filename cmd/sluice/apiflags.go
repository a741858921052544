package main

import (
	"fmt"
	"strings"
)

// apiConfig is --api.*: Traefik's API (and its dashboard) as
// api@internal, on the traefik entry point with insecure.
type apiConfig struct {
	Insecure  bool
	Dashboard bool // Traefik's default: true
	BasePath  string
}

// applyAPI reads one api key (lower-cased).
func (c *config) applyAPI(k, v string) error {
	field := strings.TrimPrefix(strings.TrimPrefix(k, "api"), ".")
	if field == "" {
		var on bool
		if err := parseBool(k, v, &on); err != nil {
			return err
		}
		if !on {
			c.API = nil
			return nil
		}
	}
	if c.API == nil {
		c.API = &apiConfig{Dashboard: true}
	}
	switch field {
	case "":
	case "insecure":
		return parseBool(k, v, &c.API.Insecure)
	case "dashboard":
		return parseBool(k, v, &c.API.Dashboard)
	case "basepath":
		c.API.BasePath = strings.TrimSuffix(v, "/")
	case "debug", "disabledashboardad":
		c.Warnings = append(c.Warnings, fmt.Sprintf("--%s is not supported by Sluice; ignored", k))
	default:
		return fmt.Errorf("unknown option --%s", k)
	}
	return nil
}
