package accesslog

import (
	"bytes"
	"crypto/tls"
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

// fields gathers r's kept fields into l.kv: Traefik's core fields, then
// the headers the configuration keeps or redacts. Values are appended to
// l.scratch (its slices stay valid when it grows), so that a warm logger
// allocates nothing.
func (l *Logger) fields(r *Record) []field {
	kv, sc := l.kv[:0], l.scratch[:0]
	keep := l.keep
	bs := func(k string, v []byte) {
		if keep[k] {
			kv = append(kv, field{key: k, kind: kStr, s: v})
		}
	}
	str := func(k, v string) {
		if keep[k] {
			n := len(sc)
			sc = append(sc, v...)
			kv = append(kv, field{key: k, kind: kStr, s: sc[n:len(sc):len(sc)]})
		}
	}
	num := func(k string, n int64) {
		if keep[k] {
			kv = append(kv, field{key: k, kind: kInt, n: n})
		}
	}
	tm := func(k string, t time.Time) {
		if keep[k] {
			kv = append(kv, field{key: k, kind: kTime, t: t})
		}
	}
	tm("StartUTC", r.Start.UTC())
	tm("StartLocal", r.Start.Local())
	num("Duration", int64(r.Duration))
	if r.Router != "" {
		str("RouterName", r.Router)
	}
	if r.Service != "" {
		str("ServiceName", r.Service)
		str("ServiceURL", r.ServiceURL)
		addr := r.ServiceURL
		if i := strings.Index(addr, "://"); i >= 0 {
			addr = addr[i+3:]
		}
		str("ServiceAddr", addr)
	}
	n := len(sc)
	sc = strconv.AppendInt(sc, int64(r.ClientPort), 10)
	port := sc[n:len(sc):len(sc)]
	n = len(sc)
	sc = joinHostPort(sc, r.ClientIP, port)
	bs("ClientAddr", sc[n:len(sc):len(sc)])
	if len(r.ForwardedFor) > 0 {
		bs("ClientHost", r.ForwardedFor)
	} else {
		bs("ClientHost", r.ClientIP)
	}
	bs("ClientPort", port)
	if r.User != "" {
		str("ClientUsername", r.User)
	} else {
		str("ClientUsername", "-")
	}
	if r.Size != r.OriginSize && r.Size != 0 && keep["GzipRatio"] {
		kv = append(kv, field{key: "GzipRatio", kind: kFloat, f: float64(r.OriginSize) / float64(r.Size)})
	}
	num("Overhead", int64(r.Duration-r.OriginDuration))
	num("RetryAttempts", int64(r.Retries))
	scheme := "http"
	if r.TLSVersion != 0 {
		scheme = "https"
		str("TLSVersion", obs.TLSVersion(r.TLSVersion))
		str("TLSCipher", tls.CipherSuiteName(r.TLSCipher))
		if r.ClientCert != nil {
			str("TLSClientSubject", r.ClientCert.Subject.String())
		}
	}
	if len(r.Host) > 0 {
		bs("RequestAddr", r.Host)
		host, hport := splitHostPort(r.Host)
		bs("RequestHost", host)
		bs("RequestPort", hport)
	}
	bs("RequestMethod", r.Method)
	n = len(sc)
	sc = requestPath(sc, r.URI, l.cfg.Fields.DropQuery)
	bs("RequestPath", sc[n:len(sc):len(sc)])
	bs("RequestProtocol", r.Proto)
	str("RequestScheme", scheme)
	num("RequestContentSize", r.ReqSize)
	num("OriginDuration", int64(r.OriginDuration))
	num("OriginContentSize", r.OriginSize)
	num("OriginStatus", int64(r.OriginStatus))
	num("DownstreamStatus", int64(r.Status))
	num("DownstreamContentSize", r.Size)
	num("RequestCount", int64(r.count))
	str("entryPointName", r.EntryPoint)
	if l.headers {
		kv, sc = l.headerFields(kv, sc, "request_", &r.ReqHeaders)
		kv, sc = l.headerFields(kv, sc, "downstream_", &r.RespHeaders)
	}
	l.kv, l.scratch = kv, sc
	return kv
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
// name joined with commas) or redacted.
func (l *Logger) headerFields(kv []field, sc []byte, prefix string, h *Headers) ([]field, []byte) {
	h.each(func(name, value []byte) {
		if string(name) == "Host" {
			return // not a header to Go's server (RequestAddr has it)
		}
		mode := l.cfg.Fields.header(string(name))
		if mode == Drop {
			return
		}
		n := len(sc)
		sc = append(append(sc, prefix...), name...)
		key := sc[n:len(sc):len(sc)]
		for i := range kv {
			if kv[i].kind == kHeader && string(kv[i].k) == string(key) { // repeated: Traefik joins the values
				sc = sc[:n]
				if mode == Keep {
					m := len(sc)
					sc = append(append(append(sc, kv[i].s...), ','), value...)
					kv[i].s = sc[m:len(sc):len(sc)]
				}
				return
			}
		}
		if mode == Redact {
			value = redacted
		}
		m := len(sc)
		sc = append(sc, value...)
		kv = append(kv, field{kind: kHeader, k: key, s: sc[m:len(sc):len(sc)]})
	})
	return kv, sc
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
