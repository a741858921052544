package api

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// Handler is api@internal: Traefik's API routes under basePath ("" for
// Traefik's default) and, with dashboard, the dashboard's pages under
// /dashboard/, answered from the State get returns.
func Handler(basePath string, dashboard bool, get func() *State) pipeline.Handler {
	basePath = strings.TrimSuffix(basePath, "/")
	pages := Dashboard(get)
	return pipeline.HandlerFunc(func(x *pipeline.Exchange) {
		path, query, _ := x.RequestPath()
		p, err := url.PathUnescape(string(path))
		switch {
		case err != nil:
			x.Respond(fasthttp.StatusBadRequest, pipeline.BodyBadRequest)
		case dashboard && p == basePath+"/dashboard":
			x.Resp.SetStatusCode(fasthttp.StatusMovedPermanently)
			x.Resp.Header.Set("Location", basePath+"/dashboard/")
		case dashboard && strings.HasPrefix(p, basePath+"/dashboard/"):
			pages.Serve(x)
		case !strings.HasPrefix(p, basePath+"/api/"):
			x.Respond(fasthttp.StatusNotFound, pipeline.BodyNotFound)
		case !isGet(x.Out.Header.Method()):
			x.Respond(fasthttp.StatusMethodNotAllowed, nil)
		default:
			q, _ := url.ParseQuery(string(query))
			serve(x, get(), strings.TrimPrefix(p, basePath), q)
		}
	})
}

func isGet(m []byte) bool { return string(m) == fasthttp.MethodGet || string(m) == fasthttp.MethodHead }

// serve answers one API path.
func serve(x *pipeline.Exchange, s *State, p string, q url.Values) {
	switch {
	case p == "/api/version":
		reply(x, s.version)
	case p == "/api/overview":
		reply(x, s.overview)
	case p == "/api/rawdata":
		reply(x, s.rawdata())
	case p == "/api/sluice/diagnostics":
		reply(x, s.diags)
	case p == "/api/sluice/route" && s.explain != nil:
		if v, err := s.explain(q); err != nil {
			fail(x, err.Error(), fasthttp.StatusBadRequest)
		} else {
			reply(x, v)
		}
	case p == "/api/sluice/live" && s.live != nil:
		x.Resp.Header.Set("Cache-Control", "no-store")
		reply(x, s.live())
	case p == "/api/entrypoints":
		list(x, q, s.entryPoints, nil)
	case strings.HasPrefix(p, "/api/entrypoints/"):
		one(x, s.entryPoints, strings.TrimPrefix(p, "/api/entrypoints/"), "entry point", func(e EntryPoint) string { return e.Name })
	case p == "/api/http/routers":
		list(x, q, filter(s.routers, q, keepRouter), sortRouters(q))
	case strings.HasPrefix(p, "/api/http/routers/"):
		one(x, s.routers, strings.TrimPrefix(p, "/api/http/routers/"), "router", func(r Router) string { return r.Name })
	case p == "/api/http/services":
		list(x, q, filter(s.services, q, keepService), sortByName[Service](q, func(v Service) string { return v.Name }))
	case strings.HasPrefix(p, "/api/http/services/"):
		one(x, s.services, strings.TrimPrefix(p, "/api/http/services/"), "service", func(v Service) string { return v.Name })
	case p == "/api/http/middlewares":
		list(x, q, filter(s.middlewares, q, keepMiddleware), sortByName[Middleware](q, func(m Middleware) string { return m.Name }))
	case strings.HasPrefix(p, "/api/http/middlewares/"):
		one(x, s.middlewares, strings.TrimPrefix(p, "/api/http/middlewares/"), "middleware", func(m Middleware) string { return m.Name })
	case p == "/api/tcp/routers", p == "/api/tcp/services", p == "/api/tcp/middlewares", p == "/api/udp/routers", p == "/api/udp/services":
		list(x, q, []struct{}{}, nil) // Sluice serves HTTP only
	default:
		x.Respond(fasthttp.StatusNotFound, pipeline.BodyNotFound)
	}
}

// reply writes v as JSON.
func reply(x *pipeline.Exchange, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		fail(x, err.Error(), fasthttp.StatusInternalServerError)
		return
	}
	x.Resp.SetStatusCode(fasthttp.StatusOK)
	x.Resp.Header.SetContentType("application/json")
	x.Resp.SetBody(append(b, '\n'))
}

// fail is Traefik's writeError: {"message": ...} through http.Error.
func fail(x *pipeline.Exchange, msg string, code int) {
	b, _ := json.Marshal(map[string]string{"message": msg})
	x.Resp.SetStatusCode(code)
	x.Resp.Header.SetContentType("text/plain; charset=utf-8")
	x.Resp.Header.Set("X-Content-Type-Options", "nosniff")
	x.Resp.SetBody(append(b, '\n'))
}

// list writes one page of xs (sorted by sortFn when given) with
// Traefik's X-Next-Page.
func list[T any](x *pipeline.Exchange, q url.Values, xs []T, sortFn func([]T)) {
	if sortFn != nil {
		sortFn(xs)
	}
	start, end, next, err := page(q, len(xs))
	if err != nil {
		fail(x, err.Error(), fasthttp.StatusBadRequest)
		return
	}
	x.Resp.Header.Set("X-Next-Page", strconv.Itoa(next))
	reply(x, xs[start:end])
}

