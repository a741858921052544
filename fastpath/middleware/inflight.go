package middleware

import (
	"errors"
	"strconv"
	"sync"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// InFlightReq is Traefik's inFlightReq middleware (oxy's connlimit): at
// most Amount requests of one source at a time; one more is answered 429
// "max connections reached: <Amount>". A request holds its slot until
// its exchange is over (pipeline.AtEnd): the answer written or streamed
// to its end, the client gone, an upgraded connection closed.
type InFlightReq struct {
	Amount int64
	Source *SourceCriterion // nil: the request's host, as Traefik defaults
}

// InFlightCounts is an InFlightReq's state: the requests in flight by
// source. It outlives a table that keeps the same Middleware object.
type InFlightCounts struct {
	mu      sync.Mutex
	sources map[string]*inFlight
	idle    int // entries at zero, swept when they outnumber the busy ones
}

// NewInFlightCounts returns empty counts.
func NewInFlightCounts() *InFlightCounts { return &InFlightCounts{sources: map[string]*inFlight{}} }

// inFlight is one source's count; it ends its requests (pipeline.Ender).
type inFlight struct {
	c    *InFlightCounts
	n    int64
	busy bool // n > 0, as last counted for the idle tally
}

// Len is the number of sources tracked (a test's leak check).
func (c *InFlightCounts) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sources)
}

// Middleware builds it on counts.
func (r InFlightReq) Middleware(counts *InFlightCounts) (pipeline.Middleware, error) {
	src, err := r.Source.source(true)
	if err != nil {
		return nil, err
	}
	if counts == nil {
		return nil, errors.New("no counts")
	}
	body := []byte("max connections reached: " + strconv.FormatInt(r.Amount, 10))
	max := r.Amount
	return func(next pipeline.Handler) pipeline.Handler {
		return pipeline.HandlerFunc(func(x *pipeline.Exchange) {
			buf := x.Scratch(bufTmp)
			*buf = src(x, (*buf)[:0])
			e := counts.acquire(*buf, max)
			if e == nil {
				x.Resp.SetStatusCode(429)
				x.Resp.Header.SetNoDefaultContentType(true) // Traefik's answers are not sniffed
				x.Resp.SetBodyRaw(body)
				return
			}
			x.AtEnd(e)
			next.Serve(x)
		})
	}, nil
}

// acquire takes a slot of source, or reports nil when it has max.
func (c *InFlightCounts) acquire(source []byte, max int64) *inFlight {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.sources[string(source)]
	if e == nil {
		if c.idle > 64 && c.idle > len(c.sources)/2 {
			c.sweep()
		}
		e = &inFlight{c: c}
		c.sources[string(source)] = e
		c.idle++
	}
	if e.n >= max {
		return nil
	}
	e.n++
	if !e.busy {
		e.busy = true
		c.idle--
	}
	return e
}

// End releases one request's slot. A source left at zero stays (the next
// request of a client does not allocate it again) until a sweep.
func (e *inFlight) End() {
	c := e.c
	c.mu.Lock()
	e.n--
	if e.n == 0 {
		e.busy = false
		c.idle++
	}
	c.mu.Unlock()
}

// sweep drops the sources with nothing in flight.
func (c *InFlightCounts) sweep() {
	for k, e := range c.sources {
		if e.n == 0 {
			delete(c.sources, k)
		}
	}
	c.idle = 0
}
