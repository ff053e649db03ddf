package partition

import (
	"math"
	"testing"
	"time"
)

// publish feeds queue sizes for partitions 0..len(queue)-1, all with a leader
// and available, as the accumulator's ready pass would.
func publish(s *Sticky, queue ...int) {
	var l LoadStats
	l.Reset(true, len(queue), len(queue))
	for p, q := range queue {
		l.Add(int32(p), q, false)
	}
	s.UpdateLoadStats(&l)
}

// Port of BuiltInPartitionerTest.adaptivePartitionsTest: with sequential
// random numbers every value of the weight range is drawn once per cycle, so
// partition i is chosen exactly (maxQueue+1-queue[i]) times per cycle.
func TestAdaptiveExactFrequencies(t *testing.T) {
	queue := []int{5, 0, 3, 0, 1}
	s := NewSticky(1, sequentialRand())
	publish(s, queue...)
	const cycles = 2
	if got := s.table.rangeEnd(); got != 1+6+3+6+5 {
		t.Fatalf("weight range %d, want 21", got)
	}
	parts := partitionsWithout(int32(len(queue)))
	freq := make([]int, len(queue))
	for i := 0; i < int(s.table.rangeEnd())*cycles; i++ {
		freq[appendRecord(s, parts, 1, true)]++
	}
	for p, q := range queue {
		if want := (6 - q) * cycles; freq[p] != want {
			t.Errorf("partition %d (queue %d) chosen %d times, want %d", p, q, freq[p], want)
		}
	}
}

// When weighting applies, following Java's partitionReady and
// updatePartitionLoadStats.
func TestLoadStatsWhenWeighted(t *testing.T) {
	type add struct {
		partition   int32
		queue       int
		unavailable bool
	}
	tests := []struct {
		name          string
		adaptive      bool
		queues, count int
		adds          []add
		wantRangeEnd  int32
	}{
		{"adaptive off", false, 3, 3, []add{{0, 0, false}, {1, 5, false}, {2, 0, false}}, 0},
		{"not every partition has a queue yet", true, 2, 3, []add{{0, 0, false}, {1, 5, false}}, 0},
		{"all queues equal", true, 3, 3, []add{{0, 2, false}, {1, 2, false}, {2, 2, false}}, 0},
		{"single partition", true, 1, 1, []add{{0, 4, false}}, 0},
		{"every partition excluded", true, 2, 2, []add{{0, 3, true}, {1, 3, true}}, 0},
		{"unequal queues", true, 3, 3, []add{{0, 0, false}, {1, 3, false}, {2, 1, false}}, 4 + 1 + 3},
		// Equal queues but one partition left out: weighting still applies,
		// so the excluded partition is never drawn.
		{"equal with exclusion", true, 3, 3, []add{{0, 2, false}, {1, 2, true}, {2, 2, false}}, 2},
		// Java's array counts leaderless partitions too, so equal queues among
		// the others still produce a table (uniform over them).
		{"equal with leaderless", true, 3, 3, []add{{0, 1, false}, {2, 1, false}}, 2},
		// Java evaluates availability only for non-empty queues.
		{"empty queue stays available", true, 2, 2, []add{{0, 0, true}, {1, 2, false}}, 3 + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSticky(1, sequentialRand())
			publish(s, 0, 9) // a previous table that must be replaced
			var l LoadStats
			l.Reset(tt.adaptive, tt.queues, tt.count)
			for _, a := range tt.adds {
				l.Add(a.partition, a.queue, a.unavailable)
			}
			s.UpdateLoadStats(&l)
			if got := s.table.rangeEnd(); got != tt.wantRangeEnd {
				t.Fatalf("weight range %d, want %d", got, tt.wantRangeEnd)
			}
		})
	}
}

// Statistical check with a fixed seed (deterministic): queues 0 9 0 9 give
// weights 10 1 10 1, so the idle partitions take 10/22 of the stints each
// (within 5%, more than 4 standard deviations).
func TestAdaptivePrefersLessLoadedPartitions(t *testing.T) {
	const stints = 220000
	s := NewSticky(1, seededRand(3))
	publish(s, 0, 9, 0, 9)
	parts := partitionsWithout(4)
	counts := make([]int, 4)
	for i := 0; i < stints; i++ {
		counts[appendRecord(s, parts, 1, true)]++
	}
	for p, weight := range []float64{10, 1, 10, 1} {
		want := stints * weight / 22
		if math.Abs(float64(counts[p])-want) > 0.05*want {
			t.Errorf("partition %d chosen %d times, want about %.0f", p, counts[p], want)
		}
	}
	// Turning adaptive off returns to uniform.
	var l LoadStats
	l.Reset(false, 4, 4)
	s.UpdateLoadStats(&l)
	clear(counts)
	for i := 0; i < stints; i++ {
		counts[appendRecord(s, parts, 1, true)]++
	}
	for p, c := range counts {
		if math.Abs(float64(c)-stints/4) > 0.05*stints/4 {
			t.Errorf("after disabling, partition %d chosen %d times, want about %d", p, c, stints/4)
		}
	}
}

