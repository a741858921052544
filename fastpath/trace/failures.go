package trace

import "time"

// An export that fails loses its batch (counted) and is reported through
// Config.OnExportError: a failure after a success at once, then at most once per
// ErrorReportInterval while failures go on, and once more when an export
// succeeds again, so that a collector that is down or refuses the
// exporter's credentials shows in Sluice's log without a line per batch.

// ErrorReportInterval is the least time between two reports of failing
// exports.
const ErrorReportInterval = 10 * time.Second

// failures is the exporter's bookkeeping of failed exports not yet
// reported (its goroutine only).
type failures struct {
	lost     uint64    // traces lost since the last report
	failing  bool      // the last export failed
	reported time.Time // when a failure was last reported
}

// outcome notes an export of n traces that ended with err, reporting to
// report (nil: nobody listens) as the contract above says.
func (f *failures) outcome(err error, n int, report func(error, uint64)) {
	switch {
	case err == nil && !f.failing:
		return
	case err == nil:
		f.failing = false
	default:
		f.lost += uint64(n)
		if f.failing && time.Since(f.reported) < ErrorReportInterval {
			return // a failure that goes on: reported at most once per interval
		}
		f.failing = true // a new failure is reported at once
	}
	if report != nil {
		report(err, f.lost)
	}
	f.lost, f.reported = 0, time.Now()
}