// page is Traefik's pagination: per_page (100) and page (1).
func page(q url.Values, n int) (start, end, next int, err error) {
	perPage, err1 := intParam(q, "per_page", 100)
	p, err2 := intParam(q, "page", 1)
	if err1 != nil {
		return 0, 0, 0, err1
	}
	if err2 != nil {
		return 0, 0, 0, err2
	}
	start = (p - 1) * perPage
	if start != 0 && start >= n {
		return 0, 0, 0, fmt.Errorf("invalid request: page: %d, per_page: %d", p, perPage)
	}
	next = 1
	if p*perPage < n {
		next = p + 1
	}
	return start, min(start+perPage, n), next, nil
}

func intParam(q url.Values, key string, def int) (int, error) {
	raw := q.Get(key)
	if raw == "" {
		return def, nil
	}
	v, err := strconv.Atoi(raw)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("invalid request: %s: %d", key, v)
	}
	return v, nil
}

// one writes the item named id, or Traefik's 404.
func one[T any](x *pipeline.Exchange, xs []T, id, kind string, name func(T) string) {
	for _, v := range xs {
		if name(v) == id {
			reply(x, v)
			return
		}
	}
	fail(x, kind+" not found: "+id, fasthttp.StatusNotFound)
}

// filter keeps the items the query's criteria keep (all without any).
func filter[T any](xs []T, q url.Values, keep func(T, criteria) bool) []T {
	c := criteria{search: strings.ToLower(q.Get("search")), status: q.Get("status"), service: q.Get("serviceName"), middleware: q.Get("middlewareName")}
	out := make([]T, 0, len(xs))
	for _, v := range xs {
		if c == (criteria{}) || keep(v, c) {
			out = append(out, v)
		}
	}
	return out
}

// criteria is Traefik's searchCriterion.
type criteria struct{ search, status, service, middleware string }

func (c criteria) withStatus(s string) bool { return c.status == "" || strings.EqualFold(s, c.status) }

func (c criteria) searchIn(vs ...string) bool {
	if c.search == "" {
		return true
	}
	for _, v := range vs {
		if strings.Contains(strings.ToLower(v), c.search) {
			return true
		}
	}
	return false
}

func keepRouter(r Router, c criteria) bool {
	okService := c.service == "" || strings.Contains(r.Service, "@") && c.service == r.Service
	if c.service != "" && !strings.Contains(r.Service, "@") {
		before, _, _ := strings.Cut(c.service, "@")
		okService = before == r.Service
	}
	return c.withStatus(r.Status) && c.searchIn(r.Rule, r.Name) && okService && (c.middleware == "" || slices.Contains(r.Middlewares, c.middleware))
}

func keepService(s Service, c criteria) bool { return c.withStatus(s.Status) && c.searchIn(s.Name) }

func keepMiddleware(m Middleware, c criteria) bool {
	return c.withStatus(m.Status) && c.searchIn(m.Name)
}

// sortRouters is Traefik's sortRouters: by name unless sortBy says
// provider, priority, status, rule, service or entryPoints; direction asc
// or desc.
func sortRouters(q url.Values) func([]Router) {
	key := map[string]func(Router) string{
		"provider": func(r Router) string { return r.Provider }, "status": func(r Router) string { return r.Status },
		"rule": func(r Router) string { return r.Rule }, "service": func(r Router) string { return r.Service },
	}[q.Get("sortBy")]
	desc := q.Get("direction") == "desc"
	return func(rs []Router) {
		sort.SliceStable(rs, func(i, j int) bool {
			a, b := rs[i], rs[j]
			if desc {
				a, b = b, a
			}
			switch {
			case q.Get("sortBy") == "priority" && a.Priority != b.Priority:
				return a.Priority < b.Priority
			case q.Get("sortBy") == "entryPoints" && len(a.EntryPoints) != len(b.EntryPoints):
				return len(a.EntryPoints) < len(b.EntryPoints)
			case key != nil && key(a) != key(b):
				return key(a) < key(b)
			}
			return a.Name < b.Name
		})
	}
}

// sortByName sorts by name, or by status with sortBy=status.
func sortByName[T any](q url.Values, name func(T) string) func([]T) {
	desc := q.Get("direction") == "desc"
	return func(xs []T) {
		sort.SliceStable(xs, func(i, j int) bool {
			if desc {
				return name(xs[i]) > name(xs[j])
			}
			return name(xs[i]) < name(xs[j])
		})
	}
}

// rawdata is /api/rawdata: every router, service and middleware by name.
func (s *State) rawdata() map[string]any {
	routers, services, mws := map[string]Router{}, map[string]Service{}, map[string]Middleware{}
	for _, r := range s.routers {
		routers[r.Name] = r
	}
	for _, v := range s.services {
		services[v.Name] = v
	}
	for _, m := range s.middlewares {
		mws[m.Name] = m
	}
	return map[string]any{"routers": routers, "services": services, "middlewares": mws}
}
