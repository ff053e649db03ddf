package sender

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/kprod-io/kprod/internal/accumulator"
	"github.com/kprod-io/kprod/internal/config"
)

func TestBackoffGrowsWithJitterUpToMax(t *testing.T) {
	s, err := New(Config{Settings: config.Settings{RetryBackoff: 100 * time.Millisecond, RetryBackoffMax: time.Second},
		Acc: accumulator.New(accumulator.Config{BatchSize: 1024, BufferMemory: 1 << 20}), Pool: testPool(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(errors.New("test over"))
	for attempt, base := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond,
		3: 400 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 30: time.Second} {
		lo, hi := time.Duration(float64(base)*0.8), min(time.Duration(float64(base)*1.2), time.Second)
		seen := map[time.Duration]bool{}
		for range 200 {
			d := s.backoff(attempt)
			if d < lo || d > hi {
				t.Fatalf("attempt %d: backoff %v outside [%v, %v] (KIP-580: doubling, +-20%%)", attempt, d, lo, hi)
			}
			seen[d] = true
		}
		if len(seen) < 10 && base < time.Second {
			t.Fatalf("attempt %d: only %d distinct backoffs in 200 draws: no jitter", attempt, len(seen))
		}
	}
}

func TestSeqAfterWraps(t *testing.T) {
	cases := []struct {
		a, b int32
		want bool
	}{
		{5, 3, true}, {3, 5, false}, {3, 3, false},
		{0, math.MaxInt32, true},  // wrapped: 0 follows MaxInt32
		{math.MaxInt32, 0, false}, // and not the other way round
		{10, math.MaxInt32 - 10, true},
	}
	for _, c := range cases {
		if got := seqAfter(c.a, c.b); got != c.want {
			t.Errorf("seqAfter(%d, %d) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
