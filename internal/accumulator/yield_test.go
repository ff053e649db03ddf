package accumulator

import (
	"runtime"
	"sync/atomic"
	"testing"
)

// TestSealYieldsToSenderOnOneP checks that with GOMAXPROCS=1 the goroutine woken for a
// sealed batch runs before the Append that sealed it returns: on one P it would otherwise
// wait until the appending goroutine blocks, which a caller sending in a loop does only
// when buffer.memory is spent (yieldToSender). The appends that do not seal a batch do
// not yield.
func TestSealYieldsToSenderOnOneP(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	wake := make(chan struct{}, 1)
	var ran atomic.Int32 // passes of the stand-in sender
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // the sender: counts each wake it gets to run for
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
	appendN(t, a, tp, 0, 1, 100) // opens the first batch: a wake without a yield
	for p.Len() < 2 {
		before := ran.Load()
		appendN(t, a, tp, 0, 1, 100)
		if p.Len() == 2 && ran.Load() == before {
			t.Fatal("the append that sealed a batch returned before the woken sender ran")
		}
	}
}
