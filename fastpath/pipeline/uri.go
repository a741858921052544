package pipeline

import "bytes"

// RequestPath returns Out's request path (escaped, as it will be sent,
// without the query) and its query (after '?', hasQuery when there is
// one, even empty). The slices are Out's: valid until Out changes.
func (x *Exchange) RequestPath() (path, query []byte, hasQuery bool) {
	uri := x.Out.Header.RequestURI()
	if i := bytes.IndexByte(uri, '?'); i >= 0 {
		return uri[:i], uri[i+1:], true
	}
	return uri, nil, false
}

// SetRequestPath sets Out's request path (escaped), keeping its query. p
// may be a slice of Out's request URI.
func (x *Exchange) SetRequestPath(p []byte) {
	_, q, hasQuery := x.RequestPath()
	x.pathBuf = append(x.pathBuf[:0], p...)
	if len(p) == 0 {
		x.pathBuf = append(x.pathBuf, '/') // Go's URL.RequestURI sends an empty path as /
	}
	if hasQuery {
		x.pathBuf = append(append(x.pathBuf, '?'), q...)
	}
	x.Out.SetRequestURIBytes(x.pathBuf)
}

// Scratch is one of six byte buffers a middleware may use for the
// request (i: 0-5), kept by the Exchange so that per-request work need not
// allocate. Its content is left from earlier use: reset it.
func (x *Exchange) Scratch(i int) *[]byte { return &x.scratch[i] }
