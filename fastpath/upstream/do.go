package upstream

import (
	"io"

	"github.com/valyala/fasthttp"
)

// Do sends req to e and reads the answer into resp: what e.Client.Do does
// for a plain-HTTP endpoint, less one step. fasthttp's HostClient parses
// every request's URI only to compare its scheme with the client's; the
// proxy writes the request line and Host itself and never uses the URI.
// That parse was 1.3% of the proxy's CPU at 1 route
// (profiles/2026-11-22-r1-fcda236.cpu.pprof), and HostClient's three
// frames sat on the deepest path of a request (PERF.md, stacks).
//
// The rest is HostClient's: the response is reset before each attempt
// (keeping SkipBody and StreamBody), and a failed attempt is sent again
// while RetryIfErr says so, up to MaxIdemponentCallAttempts, never with a
// streamed body; io.EOF is reported as fasthttp.ErrConnectionClosed.
// HostClient's count of pending requests is not kept (Sluice keeps its
// own). The Registry decides once, when it makes the endpoint (direct): a
// TLS endpoint, or one made otherwise, goes through e.Client.Do. What the
// skipped steps of HostClient.Do would have done with the Registry's
// settings (no user agent, no secure error messages, RetryIfErr) is done
// here or is nothing.
func (e *Endpoint) Do(req *fasthttp.Request, resp *fasthttp.Response) error {
	hc, t := e.Client, e.direct
	if t == nil {
		return hc.Do(req, resp)
	}
	maxAttempts := hc.MaxIdemponentCallAttempts
	if maxAttempts <= 0 {
		maxAttempts = fasthttp.DefaultMaxIdemponentCallAttempts
	}
	streamed := req.IsBodyStream()
	for attempts := 0; ; {
		skip, stream := resp.SkipBody, resp.StreamBody
		resp.Reset()
		resp.SkipBody, resp.StreamBody = skip, stream
		retry, err := t.RoundTrip(hc, req, resp)
		if err == nil || !retry || streamed {
			return closedErr(err)
		}
		if attempts++; attempts >= maxAttempts {
			return closedErr(err)
		}
		if _, again := hc.RetryIfErr(req, attempts, err); !again {
			return closedErr(err)
		}
	}
}

// closedErr is err as HostClient.Do reports it.
func closedErr(err error) error {
	if err == io.EOF {
		return fasthttp.ErrConnectionClosed
	}
	return err
}
