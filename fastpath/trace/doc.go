// Package trace is Traefik's OpenTelemetry tracing, Sluice's way: W3C
// trace context in and out, Traefik's spans for each sampled request
// (the entry point's server span named by the method, Router, Service
// and the ReverseProxy client span) with their semantic-convention
// attributes, exported in batches as OTLP/HTTP JSON.
//
// Contract: off (a nil *Tracer) costs the front end a nil check. On, a
// request gets a Request (pooled) when it is sampled: ParentBased on the
// incoming traceparent, else Traefik's TraceIDRatioBased on the trace
// id. The pipeline notes the router and service times on it; Finish
// turns it into spans for the exporter's goroutine, which never blocks a
// request: a full queue drops the trace and counts it. A failed export
// loses its batch and is reported through Config.OnExportError (at most
// once per failrep.Interval while failures go on).
package trace
