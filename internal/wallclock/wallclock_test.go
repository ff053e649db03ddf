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

// TestSlowMicrosAgrees keeps the fallback honest where it is not the default.
func TestSlowMicrosAgrees(t *testing.T) {
	before := time.Now().UnixMilli()
	got := slowMicros() / 1000
	if after := time.Now().UnixMilli(); got < before || got > after {
		t.Fatalf("slowMicros %d outside [%d, %d]", got, before, after)
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

// TestNowMicrosBetweenTimeNows: the send time a record's delivery timing counts from lies
// between time.Now readings taken around it, at microsecond granularity.
func TestNowMicrosBetweenTimeNows(t *testing.T) {
	for i := range 200_000 {
		before := time.Now().UnixMicro()
		got := NowMicros()
		after := time.Now().UnixMicro()
		if got < before || got > after {
			t.Fatalf("reading %d: NowMicros %d outside [%d, %d]", i, got, before, after)
		}
	}
}
