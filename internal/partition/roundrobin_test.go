package partition

import (
	"math"
	"sync"
	"sync/atomic"
	"testing"
)

func TestRoundRobinOrder(t *testing.T) {
	tests := []struct {
		name  string
		parts Partitions
		want  []int32
	}{
		{"all available", partitionsWithout(3), []int32{0, 1, 2, 0, 1, 2, 0}},
		{"skips leaderless", partitionsWithout(4, 1), []int32{0, 2, 3, 0, 2, 3}},
		// Even counts were the ones KAFKA-16283 halved in Java 3.x.
		{"even count", partitionsWithout(4), []int32{0, 1, 2, 3, 0, 1, 2, 3}},
		{"none available: all", partitionsWithout(2, 0, 1), []int32{0, 1, 0, 1}},
		{"no partitions", Partitions{}, []int32{UnknownPartition, UnknownPartition}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rr RoundRobin
			for i, want := range tt.want {
				if got := rr.Partition("t", tt.parts); got != want {
					t.Fatalf("call %d: %d, want %d", i, got, want)
				}
			}
		})
	}
}

func TestRoundRobinCountersPerTopic(t *testing.T) {
	var rr RoundRobin
	parts := partitionsWithout(3)
	rr.Partition("a", parts)
	rr.Partition("a", parts)
	if got := rr.Partition("b", parts); got != 0 {
		t.Fatalf("topic b started at %d, want its own counter at 0", got)
	}
	if got := rr.Partition("a", parts); got != 2 {
		t.Fatalf("topic a continued at %d, want 2", got)
	}
}

// Java's AtomicInteger wraps from MaxInt32 to MinInt32 and toPositive maps
// that to 0, so the sequence jumps there; so must ours.
func TestRoundRobinWrapAroundLikeJava(t *testing.T) {
	var rr RoundRobin
	parts := partitionsWithout(3)
	rr.counters.loadOrStore("t", func() *atomic.Int32 { return new(atomic.Int32) }).Store(math.MaxInt32 - 1)
	// MaxInt32-1 = 2147483646 -> %3 = 0; MaxInt32 -> 1; MinInt32 -> toPositive 0 -> 0; MinInt32+1 -> 1.
	for i, want := range []int32{0, 1, 0, 1, 2} {
		if got := rr.Partition("t", parts); got != want {
			t.Fatalf("call %d: %d, want %d", i, got, want)
		}
	}
}

// Concurrent callers share the counter: every value 0..N-1 is handed out
// exactly once, so each partition receives exactly N/partitions records.
func TestRoundRobinConcurrentExactShares(t *testing.T) {
	const goroutines, each, n = 8, 3000, 6
	var rr RoundRobin
	parts := partitionsWithout(n)
	var mu sync.Mutex
	counts := make([]int, n)
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]int, n)
			for i := 0; i < each; i++ {
				local[rr.Partition("t", parts)]++
			}
			mu.Lock()
			for p, c := range local {
				counts[p] += c
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	for p, c := range counts {
		if c != goroutines*each/n {
			t.Errorf("partition %d got %d, want %d", p, c, goroutines*each/n)
		}
	}
}

func BenchmarkRoundRobin(b *testing.B) {
	var rr RoundRobin
	parts := partitionsWithout(12)
	b.ReportAllocs()
	for b.Loop() {
		sinkPartition = rr.Partition("orders", parts)
	}
}
