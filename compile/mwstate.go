package compile

import (
	"io"
	"time"

	"github.com/sluiceproxy/sluice/compile/model"
)

// Stateful middlewares (rateLimit, inFlightReq) keep state across
// requests. Traefik builds a middleware's handler for each router that
// uses it, so each router has its own buckets and counts; Sluice does the
// same, and keeps a router's state across tables as long as the
// Middleware object is unchanged (objects are never mutated: the same
// pointer is the same object), where Traefik starts afresh on every
// configuration change. A changed or removed Middleware, or a router
// that is gone, leaves its state behind with the previous table.

// stateKey is one instance of a stateful middleware: the object and the
// scope it serves (a router, a service, an entry point).
type stateKey struct {
	mw    *model.Middleware
	scope string
}

// stateEntry is a state as an IngressRoute's compile used it, so that a
// reuse of its routes keeps the state alive too.
type stateEntry struct {
	key   stateKey
	state any
}

// statefulKinds are the kinds whose handlers hold state: built once per
// scope, not once per table.
var statefulKinds = map[string]bool{"rateLimit": true, "inFlightReq": true, "circuitBreaker": true}

// state returns the state of m in the current scope: the previous
// table's when m is the same object, else a new one from create.
func (c *compiler) state(m *model.Middleware, create func() any) any {
	k := stateKey{m, c.scope}
	st, ok := c.states[k]
	if !ok {
		if st, ok = c.prevStates[k]; !ok {
			st = create()
		}
		c.states[k] = st
	}
	c.irStates = append(c.irStates, stateEntry{k, st})
	return st
}

// perRouterKinds are built for each router too, without state: chains
// (which may hold stateful kinds) and errors (whose service records what
// the router's IngressRoute depends on, for incremental compiles).
var perRouterKinds = map[string]bool{"chain": true, "errors": true}

// builtKey is the cache key of a built Middleware: stateful and per-router
// kinds per scope, the others once per table.
type builtKey struct {
	mw    *model.Middleware
	scope string
}

func (c *compiler) builtKeyOf(m *model.Middleware) builtKey {
	if kinds := middlewareKinds(&m.Spec); len(kinds) == 1 && (statefulKinds[kinds[0]] || perRouterKinds[kinds[0]]) {
		return builtKey{m, c.scope}
	}
	return builtKey{mw: m}
}

// inScope runs f with scope as the current scope.
func (c *compiler) inScope(scope string, f func()) {
	prev := c.scope
	c.scope = scope
	f()
	c.scope = prev
}

// closeDropped closes the states of the previous table that the new one
// does not keep and that hold connections (a Redis client), after a grace
// period: requests of the previous table may still be using them.
func closeDropped(prev, cur map[stateKey]any) {
	for k, v := range prev {
		if _, kept := cur[k]; kept {
			continue
		}
		if cl, ok := v.(io.Closer); ok {
			time.AfterFunc(droppedStateGrace, func() { _ = cl.Close() })
		}
	}
}

// droppedStateGrace is how long a dropped state stays open.
const droppedStateGrace = 10 * time.Second
