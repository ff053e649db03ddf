package accumulator

import (
	"runtime"
	"sync/atomic"
	"testing"
)

// TestSealYieldsToSenderOnOneP checks that with GOMAXPROCS=1 the goroutine woken for a
// sealed batch runs before the Append that sealed it returns: on one P it would otherwise
// wait until the appending goroutine blocks, which a caller sending in a loop does only
// when buffer.memory is spent (yieldToSender). The scheduler takes a yielded goroutine
// back from its global queue ahead of the woken one on one pass in 61, so the test asks
// for most seals, not all; without the yield none would let the sender run.
func TestSealYieldsToSenderOnOneP(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	wake := make(chan struct{}, 1)
	var ran atomic.Int32 // wakes the stand-in sender got to run for
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-wake:
				ran.Add(1)
			case <-stop:
				return
			}
		}
	}()
	defer func() { close(stop); <-done }()
	a := New(Config{BatchSize: 1024, BufferMemory: 1 << 20, Wake: func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}})
	tp := a.Topic("t")
	p := tp.Partition(0)
	const seals = 50
	ranAtSeal := 0
	for p.Len() < seals+1 { // an append that opens a batch behind another sealed that one
		before, n := ran.Load(), p.Len()
		appendN(t, a, tp, 0, 1, 100)
		if p.Len() > n && n > 0 && ran.Load() != before {
			ranAtSeal++
		}
	}
	if ranAtSeal < seals/2 {
		t.Fatalf("the woken sender ran before the sealing Append returned for %d of %d seals, want most", ranAtSeal, seals)
	}
}
