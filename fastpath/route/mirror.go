package route

import (
	"net/netip"
	"sync/atomic"
)

// Mirroring is a mirroring TraefikService: every request goes to Main,
// and a share of them is also sent, as a copy, to each mirror, whose
// answer is discarded. Immutable once published but for its counters.
type Mirroring struct {
	Name        string
	Main        Target
	Mirrors     []Mirror
	MirrorBody  bool  // send the request body to mirrors (default true)
	MaxBodySize int64 // larger bodies are not mirrored; -1: no limit
	total       *atomic.Uint64
}

// Mirror is one mirror and the percent of requests it gets.
type Mirror struct {
	Target  Target
	Percent uint64
	count   *atomic.Uint64
}

// NewMirroring returns a mirroring service.
func NewMirroring(name string, main Target, mirrors []Mirror, body bool, maxBody int64) *Mirroring {
	for i := range mirrors {
		mirrors[i].count = new(atomic.Uint64)
	}
	return &Mirroring{Name: name, Main: main, Mirrors: mirrors, MirrorBody: body, MaxBodySize: maxBody, total: new(atomic.Uint64)}
}

// MaxMirrors bounds the mirror copies one request can make.
const MaxMirrors = 8

// MirrorPick is one mirror a request is copied to.
type MirrorPick struct {
	M *Mirroring
	I int
}

// active records the mirrors this request goes to, with Traefik's
// counting: mirror i takes the request while count_i*100 < total*percent_i,
// which spreads exactly percent of the requests evenly.
func (m *Mirroring) active(ch *Choice) {
	total := m.total.Add(1)
	for i := range m.Mirrors {
		mr := &m.Mirrors[i]
		for {
			c := mr.count.Load()
			if c*100 >= total*mr.Percent {
				break
			}
			if mr.count.CompareAndSwap(c, c+1) {
				if ch.NMirrors < MaxMirrors {
					ch.Mirrors[ch.NMirrors] = MirrorPick{m, i}
					ch.NMirrors++
				}
				break
			}
		}
	}
}

// Server picks the mirror's server (its own balancing, no cookies).
func (p MirrorPick) Server(client netip.Addr) (*Service, *Server) {
	var ch Choice
	ch.client = client
	p.M.Mirrors[p.I].Target.choose(nil, &ch, 1)
	return ch.Service, ch.Server
}
