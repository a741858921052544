package route

import "github.com/cespare/xxhash/v2"

// hostTable maps a host key to its trie. It is an open-addressed table
// (linear probing, at most 4/5 full) rather than a Go map so that a
// lookup for a host out of cache costs one slot and then, all at once,
// its key bytes, its trie and its route's service: the slot holds the
// full hash, the key's place in one shared byte arena, the trie and the
// service, so nothing waits for the key comparison and the route itself is
// not read (bench/'s h100k-spread; PERF.md).
type hostTable struct {
	slots []hostSlot // len is a power of two; a nil trie is an empty slot
	keys  []byte     // every key, back to back
	n     int
}

type hostSlot struct {
	hash uint64
	off  uint32 // the key is keys[off : off+keyLen()]
	meta uint32 // the key's length, and slashOnly in the top bit
	t    *trie
	svc  *Service // t.direct's service when it has one plain target
}

const slashOnly = 1 << 31 // direct applies only to paths starting with '/'

func (s *hostSlot) keyLen() uint32 { return s.meta &^ slashOnly }

// route is the trie's direct route for path, or nil when the trie must be
// walked.
func (s *hostSlot) route(path []byte) *Route {
	if s.meta&slashOnly != 0 && (len(path) == 0 || path[0] != '/') {
		return nil
	}
	return s.t.direct
}

// newHostTable makes a table for n keys of keyBytes bytes in all.
func newHostTable(n, keyBytes int) *hostTable {
	size := 8
	for full(n, size) {
		size *= 2
	}
	return &hostTable{slots: make([]hostSlot, size), keys: make([]byte, 0, keyBytes)}
}

// full: n keys would fill more than 4/5 of size slots. (At 100k hosts
// that is 4 MiB of slots rather than 8; a miss then scans about nine
// neighbouring slots.)
func full(n, size int) bool { return 5*n > 4*size }

// put adds key, which must not be in the table yet.
func (h *hostTable) put(key string, t *trie) {
	if full(h.n+1, len(h.slots)) {
		h.grow()
	}
	hash := xxhash.Sum64String(key)
	s := h.free(hash)
	*s = hostSlot{hash: hash, off: uint32(len(h.keys)), meta: uint32(len(key)), t: t}
	if t.directSlash {
		s.meta |= slashOnly
	}
	if d := t.direct; d != nil && len(d.Targets) == 1 {
		if tg := &d.Targets[0]; tg.Failover == nil && tg.Mirroring == nil && tg.Group == nil {
			s.svc = tg.Service
		}
	}
	h.keys = append(h.keys, key...)
	h.n++
}

func (h *hostTable) free(hash uint64) *hostSlot {
	mask := uint64(len(h.slots) - 1)
	for i := hash & mask; ; i = (i + 1) & mask {
		if h.slots[i].t == nil {
			return &h.slots[i]
		}
	}
}

func (h *hostTable) grow() {
	old := h.slots
	h.slots = make([]hostSlot, 2*len(old))
	for _, s := range old {
		if s.t != nil {
			*h.free(s.hash) = s
		}
	}
}

// get returns key's slot, or nil. It allocates nothing.
func (h *hostTable) get(key []byte) *hostSlot {
	if h == nil || h.n == 0 {
		return nil
	}
	hash := xxhash.Sum64(key)
	mask := uint64(len(h.slots) - 1)
	for i := hash & mask; ; i = (i + 1) & mask {
		s := &h.slots[i]
		if s.t == nil {
			return nil
		}
		if s.hash == hash && string(h.keys[s.off:s.off+s.keyLen()]) == string(key) {
			return s
		}
	}
}

// each calls f for every key and trie, in no order.
func (h *hostTable) each(f func(key string, t *trie)) {
	if h == nil {
		return
	}
	for _, s := range h.slots {
		if s.t != nil {
			f(string(h.keys[s.off:s.off+s.keyLen()]), s.t)
		}
	}
}
