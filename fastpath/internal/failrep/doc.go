// Package failrep decides when the failures of a background writer (the
// access log's file writes, the trace exporter's batches) are said: a
// failure after a success at once, one that goes on at most once per
// Interval, and the first success after with what was lost meanwhile,
// so that a disk that fills or a collector that goes down shows in
// Sluice's log without a line per failure. The caller's goroutine owns a
// Reporter (no locking). It imports nothing from Sluice.
package failrep
