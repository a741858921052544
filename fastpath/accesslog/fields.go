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

// fields gives r's kept fields in the order encoding/json writes a map's
// keys (byte order: Traefik's capitalised core fields, then downstream_
// headers, entryPointName, logrus's level and msg, request_ headers,
// time), so that no line is sorted. For JSON (line not nil) they are
// written as they come, with logrus's level, msg and time, and the line
// is returned; else they are gathered into l.kv (values in l.scratch,
// whose slices stay valid when it grows). A warm logger allocates
// nothing.
func (l *Logger) fields(r *Record, line []byte) ([]field, []byte) {
	for i := range l.pos {
		l.pos[i] = -1
	}
	f := fieldSet{kv: l.kv[:0], sc: l.scratch[:0], keep: &l.keep, json: line != nil, line: line, pos: &l.pos}
	f.sc = strconv.AppendInt(f.sc, int64(r.ClientPort), 10)
	port := f.sc[:len(f.sc):len(f.sc)]
	n := len(f.sc)
	f.sc = joinHostPort(f.sc, r.ClientIP, port)
	f.bytes(keyClientAddr, f.sc[n:len(f.sc):len(f.sc)])
	if len(r.ForwardedFor) > 0 {
		f.bytes(keyClientHost, r.ForwardedFor)
	} else {
		f.bytes(keyClientHost, r.ClientIP)
	}
	f.bytes(keyClientPort, port)
	if r.UserSet {
		f.bytes(keyClientUsername, r.User)
	} else {
		f.str(keyClientUsername, "-")
	}
	f.num(keyDownstreamContentSize, r.Size)
	f.num(keyDownstreamStatus, int64(r.Status))
	f.num(keyDuration, int64(r.Duration))
	if r.Size != r.OriginSize && r.Size != 0 {
		f.float(keyGzipRatio, float64(r.OriginSize)/float64(r.Size))
	}
	f.num(keyOriginContentSize, r.OriginSize)
	f.num(keyOriginDuration, int64(r.OriginDuration))
	f.num(keyOriginStatus, int64(r.OriginStatus))
	f.num(keyOverhead, int64(r.Duration-r.OriginDuration))
	f.request(r, l.cfg.Fields.DropQuery)
	if r.Service != "" {
		addr := r.ServiceURL
		if i := strings.Index(addr, "://"); i >= 0 {
			addr = addr[i+3:]
		}
		f.str(keyServiceAddr, addr)
		f.str(keyServiceName, r.Service)
		f.str(keyServiceURL, r.ServiceURL)
	}
	f.time(keyStartLocal, r.Start.Local(), &l.nano[0])
	f.time(keyStartUTC, r.Start.UTC(), &l.nano[1])
	if r.TLSVersion != 0 {
		f.str(keyTLSCipher, obs.CipherName(r.TLSCipher))
		if r.ClientCert != nil {
			f.str(keyTLSClientSubject, r.ClientCert.Subject.String())
		}
		f.str(keyTLSVersion, obs.TLSVersion(r.TLSVersion))
	}
	if l.headers {
		l.headerFields(&f, "downstream_", &r.RespHeaders)
	}
	f.str(keyEntryPointName, r.EntryPoint)
	if f.json {
		f.line = append(f.line, `,"level":"info","msg":""`...)
	}
	if l.headers {
		l.headerFields(&f, "request_", &r.ReqHeaders)
	}
	if f.json {
		f.line = append(f.line, `,"time":"`...)
		// logrus's time: when the line was logged, the request's end
		f.line = append(l.clock.format(f.line, r.Start.Add(r.Duration), time.RFC3339), '"')
	}
	l.kv, l.scratch = f.kv, f.sc
	return f.kv, f.line
}

// request adds the Request* fields, RetryAttempts and RouterName, in
// their order.
func (f *fieldSet) request(r *Record, dropQuery bool) {
	if len(r.Host) > 0 {
		f.bytes(keyRequestAddr, r.Host)
	}
	f.num(keyRequestContentSize, r.ReqSize)
	f.num(keyRequestCount, int64(r.count))
	host, hport := splitHostPort(r.Host)
	if len(r.Host) > 0 {
		f.bytes(keyRequestHost, host)
	}
	f.bytes(keyRequestMethod, r.Method)
	n := len(f.sc)
	f.sc = requestPath(f.sc, r.URI, dropQuery)
	f.bytes(keyRequestPath, f.sc[n:len(f.sc):len(f.sc)])
	if len(r.Host) > 0 {
		f.bytes(keyRequestPort, hport)
	}
	f.bytes(keyRequestProtocol, r.Proto)
	if r.TLSVersion != 0 {
		f.str(keyRequestScheme, "https")
	} else {
		f.str(keyRequestScheme, "http")
	}
	f.num(keyRetryAttempts, int64(r.Retries))
	switch {
	case r.ChildRouter != "":
		n := len(f.sc)
		f.sc = append(append(append(f.sc, r.Router...), " -> "...), r.ChildRouter...)
		f.bytes(keyRouterName, f.sc[n:len(f.sc):len(f.sc)])
	case r.Router != "":
		f.str(keyRouterName, r.Router)
	}
}

