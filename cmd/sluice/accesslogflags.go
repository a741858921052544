package main

import (
	"fmt"
	"net/textproto"
	"strconv"
	"strings"

	"github.com/sluiceproxy/sluice/fastpath/accesslog"
)

// applyAccessLog reads one accesslog key (Traefik's --accessLog.*, keys
// lower-cased); the OTLP output is warned about and ignored.
func (c *config) applyAccessLog(k, v string) error {
	field := strings.TrimPrefix(strings.TrimPrefix(k, "accesslog"), ".")
	if field == "addinternals" {
		return parseBool(k, v, &c.AccessLogInternals)
	}
	if field == "" {
		var on bool
		if err := parseBool(k, v, &on); err != nil {
			return err
		}
		if !on {
			c.AccessLog = nil
			return nil
		}
	}
	if c.AccessLog == nil {
		c.AccessLog = accesslog.NewConfig()
	}
	a := c.AccessLog
	switch {
	case field == "":
	case field == "format":
		switch v {
		case accesslog.Common, accesslog.GenericCLF, accesslog.JSON:
			a.Format = v
		default: // Traefik logs an error and uses common
			c.Warnings = append(c.Warnings, fmt.Sprintf("--%s: unsupported access log format %q, defaulting to common format instead", k, v))
			a.Format = accesslog.Common
		}
	case field == "filepath":
		a.FilePath = v
	case field == "bufferingsize":
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("--%s: %q is not a number of lines", k, v)
		}
		a.BufferingSize = n
	case strings.HasPrefix(field, "filters"):
		return c.applyAccessLogFilter(k, strings.TrimPrefix(strings.TrimPrefix(field, "filters"), "."), v)
	case strings.HasPrefix(field, "fields."):
		return applyAccessLogField(k, strings.TrimPrefix(field, "fields."), v, &a.Fields)
	case strings.HasPrefix(field, "otlp") || field == "dualoutput":
		c.Warnings = append(c.Warnings, fmt.Sprintf("--%s is not supported by Sluice (access logs go to a file or standard output); ignored", k))
	default:
		return fmt.Errorf("unknown option --%s", k)
	}
	return nil
}

func (c *config) applyAccessLogFilter(k, field, v string) error {
	f := c.AccessLog.Filters
	if f == nil {
		f = &accesslog.Filters{}
		c.AccessLog.Filters = f
	}
	switch field {
	case "": // --accessLog.filters alone: filters that keep everything
		return nil
	case "statuscodes":
		for _, s := range splitList(v) {
			lo, hi, isRange := strings.Cut(s, "-")
			if !isRange {
				hi = lo
			}
			a, err1 := strconv.Atoi(lo)
			b, err2 := strconv.Atoi(hi)
			if err1 != nil || err2 != nil || a > b {
				return fmt.Errorf("--%s: %q is not a status code or range", k, s)
			}
			f.StatusCodes = append(f.StatusCodes, [2]int{a, b})
		}
		return nil
	case "retryattempts":
		return parseBool(k, v, &f.RetryAttempts)
	case "minduration":
		return parseDuration(k, v, &f.MinDuration)
	}
	return fmt.Errorf("unknown option --%s", k)
}

// applyAccessLogField reads fields.defaultMode, fields.names.<name>,
// fields.headers.defaultMode, fields.headers.names.<name> and
// fields.queryParameters.defaultMode; an unknown mode is the default, as
// in Traefik.
func applyAccessLogField(k, field, v string, f *accesslog.Fields) error {
	mode, ok := map[string]accesslog.Mode{"keep": accesslog.Keep, "drop": accesslog.Drop, "redact": accesslog.Redact}[strings.ToLower(v)]
	switch {
	case field == "defaultmode":
		if ok && mode != accesslog.Redact {
			f.DefaultMode = mode
		}
	case strings.HasPrefix(field, "names."):
		if f.Names == nil {
			f.Names = map[string]accesslog.Mode{}
		}
		if ok {
			f.Names[strings.TrimPrefix(field, "names.")] = mode
		}
	case field == "headers.defaultmode":
		if ok {
			f.HeadersDefault = mode
		}
	case strings.HasPrefix(field, "headers.names."):
		if f.Headers == nil {
			f.Headers = map[string]accesslog.Mode{}
		}
		if ok {
			f.Headers[textproto.CanonicalMIMEHeaderKey(strings.TrimPrefix(field, "headers.names."))] = mode
		}
	case field == "queryparameters.defaultmode":
		f.DropQuery = ok && mode == accesslog.Drop
	default:
		return fmt.Errorf("unknown option --%s", k)
	}
	return nil
}
