// Package wallclock reads the wall clock for Send: one reading per record gives both the
// record's timestamp in milliseconds (what Java's send takes from
// System.currentTimeMillis for every record without one) and, in microseconds, the
// record's send time that its delivery timing (kprod.Timing) counts from.
//
// On linux/amd64 it is one vDSO gettimeofday (syscall.Gettimeofday calls the vDSO
// directly there), about half of time.Now, which reads CLOCK_REALTIME and then
// CLOCK_MONOTONIC. Both read the same kernel clock, so the milliseconds are the same as
// time.Now's: never before a time.Now taken earlier, never after one taken later. Cheaper
// clocks that disagree with time.Now (a ticker, a monotonic reading against a wall
// anchor) were tried and dropped: timestamps came out 1 ms before the caller's own
// time.Now.
//
// The standard library makes that call on the goroutine's stack, where the runtime's own
// clock reads switch to the system stack first. A kernel's vDSO code normally needs far
// less stack than a Go function is guaranteed; for one that does not, building with the
// tag kprod_timenow uses time.Now everywhere.
package wallclock

import "time"

// NowMillis returns the wall clock in milliseconds since the Unix epoch: NowMicros
// truncated, so a record's timestamp and its send time come from one reading.
func NowMillis() int64 { return NowMicros() / 1000 }

// slowMicros is time.Now in microseconds, the clock where no cheaper read is known.
func slowMicros() int64 { return time.Now().UnixMicro() }
