package h2

import "bytes"

// Request is a stream's request header, decoded and checked (RFC 9113
// section 8.3). Its slices point into the stream's buffers: valid until
// the handler returns.
type Request struct {
	Method, Scheme, Authority, Path []byte
	// Host is the host field, if any. Authority is :authority, or Host
	// when the request has none (RFC 9113 section 8.3.1).
	Host []byte
	// Fields are the regular fields in order (names in lower case), host
	// and the pseudo-header fields excepted.
	Fields []Field
	// ContentLength is the content-length field's value, or -1.
	ContentLength int64
	// HasBody is false when the request ended with its header.
	HasBody bool
}

// Field is one header field.
type Field struct{ Name, Value []byte }

// errMalformed marks a request RFC 9113 calls malformed: the stream is
// reset with PROTOCOL_ERROR.
type malformed string

// parseRequest fills r from l. It returns "" or why the request is
// malformed.
func (r *Request) parse(l *headerList) malformed {
	r.Method, r.Scheme, r.Authority, r.Path, r.Host = nil, nil, nil, nil, nil
	r.Fields, r.ContentLength = r.Fields[:0], -1
	regular := false
	var hasMethod, hasScheme, hasAuthority, hasPath bool
	for i := range l.refs {
		name, value := l.field(i)
		if !validValue(value) {
			return "invalid field value"
		}
		if len(name) > 0 && name[0] == ':' {
			if regular {
				return "pseudo-header field after a regular one"
			}
			var seen *bool
			switch string(name) {
			case ":method":
				r.Method, seen = value, &hasMethod
			case ":scheme":
				r.Scheme, seen = value, &hasScheme
			case ":authority":
				r.Authority, seen = value, &hasAuthority
			case ":path":
				r.Path, seen = value, &hasPath
			default:
				return "unknown pseudo-header field"
			}
			if *seen {
				return "repeated pseudo-header field"
			}
			*seen = true
			continue
		}
		regular = true
		if why := r.regular(name, value); why != "" {
			return why
		}
	}
	return r.checkPseudo(hasScheme, hasPath)
}

// regular takes one regular field.
func (r *Request) regular(name, value []byte) malformed {
	if !validName(name) {
		return "invalid field name"
	}
	switch string(name) {
	case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
		return "connection-specific field"
	case "te":
		if !bytes.Equal(value, []byte("trailers")) {
			return "te other than trailers"
		}
	case "host":
		if r.Host != nil {
			return "repeated host field"
		}
		r.Host = value
		return ""
	case "content-length":
		n, ok := parseLength(value)
		if !ok || (r.ContentLength >= 0 && r.ContentLength != n) {
			return "invalid content-length"
		}
		r.ContentLength = n
	}
	r.Fields = append(r.Fields, Field{name, value})
	return ""
}

func (r *Request) checkPseudo(hasScheme, hasPath bool) malformed {
	if len(r.Method) == 0 {
		return "missing :method"
	}
	if len(r.Authority) == 0 {
		r.Authority = r.Host
	}
	if string(r.Method) == "CONNECT" {
		if hasScheme || hasPath || len(r.Authority) == 0 {
			return "CONNECT with :scheme or :path, or without :authority"
		}
		return ""
	}
	if len(r.Scheme) == 0 || len(r.Path) == 0 {
		return "missing or empty :scheme or :path"
	}
	if r.Path[0] != '/' && !(string(r.Path) == "*" && string(r.Method) == "OPTIONS") {
		return "invalid :path"
	}
	return ""
}

func parseLength(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// validName: a token of lower-case letters (RFC 9113 section 8.2.1).
func validName(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c >= 0x80 || !tokenChar[c] || ('A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// validValue: no NUL, CR or LF, and no white space at either end.
func validValue(b []byte) bool {
	for _, c := range b {
		if c == 0 || c == '\r' || c == '\n' {
			return false
		}
	}
	if n := len(b); n > 0 && (isSpace(b[0]) || isSpace(b[n-1])) {
		return false
	}
	return true
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

var tokenChar = func() (t [128]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()
