//go:build linux && amd64 && !kprod_timenow

package wallclock

import "syscall"

// NowMillis returns the wall clock in milliseconds since the Unix epoch.
func NowMillis() int64 {
	var tv syscall.Timeval
	if syscall.Gettimeofday(&tv) != nil {
		return slowMillis()
	}
	return tv.Sec*1000 + tv.Usec/1000
}
