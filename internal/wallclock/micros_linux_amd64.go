//go:build linux && amd64 && !kprod_timenow

package wallclock

import "syscall"

// NowMicros returns the wall clock in microseconds since the Unix epoch.
func NowMicros() int64 {
	var tv syscall.Timeval
	if syscall.Gettimeofday(&tv) != nil {
		return slowMicros()
	}
	return tv.Sec*1_000_000 + tv.Usec
}
