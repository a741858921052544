package middleware

import (
	"bytes"
	"net"
	"net/http"
	"net/textproto"
	"slices"
	"strings"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// authHeaders writes the auth request's headers as Traefik does: the
// request's headers as its middlewares see them, without the hop-by-hop
// ones; with trustForwardHeader set (writeHeader) the X- headers removed
// unless trusted, kept to AuthRequestHeaders, then X-Forwarded-For
// extended and the other X-Forwarded-* set where absent; without it
// (oldWriteHeader) the X-Forwarded-For, -Proto, -Method, -Host and -Uri
// replaced.
func (a *forwardAuth) authHeaders(x *pipeline.Exchange, req *http.Request) {
	h := req.Header
	peer := string(x.Peer())
	pipeline.EachRequestHeader(&x.Out.Header, func(k, v []byte) {
		key := string(k)
		switch key {
		case "Host":
			return
		case "X-Forwarded-For": // the client's, without the client Sluice appended
			if v = priorForwardedFor(v, peer); v == nil {
				return
			}
		}
		h[key] = append(h[key], string(v))
	})
	removeConnectionHeaders(h)
	for _, k := range bytes.Split(x.KeptConnection(), []byte(",")) {
		delete(h, textproto.CanonicalMIMEHeaderKey(string(k))) // Traefik's Connection still names them
	}
	for _, k := range hopByHop {
		delete(h, k)
	}
	trust := a.TrustForwardHeader
	if trust != nil && !*trust {
		for k := range h {
			if isManagedXHeader(k) {
				delete(h, k)
			}
		}
	}
	if _, ok := h["User-Agent"]; trust != nil && !ok {
		h["User-Agent"] = []string{""} // Go's transport then sends none
	}
	if len(a.reqHeaders) > 0 {
		kept := http.Header{}
		for _, name := range a.reqHeaders {
			if vs := h.Values(name); len(vs) > 0 {
				kept[http.CanonicalHeaderKey(name)] = vs
			}
		}
		h = kept
		req.Header = h
	}
	proto := "http"
	if x.TLS != nil {
		proto = "https"
	}
	method, host, uri := string(x.Out.Header.Method()), string(x.Out.Header.Host()), string(x.Out.Header.RequestURI())
	if trust == nil {
		h.Set("X-Forwarded-For", peer)
		h.Set("X-Forwarded-Proto", proto)
		h.Set("X-Forwarded-Method", method)
		h.Set("X-Forwarded-Host", host)
		h.Set("X-Forwarded-Uri", uri)
		return
	}
	xff := peer
	if prior, ok := h["X-Forwarded-For"]; ok {
		xff = strings.Join(prior, ", ") + ", " + peer
	}
	h.Set("X-Forwarded-For", xff)
	setAbsent := func(k, v string) {
		if _, ok := h[k]; !ok {
			h.Set(k, v)
		}
	}
	setAbsent("X-Forwarded-Method", method)
	setAbsent("X-Forwarded-Proto", proto)
	if _, ok := h["X-Forwarded-Port"]; !ok {
		h.Set("X-Forwarded-Port", authForwardedPort(host, h.Get("X-Forwarded-Proto"), x.TLS != nil))
	}
	setAbsent("X-Forwarded-Host", host)
	setAbsent("X-Forwarded-Uri", uri)
}

// priorForwardedFor is the X-Forwarded-For the client sent (nil: none),
// from the value Sluice forwards: that, then ", " and the client.
func priorForwardedFor(v []byte, peer string) []byte {
	if string(v) == peer {
		return nil
	}
	if p, ok := bytes.CutSuffix(v, []byte(", "+peer)); ok {
		return p
	}
	return v
}

// authForwardedPort is Traefik's forwardedPort for the auth request.
func authForwardedPort(host, proto string, tls bool) string {
	if _, port, err := net.SplitHostPort(host); err == nil && port != "" {
		return port
	}
	if proto == "https" || proto == "wss" || tls {
		return "443"
	}
	return "80"
}

// removeConnectionHeaders is Traefik's RemoveConnectionHeaders: the
// headers the Connection header names go, an upgrade's Connection and
// Upgrade stay.
func removeConnectionHeaders(h http.Header) {
	var upType string
	if headerHasToken(h["Connection"], "upgrade") {
		upType = h.Get("Upgrade")
	}
	for _, f := range h["Connection"] {
		for sf := range strings.SplitSeq(f, ",") {
			if sf = textproto.TrimString(sf); sf != "" {
				h.Del(sf)
			}
		}
	}
	if upType != "" {
		h.Set("Connection", "Upgrade")
		h.Set("Upgrade", upType)
	} else {
		h.Del("Connection")
	}
}

// headerHasToken: one of the comma-separated values is token, case aside.
func headerHasToken(values []string, token string) bool {
	for _, v := range values {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(textproto.TrimString(t), token) {
				return true
			}
		}
	}
	return false
}

// isManagedXHeader is Traefik's: one of its X- headers, '_' taken as '-'.
func isManagedXHeader(key string) bool {
	if len(key) == 0 || key[0] != 'X' {
		return false
	}
	if slices.Contains(managedXHeaders, key) {
		return true
	}
	if strings.IndexByte(key, '_') < 0 {
		return false
	}
	return slices.Contains(managedXHeaders, http.CanonicalHeaderKey(strings.ReplaceAll(key, "_", "-")))
}
