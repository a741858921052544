package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/textproto"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/sluiceproxy/sluice/fastpath/trace"
)

// applyTracing reads one tracing key (Traefik's --tracing.*, keys
// lower-cased): OTLP over HTTP; gRPC export is warned about.
func (c *config) applyTracing(k, v string) error {
	field := strings.TrimPrefix(strings.TrimPrefix(k, "tracing"), ".")
	if field == "addinternals" {
		return parseBool(k, v, &c.TracingInternals)
	}
	if field == "" {
		var on bool
		if err := parseBool(k, v, &on); err != nil {
			return err
		}
		if !on {
			c.Tracing = nil
			return nil
		}
	}
	if c.Tracing == nil {
		c.Tracing = trace.NewConfig()
	}
	t := c.Tracing
	switch {
	case field == "", field == "otlp", field == "otlp.http":
	case field == "servicename":
		t.ServiceName = v
	case field == "samplerate":
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1 {
			return fmt.Errorf("--%s: %q is not a rate between 0 and 1", k, v)
		}
		t.SampleRate = f
	case strings.HasPrefix(field, "resourceattributes."), strings.HasPrefix(field, "globalattributes."):
		if t.ResourceAttributes == nil {
			t.ResourceAttributes = map[string]string{}
		}
		_, name, _ := strings.Cut(field, ".")
		t.ResourceAttributes[name] = v
	case field == "capturedrequestheaders":
		t.CapturedRequest = canonicalList(v)
	case field == "capturedresponseheaders":
		t.CapturedResp = canonicalList(v)
	case field == "safequeryparams":
		t.SafeQueryParams = splitList(v)
	case field == "otlp.http.endpoint":
		u, err := url.Parse(v)
		if err != nil || u.Host == "" || u.Scheme != "http" && u.Scheme != "https" {
			return fmt.Errorf("--%s: %q is not an http(s) URL", k, v)
		}
		if u.Path == "" || u.Path == "/" {
			u.Path = "/v1/traces" // as the OTLP exporter's default path
		}
		t.Endpoint = u.String()
	case strings.HasPrefix(field, "otlp.http.headers."):
		if t.Headers == nil {
			t.Headers = map[string]string{}
		}
		t.Headers[strings.TrimPrefix(field, "otlp.http.headers.")] = v
	case strings.HasPrefix(field, "otlp.http.tls."):
		return c.applyTracingTLS(k, strings.TrimPrefix(field, "otlp.http.tls."), v)
	case field == "otlp.grpc", strings.HasPrefix(field, "otlp.grpc."):
		return c.applyTracingGRPC(k, strings.TrimPrefix(strings.TrimPrefix(field, "otlp.grpc"), "."), v)
	default:
		return fmt.Errorf("unknown option --%s", k)
	}
	return nil
}

// canonicalList is a comma list of header names, canonical.
func canonicalList(v string) []string {
	var out []string
	for _, s := range splitList(v) {
		out = append(out, textproto.CanonicalMIMEHeaderKey(s))
	}
	return out
}

// applyTracingGRPC reads tracing.otlp.grpc[.*]: giving any of them sends
// the traces over OTLP/gRPC (to localhost:4317 unless endpoint says
// otherwise), as Traefik does.
func (c *config) applyTracingGRPC(k, field, v string) error {
	t := c.Tracing
	if t.GRPCEndpoint == "" {
		t.GRPCEndpoint = "localhost:4317"
	}
	switch {
	case field == "":
	case field == "endpoint":
		if _, _, err := net.SplitHostPort(v); err != nil {
			return fmt.Errorf("--%s: %q is not host:port", k, v)
		}
		t.GRPCEndpoint = v
	case field == "insecure":
		return parseBool(k, v, &t.GRPCInsecure)
	case strings.HasPrefix(field, "headers."):
		if t.Headers == nil {
			t.Headers = map[string]string{}
		}
		t.Headers[strings.ToLower(strings.TrimPrefix(field, "headers."))] = v
	case strings.HasPrefix(field, "tls."):
		return c.applyTracingTLS(k, strings.TrimPrefix(field, "tls."), v)
	default:
		return fmt.Errorf("unknown option --%s", k)
	}
	return nil
}

// applyTracingTLS reads tracing.otlp.{http,grpc}.tls.{ca,cert,key,
// insecureSkipVerify}: the files are read when the configuration is
// (cert and key together, checked by tracingTLS once all keys are in).
func (c *config) applyTracingTLS(k, field, v string) error {
	if c.TracingTLS == nil {
		c.TracingTLS = &tracingTLS{}
	}
	switch field {
	case "ca":
		c.TracingTLS.CA = v
	case "cert":
		c.TracingTLS.Cert = v
	case "key":
		c.TracingTLS.Key = v
	case "insecureskipverify":
		return parseBool(k, v, &c.TracingTLS.InsecureSkipVerify)
	default:
		return fmt.Errorf("unknown option --%s", k)
	}
	return nil
}

// tracingTLS is tracing.otlp.{http,grpc}.tls.*, as given.
type tracingTLS struct {
	CA, Cert, Key      string
	InsecureSkipVerify bool
}

// config builds the exporter's client TLS: the CA file added to the
// system roots, the client certificate pair. Errors name the option.
func (o *tracingTLS) config() (*tls.Config, error) {
	cfg := &tls.Config{InsecureSkipVerify: o.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
	if o.CA != "" {
		pem, err := os.ReadFile(o.CA)
		if err != nil {
			return nil, fmt.Errorf("--tracing.otlp.*.tls.ca: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tracing.otlp.*.tls.ca: %s holds no PEM certificate", o.CA)
		}
		cfg.RootCAs = pool
	}
	if (o.Cert == "") != (o.Key == "") {
		return nil, fmt.Errorf("--tracing.otlp.*.tls.cert and .key go together")
	}
	if o.Cert != "" {
		pair, err := tls.LoadX509KeyPair(o.Cert, o.Key)
		if err != nil {
			return nil, fmt.Errorf("--tracing.otlp.*.tls.cert/key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}
