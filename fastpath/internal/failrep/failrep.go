package failrep

import "time"

// Interval is the least time between two reports of failures that go on.
const Interval = 10 * time.Second

// Reporter is one writer's failures not yet said.
type Reporter struct {
	lost     uint64    // items lost since the last report
	failing  bool      // the last outcome was a failure
	reported time.Time // when a failure was last reported
}

// Outcome notes a write of n items that ended with err (nil: it
// succeeded; n then does not count) and calls report (nil: nobody
// listens) when the rule above says so, with err (nil: writing succeeds
// again) and the items lost since the last call.
func (f *Reporter) Outcome(err error, n uint64, report func(error, uint64)) {
	switch {
	case err == nil && !f.failing:
		return
	case err == nil:
		f.failing = false
	default:
		f.lost += n
		if f.failing && time.Since(f.reported) < Interval {
			return // a failure that goes on
		}
		f.failing = true
	}
	if report != nil {
		report(err, f.lost)
	}
	f.lost, f.reported = 0, time.Now()
}
