package service

import (
	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// Failover is a failover TraefikService: requests go to Main; an answer
// whose status is in Status is discarded and the request replayed on
// Fallback, its body held in memory for that (Traefik
// service/loadbalancer/failover).
type Failover struct {
	Name     string
	Main     Service
	Fallback Service
	Status   [][2]int // inclusive ranges
	// MaxBody: a request body longer than this is refused (413), as
	// Traefik's maxRequestBodyBytes; -1: no limit of its own, then a body
	// over pipeline.MaxHeldBody goes to Main unheld and is not replayed.
	MaxBody int64
}

// Retries reports whether a main answer with this status goes to the fallback.
func (f *Failover) Retries(status int) bool {
	for _, r := range f.Status {
		if status >= r[0] && status <= r[1] {
			return true
		}
	}
	return false
}

// Serve serves from Main and, when its status calls for it, from Fallback.
func (f *Failover) Serve(x *pipeline.Exchange) {
	held := x.HoldBody(f.MaxBody)
	if !held && f.MaxBody >= 0 {
		x.Respond(413, pipeline.BodyTooLarge)
		return
	}
	f.Main.Serve(x)
	if !held || x.Upgrade() != nil || !f.Retries(x.Resp.StatusCode()) {
		return
	}
	x.Resp.Reset() // the main answer, its cookies and body, are not the client's
	f.Fallback.Serve(x)
}
