package tlsconf

import (
	"crypto/rand"
	"crypto/tls"
	"sync"
)

// TicketKeys are the keys that seal TLS session tickets, shared by every
// configuration of every table, so that a session survives the table it
// started under (Go gives each configuration keys of its own, and a
// configuration lasts one table). Keys[0] seals; all open.
type TicketKeys struct {
	mu   sync.Mutex
	keys [][32]byte
}

// NewTicketKeys returns one random key.
func NewTicketKeys() *TicketKeys {
	t := &TicketKeys{}
	t.Rotate()
	return t
}

// Rotate puts a new random key first and keeps the last maxTicketKeys.
func (t *TicketKeys) Rotate() {
	var k [32]byte
	_, _ = rand.Read(k[:])
	t.Set(append([][32]byte{k}, t.Keys()...))
}

// maxTicketKeys: at a daily rotation, tickets stay good for a week, as
// with Go's own rotation.
const maxTicketKeys = 7

// Set replaces the keys (the first seals).
func (t *TicketKeys) Set(keys [][32]byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.keys = append([][32]byte(nil), keys[:min(len(keys), maxTicketKeys)]...)
}

// Keys returns a copy of the keys.
func (t *TicketKeys) Keys() [][32]byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([][32]byte(nil), t.keys...)
}

// Apply gives cfgs the current keys.
func (t *TicketKeys) Apply(cfgs []*tls.Config) {
	for _, c := range cfgs {
		t.apply(c)
	}
}

func (t *TicketKeys) apply(cfg *tls.Config) {
	if t == nil {
		return
	}
	if keys := t.Keys(); len(keys) > 0 {
		cfg.SetSessionTicketKeys(keys)
	}
}
