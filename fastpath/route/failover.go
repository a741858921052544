package route

import "net/netip"

// Failover is a failover TraefikService: requests go to Main; an answer
// whose status is in Status is replayed on Fallback (the request body,
// held in memory, sent again).
type Failover struct {
	Name     string
	Main     Target
	Fallback Target
	Status   [][2]int // inclusive ranges
	MaxBody  int64    // larger request bodies are refused (413); -1: no limit
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

// ChooseFallback picks the fallback's service and server.
func (f *Failover) ChooseFallback(client netip.Addr, cookies Cookies, ch *Choice) {
	*ch = Choice{client: client}
	f.Fallback.choose(cookies, ch, 1)
}
