package accesslog

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sluiceproxy/sluice/fastpath/obs"
)

var dash = []byte("-")

// kind is a field value's JSON type, as Traefik's logrus fields have it.
type kind uint8

const (
	kStr kind = iota
	kInt
	kFloat
	kTime
	kHeader // a string whose key is k (a header field's)
)

// field is one key of a line and its value.
type field struct {
	key  string
	k    []byte // kHeader's key
	kind kind
	s    []byte
	n    int64
	f    float64
	t    time.Time
}

// fields gathers r's kept fields into l.kv in the order encoding/json
// writes a map's keys (byte order: Traefik's capitalised core fields,
// then downstream_ headers, entryPointName, logrus's level and msg,
// request_ headers, time), so that no line is sorted; withLogrus adds
// level, msg and time (the JSON format's). Values are appended to
// l.scratch (its slices stay valid when it grows): a warm logger
// allocates nothing.
func (l *Logger) fields(r *Record, withLogrus bool) []field {
	f := fieldSet{kv: l.kv[:0], sc: l.scratch[:0], keep: l.keep}
	f.sc = strconv.AppendInt(f.sc, int64(r.ClientPort), 10)
	port := f.sc[:len(f.sc):len(f.sc)]
	n := len(f.sc)
	f.sc = joinHostPort(f.sc, r.ClientIP, port)
	f.bytes("ClientAddr", f.sc[n:len(f.sc):len(f.sc)])
	if len(r.ForwardedFor) > 0 {
		f.bytes("ClientHost", r.ForwardedFor)
	} else {
		f.bytes("ClientHost", r.ClientIP)
	}
	f.bytes("ClientPort", port)
	if r.User != "" {
		f.str("ClientUsername", r.User)
	} else {
		f.str("ClientUsername", "-")
	}
	f.num("DownstreamContentSize", r.Size)
	f.num("DownstreamStatus", int64(r.Status))
	f.num("Duration", int64(r.Duration))
	if r.Size != r.OriginSize && r.Size != 0 && f.keep["GzipRatio"] {
		f.kv = append(f.kv, field{key: "GzipRatio", kind: kFloat, f: float64(r.OriginSize) / float64(r.Size)})
	}
	f.num("OriginContentSize", r.OriginSize)
	f.num("OriginDuration", int64(r.OriginDuration))
	f.num("OriginStatus", int64(r.OriginStatus))
	f.num("Overhead", int64(r.Duration-r.OriginDuration))
	f.request(r, l.cfg.Fields.DropQuery)
	if r.Service != "" {
		addr := r.ServiceURL
		if i := strings.Index(addr, "://"); i >= 0 {
			addr = addr[i+3:]
		}
		f.str("ServiceAddr", addr)
		f.str("ServiceName", r.Service)
		f.str("ServiceURL", r.ServiceURL)
	}
	f.time("StartLocal", r.Start.Local())
	f.time("StartUTC", r.Start.UTC())
	if r.TLSVersion != 0 {
		f.str("TLSCipher", obs.CipherName(r.TLSCipher))
		if r.ClientCert != nil {
			f.str("TLSClientSubject", r.ClientCert.Subject.String())
		}
		f.str("TLSVersion", obs.TLSVersion(r.TLSVersion))
	}
	if l.headers {
		l.headerFields(&f, "downstream_", &r.RespHeaders)
	}
	f.str("entryPointName", r.EntryPoint)
	if withLogrus {
		f.kv = append(f.kv, field{key: "level", s: info}, field{key: "msg"})
	}
	if l.headers {
		l.headerFields(&f, "request_", &r.ReqHeaders)
	}
	if withLogrus {
		n := len(f.sc)
		f.sc = time.Now().AppendFormat(f.sc, time.RFC3339)
		f.kv = append(f.kv, field{key: "time", s: f.sc[n:len(f.sc):len(f.sc)]})
	}
	l.kv, l.scratch = f.kv, f.sc
	return f.kv
}

// request adds the Request* fields, RetryAttempts and RouterName, in
// their order.
func (f *fieldSet) request(r *Record, dropQuery bool) {
	if len(r.Host) > 0 {
		f.bytes("RequestAddr", r.Host)
	}
	f.num("RequestContentSize", r.ReqSize)
	f.num("RequestCount", int64(r.count))
	host, hport := splitHostPort(r.Host)
	if len(r.Host) > 0 {
		f.bytes("RequestHost", host)
	}
	f.bytes("RequestMethod", r.Method)
	n := len(f.sc)
	f.sc = requestPath(f.sc, r.URI, dropQuery)
	f.bytes("RequestPath", f.sc[n:len(f.sc):len(f.sc)])
	if len(r.Host) > 0 {
		f.bytes("RequestPort", hport)
	}
	f.bytes("RequestProtocol", r.Proto)
	if r.TLSVersion != 0 {
		f.str("RequestScheme", "https")
	} else {
		f.str("RequestScheme", "http")
	}
	f.num("RetryAttempts", int64(r.Retries))
	if r.Router != "" {
		f.str("RouterName", r.Router)
	}
}

