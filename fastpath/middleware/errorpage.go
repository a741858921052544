package middleware

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
	"github.com/sluiceproxy/sluice/fastpath/upstream"
)

// ErrorPage is Traefik's errors middleware (pkg/middlewares/customerrors):
// an answer whose status is in Status is replaced by the page Service
// serves for GET http://<the request's host><Query> (Query's {status},
// {originalStatus} and {url} replaced), with the request's headers (or
// only RequestHeaders), under the original status (or the one of the
// first StatusRewrites range that holds it).
type ErrorPage struct {
	Status         [][2]int
	Rewrites       []StatusRewrite
	Query          string
	RequestHeaders []string // nil: all of the request's
	Service        pipeline.Handler
	// LogName is the page service as Traefik names it in access logs:
	// "<middleware>-errorpage-service@<provider>".
	LogName string
}

// StatusRewrite turns a status in From into To.
type StatusRewrite struct {
	From [][2]int
	To   int
}

// Middleware builds it.
func (e ErrorPage) Middleware() (pipeline.Middleware, error) {
	return e.wrap, nil
}

func (e ErrorPage) wrap(next pipeline.Handler) pipeline.Handler {
	return pipeline.HandlerFunc(func(x *pipeline.Exchange) {
		next.Serve(x)
		code := x.Resp.StatusCode()
		if code < 200 || !inRanges(e.Status, code) {
			return
		}
		original := code
		for _, r := range e.Rewrites {
			if inRanges(r.From, code) {
				code = r.To
				break
			}
		}
		e.page(x, code, original)
	})
}

// page serves the error page in place of x's answer.
func (e ErrorPage) page(x *pipeline.Exchange, code, original int) {
	host := string(x.Out.Header.Host())
	target, err := url.Parse("http://" + host + e.query(x, host, code, original))
	if err != nil {
		x.Resp.Reset()
		x.Respond(code, []byte(http.StatusText(code)+"\n"))
		return
	}
	p := x.Clone()
	defer pipeline.Release(p)
	out := &p.Out
	out.Header.ResetConnectionClose()
	if e.RequestHeaders != nil { // the copy's headers are x's: keep the chosen ones
		var drop []string // (fasthttp forbids deleting while iterating)
		pipeline.EachRequestHeader(&out.Header, func(k, _ []byte) {
			if key := string(k); key != "Host" && !containsFold(e.RequestHeaders, key) {
				drop = append(drop, key)
			}
		})
		for _, k := range drop {
			out.Header.Del(k)
		}
	}
	// Traefik's page request is made afresh (no client address): it carries
	// the X-Forwarded-For the client sent, and no more.
	if xff := out.Header.Peek("X-Forwarded-For"); xff != nil {
		if prior := priorForwardedFor(xff, string(x.Peer())); prior == nil {
			out.Header.Del("X-Forwarded-For")
		} else {
			out.Header.Set("X-Forwarded-For", string(prior))
		}
	}
	out.Header.SetMethod(http.MethodGet)
	out.Header.SetContentLength(0)
	out.ResetBody()
	out.SetRequestURI(target.RequestURI())
	out.Header.SetHost(target.Host)
	p.HeadersEdited()
	p.Logged = x.Logged
	e.Service.Serve(p)
	if p.Origin.Service != "" { // Traefik logs the page's service last, with the status it answers
		x.Origin = p.Origin
		x.Origin.Status = code
		if e.LogName != "" {
			x.Origin.Service = e.LogName
		}
	}
	r := x.Resp
	r.Reset()
	p.Resp.Header.CopyTo(&r.Header)
	r.SetStatusCode(code)
	if p.Resp.IsBodyStream() {
		size := p.Resp.Header.ContentLength()
		r.SetBodyStream(upstream.TakeBody(p.Resp), size)
	} else {
		r.SetBody(p.Resp.Body())
	}
	if p.BodyDecoded() {
		x.MarkBodyDecoded()
	}
}

// query is Query with its placeholders replaced, as Traefik does.
func (e ErrorPage) query(x *pipeline.Exchange, host string, code, original int) string {
	if e.Query == "" {
		return ""
	}
	q := "/" + strings.TrimPrefix(e.Query, "/")
	q = strings.ReplaceAll(q, "{status}", strconv.Itoa(code))
	q = strings.ReplaceAll(q, "{originalStatus}", strconv.Itoa(original))
	if strings.Contains(q, "{url}") {
		scheme := "http"
		if x.TLS != nil {
			scheme = "https"
		}
		orig := scheme + "://" + host + string(x.Out.Header.RequestURI())
		if u, err := url.Parse(orig); err == nil {
			orig = u.String()
		}
		q = strings.ReplaceAll(q, "{url}", url.QueryEscape(orig))
	}
	return q
}

// containsFold reports whether list names key, case aside (header names).
func containsFold(list []string, key string) bool {
	for _, l := range list {
		if strings.EqualFold(l, key) {
			return true
		}
	}
	return false
}
