package route

import "github.com/sluiceproxy/sluice/fastpath/match"

// Request is the matcher view of a request.
type Request = match.Request
