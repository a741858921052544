package failrep

import (
	"errors"
	"testing"
	"time"
)

// Failing exports are reported at once, then not again within the
// interval, and once more (with what was lost meanwhile) when an export
// succeeds; successes alone report nothing.
func TestFailuresReported(t *testing.T) {
	type rep struct {
		err  error
		lost uint64
	}
	var got []rep
	report := func(err error, lost uint64) { got = append(got, rep{err, lost}) }
	down := errors.New("connection refused")
	var f Reporter
	f.Outcome(nil, 5, report)
	f.Outcome(down, 10, report)
	f.Outcome(down, 7, report)
	f.Outcome(down, 3, report)
	f.Outcome(nil, 4, report)
	f.Outcome(nil, 4, report)
	want := []rep{{down, 10}, {nil, 10}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("reports %+v, want %+v", got, want)
	}
	// a new failure is reported at once; past the interval, a failure
	// that goes on is reported again
	f.Outcome(down, 2, report)
	f.Outcome(down, 1, report)
	f.reported = time.Now().Add(-Interval)
	f.Outcome(down, 6, report)
	if len(got) != 4 || got[2] != (rep{down, 2}) || got[3] != (rep{down, 7}) {
		t.Fatalf("reports %+v, want then {down 2} and {down 7}", got)
	}
}
