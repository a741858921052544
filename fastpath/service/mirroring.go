package service

import (
	"sync/atomic"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// Mirroring is a mirroring TraefikService: every request goes to Main,
// and a share of them is also sent, as a copy, to each mirror, whose
// answer is discarded (Traefik service/loadbalancer/mirror). Immutable
// once published but for its counters.
type Mirroring struct {
	Name    string
	Main    Service
	Mirrors []Mirror
	// MirrorBody: send the request body to mirrors (default true); else
	// the copies go without one.
	MirrorBody  bool
	MaxBodySize int64 // a longer body is not mirrored; -1: no limit (then pipeline.MaxHeldBody)
	total       *atomic.Uint64
	slots       chan struct{} // bounds copies in flight, shared by every Mirroring of a process
}

// Mirror is one mirror and the percent of requests it gets.
type Mirror struct {
	Service Service
	Percent uint64
	count   *atomic.Uint64
}

// NewMirroring returns a mirroring service. slots bounds the copies in
// flight (a copy that finds it full is dropped); it outlives tables.
func NewMirroring(name string, main Service, mirrors []Mirror, body bool, maxBody int64, slots chan struct{}) *Mirroring {
	for i := range mirrors {
		mirrors[i].count = new(atomic.Uint64)
	}
	return &Mirroring{Name: name, Main: main, Mirrors: mirrors, MirrorBody: body, MaxBodySize: maxBody,
		total: new(atomic.Uint64), slots: slots}
}

// MirrorsDropped counts the mirror copies dropped because too many were
// in flight, over the process's life.
var MirrorsDropped atomic.Uint64

// MaxMirrors bounds the mirror copies one request can make.
const MaxMirrors = 8

// Serve lets Main serve, then sends the copies this request is counted
// for, as Traefik does: after the main answer, from one goroutine, never
// slowing the client. The body is held first so that each copy can carry
// it; a body over MaxBodySize (or pipeline.MaxHeldBody) goes to Main
// alone. When too many copies are in flight, this request's are dropped.
func (m *Mirroring) Serve(x *pipeline.Exchange) {
	var picks [MaxMirrors]int
	n := m.active(&picks)
	if n == 0 || m.MirrorBody && !x.HoldBody(m.MaxBodySize) {
		m.Main.Serve(x)
		return
	}
	select {
	case m.slots <- struct{}{}:
	default:
		MirrorsDropped.Add(uint64(n))
		m.Main.Serve(x)
		return
	}
	// Copied before Main serves: Out as the middlewares left it.
	var copies [MaxMirrors]*pipeline.Exchange
	for i := range picks[:n] {
		c := x.Clone()
		if !m.MirrorBody {
			c.Out.ResetBody()
		}
		copies[i] = c
	}
	m.Main.Serve(x)
	go func() {
		for i, c := range copies[:n] {
			m.Mirrors[picks[i]].Service.Serve(c)
			pipeline.Release(c)
		}
		<-m.slots
	}()
}

// active records the mirrors this request goes to, with Traefik's
// counting: mirror i takes the request while count_i*100 < total*percent_i,
// which spreads exactly percent of the requests evenly.
func (m *Mirroring) active(picks *[MaxMirrors]int) int {
	total := m.total.Add(1)
	n := 0
	for i := range m.Mirrors {
		mr := &m.Mirrors[i]
		for {
			c := mr.count.Load()
			if c*100 >= total*mr.Percent {
				break
			}
			if mr.count.CompareAndSwap(c, c+1) {
				if n < MaxMirrors {
					picks[n] = i
					n++
				}
				break
			}
		}
	}
	return n
}
