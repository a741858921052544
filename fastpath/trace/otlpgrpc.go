package trace

import (
	"context"
	"crypto/tls"
	"time"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/emptypb"
)

// exportMethod is OTLP's trace export call. Its request,
// ExportTraceServiceRequest, is on the wire exactly TracesData (one
// field: repeated ResourceSpans resource_spans = 1), which is sent, so
// that the collector package (and the HTTP gateway it pulls in) is not
// linked; the answer's partial-success field is not read.
const exportMethod = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"

// grpcConn is the connection to the collector at Config.GRPCEndpoint
// (tracing.otlp.grpc): TLS unless GRPCInsecure, with Config.TLS's CA and
// client certificate. grpc connects on the first export and reconnects
// as needed.
func grpcConn(cfg *Config) (*grpc.ClientConn, error) {
	creds := insecure.NewCredentials()
	if !cfg.GRPCInsecure {
		tc := cfg.TLS
		if tc == nil {
			tc = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		creds = credentials.NewTLS(tc)
	}
	return grpc.NewClient(cfg.GRPCEndpoint, grpc.WithTransportCredentials(creds))
}

// sendGRPC sends one batch over gRPC; a failure is returned, as post's.
func (e *exporter) sendGRPC(batch []*Request) error {
	if e.grpc == nil {
		return e.grpcErr
	}
	e.collect(batch)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if len(e.cfg.Headers) > 0 {
		ctx = metadata.NewOutgoingContext(ctx, metadata.New(e.cfg.Headers))
	}
	if err := e.grpc.Invoke(ctx, exportMethod, e.protoRequest(), &emptypb.Empty{}); err != nil {
		return err
	}
	return nil
}

// protoRequest is the collected batch in OTLP's protobuf form: the same
// resource, scope, spans and attributes as the JSON encoding.
func (e *exporter) protoRequest() *tracepb.TracesData {
	spans := make([]*tracepb.Span, len(e.spans))
	for i := range e.spans {
		s := &e.spans[i]
		code, msg := s.status()
		spans[i] = &tracepb.Span{TraceId: s.r.TraceID[:], SpanId: s.spanID(), ParentSpanId: s.parent, Name: s.name,
			Kind: tracepb.Span_SpanKind(s.kind), StartTimeUnixNano: uint64(s.start.UnixNano()), EndTimeUnixNano: uint64(s.end.UnixNano()),
			Attributes: protoKVs(e.kvs[s.from:s.to]), Status: &tracepb.Status{Code: tracepb.Status_StatusCode(code), Message: msg}}
	}
	return &tracepb.TracesData{ResourceSpans: []*tracepb.ResourceSpans{{
		Resource:   &resourcepb.Resource{Attributes: protoKVs(e.res)},
		ScopeSpans: []*tracepb.ScopeSpans{{Scope: &commonpb.InstrumentationScope{Name: "github.com/traefik/traefik"}, Spans: spans}},
	}}}
}

// protoKVs are attributes in OTLP's protobuf form.
func protoKVs(kvs []kv) []*commonpb.KeyValue {
	out := make([]*commonpb.KeyValue, len(kvs))
	for i, a := range kvs {
		v := &commonpb.AnyValue{}
		switch {
		case a.list != nil:
			vs := make([]*commonpb.AnyValue, len(a.list))
			for j, s := range a.list {
				vs[j] = &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: s}}
			}
			v.Value = &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: vs}}
		case a.isInt:
			v.Value = &commonpb.AnyValue_IntValue{IntValue: a.num}
		default:
			v.Value = &commonpb.AnyValue_StringValue{StringValue: a.str}
		}
		out[i] = &commonpb.KeyValue{Key: a.key, Value: v}
	}
	return out
}
