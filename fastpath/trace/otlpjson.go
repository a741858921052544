package trace

import (
	"encoding/hex"
	"strconv"
)

// The OTLP JSON encoding (https://opentelemetry.io/docs/specs/otlp/):
// ids in hex, enums as numbers, 64-bit integers as strings. Written with
// appends: a span is a few hundred bytes, and the exporter's goroutine
// shares the proxy's CPU.

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// payload appends one OTLP/JSON export request: the resource, the scope,
// the spans of batch.
func (e *exporter) payload(b []byte, batch []*Request) []byte {
	e.collect(batch)
	b = append(b, `{"resourceSpans":[{"resource":{"attributes":[`...)
	b = appendKVs(b, e.res)
	b = append(b, `]},"scopeSpans":[{"scope":{"name":"github.com/traefik/traefik"},"spans":[`...)
	for i := range e.spans {
		if i > 0 {
			b = append(b, ',')
		}
		b = e.appendSpan(b, &e.spans[i])
	}
	return append(b, "]}]}]}"...)
}

// appendSpan appends one span.
func (e *exporter) appendSpan(b []byte, s *span) []byte {
	b = append(b, `{"traceId":"`...)
	b = hex.AppendEncode(b, s.r.TraceID[:])
	b = append(b, `","spanId":"`...)
	b = hex.AppendEncode(b, s.spanID())
	if s.parent != nil {
		b = append(b, `","parentSpanId":"`...)
		b = hex.AppendEncode(b, s.parent)
	}
	b = append(b, `","name":`...)
	b = appendJSONString(b, s.name)
	b = append(b, `,"kind":`...)
	b = strconv.AppendInt(b, int64(s.kind), 10)
	b = append(b, `,"startTimeUnixNano":"`...)
	b = strconv.AppendInt(b, s.start.UnixNano(), 10)
	b = append(b, `","endTimeUnixNano":"`...)
	b = strconv.AppendInt(b, s.end.UnixNano(), 10)
	b = append(b, `","status":{`...)
	if code, msg := s.status(); code != 0 {
		b = append(b, `"code":2`...)
		if msg != "" {
			b = append(b, `,"message":`...)
			b = appendJSONString(b, msg)
		}
	}
	b = append(b, `},"attributes":[`...)
	b = appendKVs(b, e.kvs[s.from:s.to])
	return append(b, "]}"...)
}

// status is the span's OTLP status: an error for a status Traefik calls
// one (from errorFrom), or an invalid one (with Traefik's message).
func (s *span) status() (code int, msg string) {
	switch {
	case s.code < 100 || s.code >= 600:
		return statusError, "Invalid HTTP status code " + strconv.Itoa(s.code)
	case s.code >= s.errorFrom:
		return statusError, ""
	}
	return 0, ""
}

// appendKVs appends attributes, comma separated.
func appendKVs(b []byte, kvs []kv) []byte {
	for i, a := range kvs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"key":`...)
		b = appendJSONString(b, a.key)
		switch {
		case a.list != nil:
			b = append(b, `,"value":{"arrayValue":{"values":[`...)
			for j, v := range a.list {
				if j > 0 {
					b = append(b, ',')
				}
				b = append(b, `{"stringValue":`...)
				b = append(appendJSONString(b, v), '}')
			}
			b = append(b, "]}}}"...)
		case a.isInt:
			b = append(b, `,"value":{"intValue":"`...)
			b = strconv.AppendInt(b, a.num, 10)
			b = append(b, `"}}`...)
		default:
			b = append(b, `,"value":{"stringValue":`...)
			b = appendJSONString(b, a.str)
			b = append(b, "}}"...)
		}
	}
	return b
}
