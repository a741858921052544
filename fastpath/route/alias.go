package route

import (
	"github.com/sluiceproxy/sluice/fastpath/balance"
	"github.com/sluiceproxy/sluice/fastpath/match"
)

// Request is the matcher view of a request.
type Request = match.Request

func newWRR(w []int) *balance.WRR { return balance.New(w) }
