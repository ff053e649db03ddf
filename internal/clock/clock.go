// Package clock gives Send the record timestamp Java's producer takes when a record
// has none (System.currentTimeMillis at send), for half the cost of time.Now.
//
// time.Now reads two clocks (wall and monotonic, two vDSO calls, ~50 ns here, a fifth
// of Send's CPU at 100-byte records). WallMillis reads only the monotonic one and adds
// it to a wall-clock anchor taken with time.Now at most every RebaseEvery, so a step
// of the system clock (NTP, an operator) shows within that interval and the slewing
// error between two rebases stays under a microsecond. A coarse clock refreshed by a
// ticker goroutine was tried before and dropped: with one P and a busy sender, the
// ticker did not run for tens of milliseconds and timestamps went stale.
package clock

import (
	"sync/atomic"
	"time"
	_ "unsafe" // go:linkname
)

// nanotime is the runtime's monotonic clock, the one time.Now reads for its
// monotonic part. The runtime keeps this linkname for outside packages.
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64

// RebaseEvery bounds how long a wall-clock step goes unnoticed.
const RebaseEvery = 100 * time.Millisecond

type anchor struct {
	mono int64 // nanotime at the anchor
	wall int64 // Unix nanoseconds at the anchor
}

var current atomic.Pointer[anchor]

func rebase(mono int64) *anchor {
	// The wall reading is taken between two monotonic ones and paired with their
	// midpoint, so the anchor's error is half the (tiny) gap, not a whole call.
	m0 := nanotime()
	w := time.Now().UnixNano()
	m1 := nanotime()
	a := &anchor{mono: m0 + (m1-m0)/2, wall: w}
	current.Store(a)
	return a
}

// WallMillis returns the wall clock in Unix milliseconds.
func WallMillis() int64 {
	m := nanotime()
	a := current.Load()
	if a == nil || m-a.mono >= int64(RebaseEvery) || m < a.mono {
		a = rebase(m)
	}
	return (a.wall + (m - a.mono)) / int64(time.Millisecond)
}
