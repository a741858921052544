package upstream

import "github.com/valyala/fasthttp"

// Interim is told of each informational answer (1xx but 100 and 101: 103
// Early Hints, 102 Processing) a server sends before its response, as Go's
// reverse proxy relays them (Traefik's Got1xxResponse). h holds the
// interim answer's fields and is reused once Interim returns.
type Interim interface {
	Interim(status int, h *fasthttp.ResponseHeader)
}

// SetInterim has the informational answers to req relayed to i (nil:
// dropped). It lasts until req is reset; i must not be an io.Closer,
// which fasthttp closes when it resets a request's user values.
func SetInterim(req *fasthttp.Request, i Interim) {
	req.SetUserValue(interimKey, i)
}

// interimKey is SetInterim's user value key.
var interimKey = &struct{ byte }{}
