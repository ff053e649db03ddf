// Package clock is a coarse millisecond wall clock for record timestamps.
//
// time.Now costs ~50 ns (two clock reads); a producer sending millions of records a second
// would spend a sizeable share of its CPU there (performance.md: "no per-record
// time.Now"). Record timestamps are milliseconds anyway, so one goroutine refreshes an
// atomic every millisecond while records are being sent, and parks after a second without
// use so an idle producer costs nothing.
package clock

import (
	"sync"
	"sync/atomic"
	"time"
)

// idleTicks is how many unused ticks park the clock.
const idleTicks = 1000

// Coarse is the clock. The zero value is not usable: call New; Stop ends it.
type Coarse struct {
	ms   atomic.Int64 // current Unix milliseconds; 0 while parked
	used atomic.Bool  // read since the last tick
	wake chan struct{}
	stop chan struct{}
	wg   sync.WaitGroup
}

// New starts a clock; Stop stops it.
func New() *Coarse {
	c := &Coarse{wake: make(chan struct{}, 1), stop: make(chan struct{})}
	c.wg.Add(1)
	go c.run()
	return c
}

// NowMilli returns the current time in Unix milliseconds, accurate to about a
// millisecond.
func (c *Coarse) NowMilli() int64 {
	if v := c.ms.Load(); v != 0 {
		if !c.used.Load() {
			c.used.Store(true)
		}
		return v
	}
	select { // parked: wake it, and read the real clock this once
	case c.wake <- struct{}{}:
	default:
	}
	return time.Now().UnixMilli()
}

// Stop ends the clock's goroutine and waits for it.
func (c *Coarse) Stop() {
	close(c.stop)
	c.wg.Wait()
}

func (c *Coarse) run() {
	defer c.wg.Done()
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	idle := 0
	for {
		c.ms.Store(time.Now().UnixMilli())
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		if c.used.Swap(false) {
			idle = 0
			continue
		}
		if idle++; idle < idleTicks {
			continue
		}
		c.ms.Store(0)
		t.Stop()
		select {
		case <-c.stop:
			return
		case <-c.wake:
		}
		idle = 0
		t.Reset(time.Millisecond)
	}
}