// fieldSet is the fields of the line being built and their bytes.
type fieldSet struct {
	kv   []field
	sc   []byte
	keep map[string]bool
}

func (f *fieldSet) bytes(k string, v []byte) {
	if f.keep[k] {
		f.kv = append(f.kv, field{key: k, kind: kStr, s: v})
	}
}

func (f *fieldSet) str(k, v string) {
	if f.keep[k] {
		n := len(f.sc)
		f.sc = append(f.sc, v...)
		f.kv = append(f.kv, field{key: k, kind: kStr, s: f.sc[n:len(f.sc):len(f.sc)]})
	}
}

func (f *fieldSet) num(k string, n int64) {
	if f.keep[k] {
		f.kv = append(f.kv, field{key: k, kind: kInt, n: n})
	}
}

func (f *fieldSet) time(k string, t time.Time) {
	if f.keep[k] {
		f.kv = append(f.kv, field{key: k, kind: kTime, t: t})
	}
}

// coreKeys are Traefik's core fields and entryPointName, whose keep or
// drop is decided once (keepKeys).
var coreKeys = []string{"StartUTC", "StartLocal", "Duration", "RouterName", "ServiceName", "ServiceURL", "ServiceAddr",
	"ClientAddr", "ClientHost", "ClientPort", "ClientUsername", "GzipRatio", "Overhead", "RetryAttempts", "TLSVersion",
	"TLSCipher", "TLSClientSubject", "RequestAddr", "RequestHost", "RequestPort", "RequestMethod", "RequestPath",
	"RequestProtocol", "RequestScheme", "RequestContentSize", "OriginDuration", "OriginContentSize", "OriginStatus",
	"DownstreamStatus", "DownstreamContentSize", "RequestCount", "entryPointName"}

// keepKeys is Traefik's Fields.Keep of each core key.
func keepKeys(f *Fields) map[string]bool {
	m := make(map[string]bool, len(coreKeys))
	for _, k := range coreKeys {
		m[k] = f.keepField(strings.ToLower(k))
	}
	return m
}

// headerFields appends prefix+name for each header kept (values of one
// name joined with commas) or redacted, sorted by name.
func (l *Logger) headerFields(f *fieldSet, prefix string, h *Headers) {
	first := len(f.kv)
	h.each(func(name, value []byte) {
		if string(name) == "Host" {
			return // not a header to Go's server (RequestAddr has it)
		}
		mode := l.cfg.Fields.header(string(name))
		if mode == Drop {
			return
		}
		n := len(f.sc)
		f.sc = append(append(f.sc, prefix...), name...)
		key := f.sc[n:len(f.sc):len(f.sc)]
		for i := first; i < len(f.kv); i++ {
			if string(f.kv[i].k) == string(key) { // repeated: Traefik joins the values
				f.sc = f.sc[:n]
				if mode == Keep {
					m := len(f.sc)
					f.sc = append(append(append(f.sc, f.kv[i].s...), ','), value...)
					f.kv[i].s = f.sc[m:len(f.sc):len(f.sc)]
				}
				return
			}
		}
		if mode == Redact {
			value = redacted
		}
		m := len(f.sc)
		f.sc = append(f.sc, value...)
		f.kv = append(f.kv, field{kind: kHeader, k: key, s: f.sc[m:len(f.sc):len(f.sc)]})
	})
	slices.SortFunc(f.kv[first:], func(a, b field) int { return bytes.Compare(a.k, b.k) })
}

var redacted = []byte("REDACTED")

func joinHostPort(b, host, port []byte) []byte {
	if bytes.IndexByte(host, ':') >= 0 {
		b = append(append(append(b, '['), host...), ']')
	} else {
		b = append(b, host...)
	}
	return append(append(b, ':'), port...)
}

// splitHostPort is Traefik's silentSplitHostPort: without a port, the
// whole value and "-".
func splitHostPort(v []byte) (host, port []byte) {
	i := bytes.LastIndexByte(v, ':')
	if i < 0 || bytes.IndexByte(v[i:], ']') >= 0 {
		return v, dash
	}
	host, port = v[:i], v[i+1:]
	if len(host) > 1 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
	} else if bytes.IndexByte(host, ':') >= 0 {
		return v, dash // "too many colons"
	}
	return host, port
}
