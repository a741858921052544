package pipeline

// Handler serves an Exchange: it leaves the response in x.Resp. Handlers
// are built once per routing table and must be safe for concurrent use.
type Handler interface {
	Serve(x *Exchange)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(x *Exchange)

// Serve calls f(x).
func (f HandlerFunc) Serve(x *Exchange) { f(x) }

// Middleware wraps a handler: it is called once when a table is built,
// never per request, and returns the handler that serves in front of next.
type Middleware func(next Handler) Handler

// Chain applies middlewares so that the first one serves first.
func Chain(next Handler, mws ...Middleware) Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		next = mws[i](next)
	}
	return next
}