// fieldSet is the fields of the line being built: written to line as
// JSON, or gathered in kv with their bytes in sc.
type fieldSet struct {
	kv   []field
	sc   []byte
	keep *[numKeys]bool
	json bool
	line []byte
	pos  *[numKeys]int16 // where in kv each core field is (-1: absent)
}

func (f *fieldSet) kept(k coreKey) bool { return f.keep[k] }

// key writes a JSON line's next key (core keys need no escaping).
func (f *fieldSet) key(k coreKey) {
	j := jsonKeys[k]
	if f.line[len(f.line)-1] == '{' {
		j = j[1:]
	}
	f.line = append(f.line, j...)
}

// jsonKeys are the core keys as a JSON line writes them after a field:
// `,"Key":`.
var jsonKeys = func() (j [numKeys]string) {
	for i, k := range coreKeys {
		j[i] = `,"` + k + `":`
	}
	return j
}()

// add gathers a field, noting where it is.
func (f *fieldSet) add(k coreKey, fd field) {
	fd.key = coreKeys[k]
	f.pos[k] = int16(len(f.kv))
	f.kv = append(f.kv, fd)
}

func (f *fieldSet) bytes(k coreKey, v []byte) {
	switch {
	case !f.kept(k):
	case f.json:
		f.key(k)
		f.line = appendString(f.line, v)
	default:
		f.add(k, field{kind: kStr, s: v})
	}
}

func (f *fieldSet) str(k coreKey, v string) {
	switch {
	case !f.kept(k):
	case f.json:
		f.key(k)
		f.line = appendString(f.line, unsafeBytes(v))
	default:
		n := len(f.sc)
		f.sc = append(f.sc, v...)
		f.add(k, field{kind: kStr, s: f.sc[n:len(f.sc):len(f.sc)]})
	}
}

func (f *fieldSet) num(k coreKey, n int64) {
	switch {
	case !f.kept(k):
	case f.json:
		f.key(k)
		f.line = strconv.AppendInt(f.line, n, 10)
	default:
		f.add(k, field{kind: kInt, n: n})
	}
}

func (f *fieldSet) float(k coreKey, v float64) {
	switch {
	case !f.kept(k):
	case f.json:
		f.key(k)
		f.line = appendFloat(f.line, v)
	default:
		f.add(k, field{kind: kFloat, f: v})
	}
}

func (f *fieldSet) time(k coreKey, t time.Time, c *nanoClock) {
	switch {
	case !f.kept(k):
	case f.json:
		f.key(k)
		f.line = append(c.rfc3339Nano(append(f.line, '"'), t), '"')
	default:
		f.add(k, field{kind: kTime, t: t})
	}
}

// coreKey names one of Traefik's core fields (or entryPointName).
type coreKey uint8

// The core fields, in the order of coreKeys.
const (
	keyStartUTC coreKey = iota
	keyStartLocal
	keyDuration
	keyRouterName
	keyServiceName
	keyServiceURL
	keyServiceAddr
	keyClientAddr
	keyClientHost
	keyClientPort
	keyClientUsername
	keyGzipRatio
	keyOverhead
	keyRetryAttempts
	keyTLSVersion
	keyTLSCipher
	keyTLSClientSubject
	keyRequestAddr
	keyRequestHost
	keyRequestPort
	keyRequestMethod
	keyRequestPath
	keyRequestProtocol
	keyRequestScheme
	keyRequestContentSize
	keyOriginDuration
	keyOriginContentSize
	keyOriginStatus
	keyDownstreamStatus
	keyDownstreamContentSize
	keyRequestCount
	keyEntryPointName
	numKeys
)

// coreKeys are Traefik's core fields and entryPointName, whose keep or
// drop is decided once (keepKeys).
var coreKeys = []string{"StartUTC", "StartLocal", "Duration", "RouterName", "ServiceName", "ServiceURL", "ServiceAddr",
	"ClientAddr", "ClientHost", "ClientPort", "ClientUsername", "GzipRatio", "Overhead", "RetryAttempts", "TLSVersion",
	"TLSCipher", "TLSClientSubject", "RequestAddr", "RequestHost", "RequestPort", "RequestMethod", "RequestPath",
	"RequestProtocol", "RequestScheme", "RequestContentSize", "OriginDuration", "OriginContentSize", "OriginStatus",
	"DownstreamStatus", "DownstreamContentSize", "RequestCount", "entryPointName"}

// keepKeys is Traefik's Fields.Keep of each core key.
func keepKeys(f *Fields) (keep [numKeys]bool) {
	for i, k := range coreKeys {
		keep[i] = f.keepField(strings.ToLower(k))
	}
	return keep
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
	if f.json {
		for i := first; i < len(f.kv); i++ {
			f.line = append(appendString(append(f.line, ','), f.kv[i].k), ':')
			f.line = appendString(f.line, f.kv[i].s)
		}
		f.kv = f.kv[:first]
	}
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
