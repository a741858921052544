package route

import (
	"encoding/binary"

	"github.com/cespare/xxhash/v2"

	"github.com/sluiceproxy/sluice/fastpath/service"
)

// hostTable maps a host key to its trie. It is an open-addressed table
// (linear probing with Robin Hood insertion, at most 4/5 full) of
// one-cache-line slots rather than a
// Go map, so that a lookup for a host out of cache costs that line and
// then its route's service: the slot holds the full hash, the key itself
// (up to inlineKey bytes; longer keys sit in a shared arena), the host's
// direct route and that route's service. Nothing waits for the trie or the
// route (bench/'s h100k-spread; PERF.md).
type hostTable struct {
	slots []hostSlot // len is a power of two
	tries []*trie    // slot.tix-1 indexes it
	keys  []byte     // keys longer than inlineKey, back to back
}

const inlineKey = 32

type hostSlot struct {
	hash   uint64
	direct *Route                // the trie's direct route, if it has one
	lb     *service.LoadBalancer // direct's handler when it is a load balancer
	tix    uint32                // 1 + the trie's index in tries; 0: an empty slot
	meta   uint32                // the key's length, and slashOnly in the top bit
	key    [inlineKey]byte
}

const slashOnly = 1 << 31 // direct applies only to paths starting with '/'

func (s *hostSlot) keyLen() int { return int(s.meta &^ slashOnly) }

// keyOf is the slot's key: inline, or (longer) in the arena at the offset
// stored in place of it.
func (h *hostTable) keyOf(s *hostSlot) []byte {
	n := s.keyLen()
	if n <= inlineKey {
		return s.key[:n]
	}
	off := binary.LittleEndian.Uint64(s.key[:8])
	return h.keys[off : off+uint64(n)]
}

// route is the direct route for path, or nil when the trie must be walked.
func (s *hostSlot) route(path []byte) *Route {
	if s.meta&slashOnly != 0 && (len(path) == 0 || path[0] != '/') {
		return nil
	}
	return s.direct
}

// newHostTable makes a table for n keys, of which longer ones (over
// inlineKey bytes) have keyBytes bytes in all.
func newHostTable(n, keyBytes int) *hostTable {
	size := 8
	for full(n, size) {
		size *= 2
	}
	return &hostTable{slots: make([]hostSlot, size), tries: make([]*trie, 0, n), keys: make([]byte, 0, keyBytes)}
}

// full: n keys would fill more than 4/5 of size slots. (At 100k hosts
// that is 8 MiB of slots rather than 16; a miss then scans about nine
// neighbouring slots.)
func full(n, size int) bool { return 5*n > 4*size }

// put adds key, which must not be in the table yet.
func (h *hostTable) put(key string, t *trie) {
	if full(len(h.tries)+1, len(h.slots)) {
		h.grow()
	}
	hash := xxhash.Sum64String(key)
	h.tries = append(h.tries, t)
	s := hostSlot{hash: hash, direct: t.direct, tix: uint32(len(h.tries)), meta: uint32(len(key))}
	if len(key) <= inlineKey {
		copy(s.key[:], key)
	} else {
		binary.LittleEndian.PutUint64(s.key[:8], uint64(len(h.keys)))
		h.keys = append(h.keys, key...)
	}
	if t.directSlash {
		s.meta |= slashOnly
	}
	if d := t.direct; d != nil {
		s.lb = d.direct()
	}
	h.insert(s)
}

// insert places s by Robin Hood: walking from its home slot, it takes the
// place of the first key that sits nearer its own home than s would, and
// that key walks on. The average walk is unchanged, but no key is left far
// from home (at 100k keys 4/5 full: 17 slots at most, against 137 by plain
// linear probing; TestHostTableProbeLengths), and a lookup for an absent key
// stops at the first key nearer home than the walk.
func (h *hostTable) insert(s hostSlot) {
	mask := uint64(len(h.slots) - 1)
	dist := uint64(0)
	for i := s.hash & mask; ; i, dist = (i+1)&mask, dist+1 {
		cur := &h.slots[i]
		if cur.tix == 0 {
			*cur = s
			return
		}
		if d := (i - cur.hash) & mask; d < dist {
			s, *cur = *cur, s
			dist = d
		}
	}
}

func (h *hostTable) grow() {
	old := h.slots
	h.slots = make([]hostSlot, 2*len(old))
	for i := range old {
		if old[i].tix != 0 {
			h.insert(old[i])
		}
	}
}

// get returns key's slot, or nil. It allocates nothing.
func (h *hostTable) get(key []byte) *hostSlot {
	if h == nil || len(h.tries) == 0 {
		return nil
	}
	hash := xxhash.Sum64(key)
	mask := uint64(len(h.slots) - 1)
	dist := uint64(0)
	for i := hash & mask; ; i, dist = (i+1)&mask, dist+1 {
		s := &h.slots[i]
		if s.tix == 0 || (i-s.hash)&mask < dist {
			return nil
		}
		if s.hash == hash && string(h.keyOf(s)) == string(key) {
			return s
		}
	}
}

// trie is the slot's trie.
func (h *hostTable) trie(s *hostSlot) *trie { return h.tries[s.tix-1] }

// each calls f for every key and trie, in no order.
func (h *hostTable) each(f func(key string, t *trie)) {
	if h == nil {
		return
	}
	for i := range h.slots {
		if s := &h.slots[i]; s.tix != 0 {
			f(string(h.keyOf(s)), h.trie(s))
		}
	}
}
