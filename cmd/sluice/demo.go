package main

import (
	"fmt"
	"io"
	"net"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/examples"
	"github.com/sluiceproxy/sluice/watch"
)

// demoCmd serves the embedded examples with demo backends: no files, no
// cluster. Extra arguments are ordinary serve options.
func demoCmd(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseConfig(append([]string{"--entryPoints.web.address=:8000"}, args...))
	if err != nil {
		fmt.Fprintln(stderr, "sluice demo:", err)
		return 2
	}
	log := newLogger(cfg, stderr)
	for i, addr := range examples.DemoBackends {
		ln, err := net.Listen("tcp4", addr)
		if err != nil {
			fmt.Fprintln(stderr, "sluice demo: demo backend:", err)
			return 1
		}
		name := fmt.Sprintf("backend-%d", i+1)
		go fasthttp.Serve(ln, func(ctx *fasthttp.RequestCtx) {
			fmt.Fprintf(ctx, "%s: %s %s host=%s x-forwarded-for=%s\n", name, ctx.Method(), ctx.RequestURI(), ctx.Host(), ctx.Request.Header.Peek("X-Forwarded-For"))
		})
	}
	fmt.Fprintf(stdout, `Sluice demo: serving examples/ on %s with demo backends on %v. Try:
  curl -H 'Host: whoami.localhost' http://127.0.0.1:8000/        # router demo-whoami-..., backend-1
  curl -H 'Host: whoami.localhost' http://127.0.0.1:8000/api/x   # 3:1 between backend-2 and backend-3
  curl -H 'X-Canary: on' http://127.0.0.1:8000/anything           # priority 1000, backend-3
  curl http://127.0.0.1:8000/                                     # 404 page not found
`, cfg.EntryPoints[0].Address, examples.DemoBackends)
	if err := serve(cfg, &watch.Manifests{Dir: "examples", FS: examples.FS}, log); err != nil {
		log.Error("exiting", "error", err)
		return 1
	}
	return 0
}
