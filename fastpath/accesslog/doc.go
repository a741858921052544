// Package accesslog writes Traefik's access log: one line per request in
// its common, genericCLF or json format, with its field names and values
// (pkg/middlewares/accesslog of Traefik v3.7), its filters and its
// keep / drop / redact field modes.
//
// Contract: the front end takes a Record from the Logger (pooled, its
// buffers reused: no allocation per request once warm), fills it after
// the answer is made, and hands it back with Submit, which never blocks:
// a line that does not fit in the queue (a slow or full disk) is dropped
// and counted (Dropped). One goroutine formats and writes the lines in
// batches (woken once per batch, not per request; asleep while no
// request comes) through a buffer, flushed when full, when the queue
// runs empty, or FlushDelay after the last flush. A write that fails
// loses the buffered lines, counted as dropped and reported through
// Config.OnWriteError (at most every failrep.Interval), and the next
// lines are tried again. Reopen opens the file anew (SIGUSR1, after
// logrotate moved it).
package accesslog