// partitioner.availability.timeout.ms: the broker leading partitions 1 and 3
// has had data ready but no drainable connection for longer than the
// timeout, so those partitions drop out of the draw.
func TestAvailabilityTimeoutExcludesPartitions(t *testing.T) {
	start := time.Unix(1000, 0)
	nl := NewNodeLatency(time.Second, start)
	leader := func(p int32) int32 { return p % 2 } // partitions 1, 3 on node 1
	nl.Update(0, start, true)
	nl.Update(1, start, true)
	now := start.Add(1500 * time.Millisecond)
	nl.Update(0, now, true)
	nl.Update(1, now, false)

	s := NewSticky(1, seededRand(9))
	parts := partitionsWithout(4)
	var l LoadStats
	l.Reset(true, 4, 4)
	for p := int32(0); p < 4; p++ {
		l.Add(p, 3, nl.Unavailable(leader(p)))
	}
	s.UpdateLoadStats(&l)
	for i := 0; i < 1000; i++ {
		if p := appendRecord(s, parts, 1, true); leader(p) == 1 {
			t.Fatalf("chose partition %d of the unavailable broker", p)
		}
	}

	// Once the broker drains again it is back in the draw.
	nl.Update(1, now.Add(time.Millisecond), true)
	l.Reset(true, 4, 4)
	for p := int32(0); p < 4; p++ {
		l.Add(p, int(p), nl.Unavailable(leader(p)))
	}
	s.UpdateLoadStats(&l)
	seen := map[int32]bool{}
	for i := 0; i < 1000; i++ {
		seen[appendRecord(s, parts, 1, true)] = true
	}
	if !seen[1] || !seen[3] {
		t.Fatalf("recovered broker's partitions not chosen: %v", seen)
	}
}

func TestNodeLatency(t *testing.T) {
	start := time.Unix(5000, 0)
	at := func(ms int) time.Time { return start.Add(time.Duration(ms) * time.Millisecond) }
	type step struct {
		ms       int
		canDrain bool
	}
	tests := []struct {
		name    string
		timeout time.Duration
		steps   []step
		want    bool
	}{
		{"disabled", 0, []step{{0, true}, {10000, false}}, false},
		{"unknown node", time.Second, nil, false},
		{"first seen not drainable", time.Second, []step{{0, false}}, false},
		{"waited exactly the timeout", time.Second, []step{{0, true}, {1000, false}}, false},
		{"waited longer", time.Second, []step{{0, true}, {1001, false}}, true},
		{"drained since", time.Second, []step{{0, true}, {5000, false}, {5001, true}}, false},
		// A node's first observation counts as its drain time too.
		{"never drainable, within timeout", time.Second, []step{{0, false}, {800, false}}, false},
		{"never drainable, past timeout", time.Second, []step{{0, false}, {800, false}, {1001, false}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nl := NewNodeLatency(tt.timeout, start)
			for _, s := range tt.steps {
				nl.Update(7, at(s.ms), s.canDrain)
			}
			if got := nl.Unavailable(7); got != tt.want {
				t.Fatalf("Unavailable = %v, want %v", got, tt.want)
			}
		})
	}
}

// Sums that Java would overflow turn weighting off instead of producing a
// table that could divide by zero.
func TestLoadStatsOverflowTurnsWeightingOff(t *testing.T) {
	s := NewSticky(1, sequentialRand())
	queue := make([]int, 40)
	for i := 1; i < len(queue); i += 2 {
		queue[i] = 1 << 28 // idle partitions get weight 2^28+1 each: 20 of them overflow
	}
	publish(s, queue...)
	if got := s.table.rangeEnd(); got != 0 {
		t.Fatalf("weight range %d, want weighting off", got)
	}
	publish(s, -5, 3, math.MaxInt) // nonsense input must not panic
	appendRecord(s, partitionsWithout(3), 1, true)
}

func TestLoadStatsSteadyStateDoesNotAllocate(t *testing.T) {
	s := NewSticky(16384, nil)
	var l LoadStats
	run := func() {
		l.Reset(true, 64, 64)
		for p := int32(0); p < 64; p++ {
			l.Add(p, int(p%5), p == 9)
		}
		s.UpdateLoadStats(&l)
	}
	run()
	if a := testing.AllocsPerRun(100, run); a != 0 {
		t.Fatalf("%v allocations per pass", a)
	}
}

func BenchmarkLoadStatsUpdate(b *testing.B) {
	for _, n := range []int{8, 128} {
		b.Run(map[int]string{8: "8", 128: "128"}[n], func(b *testing.B) {
			s := NewSticky(16384, nil)
			var l LoadStats
			b.ReportAllocs()
			for b.Loop() {
				l.Reset(true, n, n)
				for p := 0; p < n; p++ {
					l.Add(int32(p), p%7, false)
				}
				s.UpdateLoadStats(&l)
			}
		})
	}
}

func BenchmarkNodeLatencyUnavailable(b *testing.B) {
	nl := NewNodeLatency(time.Second, time.Unix(0, 0))
	for n := int32(0); n < 10; n++ {
		nl.Update(n, time.Unix(1, 0), true)
	}
	b.ReportAllocs()
	var sink bool
	for b.Loop() {
		sink = nl.Unavailable(3)
	}
	_ = sink
}
