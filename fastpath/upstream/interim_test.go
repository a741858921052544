package upstream

import (
	"testing"

	"github.com/valyala/fasthttp"
)

type countInterim struct{ n int }

func (c *countInterim) Interim(int, *fasthttp.ResponseHeader) { c.n++ }

// TestSetInterimZeroAlloc: the HTTP/2 front end sets an Interim on every
// request it forwards and the request's reset clears it; once a pooled
// request has held one, neither allocates.
func TestSetInterimZeroAlloc(t *testing.T) {
	var req fasthttp.Request
	i := &countInterim{}
	SetInterim(&req, i)
	req.Reset()
	if n := testing.AllocsPerRun(1000, func() {
		SetInterim(&req, i)
		req.Reset()
	}); n != 0 {
		t.Fatalf("%v allocations per request", n)
	}
	SetInterim(&req, i)
	if got, ok := req.UserValue(interimKey).(Interim); !ok || got != Interim(i) {
		t.Fatal("the Interim is not the request's")
	}
	req.Reset()
	if req.UserValue(interimKey) != nil {
		t.Fatal("the reset kept the Interim")
	}
}
