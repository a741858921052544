// Package balance holds lock-free load-balancing policies.
//
// WRR is smooth weighted round robin (nginx's algorithm): its schedule is
// computed once when it is built, and Next walks it with one atomic
// increment, so concurrent callers never take a lock and the sequence they
// see together is exactly the smooth WRR sequence. A WRR is immutable after
// New and safe for concurrent use; it must not be copied.
package balance
