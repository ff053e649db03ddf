package wallclock

import (
	"sync"
	"testing"
	"time"
)

// TestNowMillisBetweenTimeNows checks the property record timestamps need: a reading is
// never before a time.Now taken earlier nor after one taken later, at millisecond
// granularity, also while other goroutines compete for the CPUs (a reading can be
// preempted half way).
func TestNowMillisBetweenTimeNows(t *testing.T) {
	n := 2_000_000
	if testing.Short() {
		n = 200_000
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range n / 4 {
				before := time.Now().UnixMilli()
				got := NowMillis()
				after := time.Now().UnixMilli()
				if got < before || got > after {
					t.Errorf("goroutine %d, reading %d: NowMillis %d outside [%d, %d]", g, i, got, before, after)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestSlowMillisAgrees keeps the fallback honest where it is not the default.
func TestSlowMillisAgrees(t *testing.T) {
	before := time.Now().UnixMilli()
	got := slowMillis()
	if after := time.Now().UnixMilli(); got < before || got > after {
		t.Fatalf("slowMillis %d outside [%d, %d]", got, before, after)
	}
}

func BenchmarkNowMillis(b *testing.B) {
	var sum int64
	for b.Loop() {
		sum += NowMillis()
	}
	_ = sum
}

func BenchmarkTimeNowMillis(b *testing.B) {
	var sum int64
	for b.Loop() {
		sum += time.Now().UnixMilli()
	}
	_ = sum
}
