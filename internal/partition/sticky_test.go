package partition

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// sequentialRand returns 0, 1, 2, ...: the mock Java's BuiltInPartitionerTest
// uses, which makes the draws fully predictable.
func sequentialRand() Rand {
	var mu sync.Mutex
	var n uint32
	return func() uint32 {
		mu.Lock()
		defer mu.Unlock()
		n++
		return n - 1
	}
}

// seededRand is a deterministic, goroutine-safe source for statistical tests.
func seededRand(seed uint64) Rand {
	var mu sync.Mutex
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return func() uint32 {
		mu.Lock()
		defer mu.Unlock()
		return r.Uint32()
	}
}

// appendRecord runs the accumulator's protocol for one record without
// contention: peek, check, append, count.
func appendRecord(s *Sticky, parts Partitions, bytes int, enableSwitch bool) int32 {
	sp := s.Peek(parts)
	s.OnAppend(sp, bytes, enableSwitch, parts)
	return sp.Partition()
}

// Port of BuiltInPartitionerTest.testStickyPartitioning.
func TestStickySwitchesAfterBatchSize(t *testing.T) {
	parts := partitionsWithout(3)
	s := NewSticky(3, sequentialRand())
	first := appendRecord(s, parts, 1, true)
	for i := 0; i < 2; i++ {
		if p := appendRecord(s, parts, 1, true); p != first {
			t.Fatalf("record %d went to %d before batch size, want %d", i+2, p, first)
		}
	}
	if p := s.Peek(parts).Partition(); p == first {
		t.Fatalf("still on %d after 3 bytes with batch size 3", p)
	}

	// One partition: switching is a no-op, never a failure.
	one := NewSticky(1, sequentialRand())
	for i := 0; i < 10; i++ {
		if p := appendRecord(one, partitionsWithout(1), 1, true); p != 0 {
			t.Fatalf("single-partition topic chose %d", p)
		}
	}
}

// The switch happens on exactly the append whose bytes reach batch.size (Java
// compares produced >= batch.size after adding): with 100-byte records and
// batch.size 1000 every stint holds 10 records; with 300-byte records it
// holds 4 (1200 >= 1000), never 3 (900).
func TestStickySwitchPoint(t *testing.T) {
	tests := []struct {
		name        string
		batchSize   int
		recordBytes int
		perStint    int
	}{
		{"exact multiple", 1000, 100, 10},
		{"crossing", 1000, 300, 4},
		{"record larger than batch", 1000, 5000, 1},
		{"batch.size 0 means 1", 0, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Sequential draws over 4 partitions alternate 0,1,2,3: every
			// switch is visible.
			parts := partitionsWithout(4)
			s := NewSticky(tt.batchSize, sequentialRand())
			prev, run := appendRecord(s, parts, tt.recordBytes, true), 1
			for i := 0; i < 10*tt.perStint; i++ {
				p := appendRecord(s, parts, tt.recordBytes, true)
				if p == prev {
					run++
					continue
				}
				if run != tt.perStint {
					t.Fatalf("stint of %d records on %d, want %d", run, prev, tt.perStint)
				}
				prev, run = p, 1
			}
		})
	}
}

// With enableSwitch=false (the partition's last batch is not full) the switch
// waits, but never past 2 x batch.size; a later zero-byte OnAppend with
// enableSwitch=true completes a deferred switch (the accumulator's
// partitionChanged when it finds all batches full).
func TestStickyDeferredSwitch(t *testing.T) {
	parts := partitionsWithout(4)

	s := NewSticky(1000, sequentialRand())
	sp := s.Peek(parts)
	s.OnAppend(sp, 1500, false, parts)
	if s.Changed(sp) {
		t.Fatal("switched at 1500 bytes although switching was disabled")
	}
	s.OnAppend(sp, 499, false, parts)
	if s.Changed(sp) {
		t.Fatal("switched at 1999 bytes although switching was disabled")
	}
	s.OnAppend(sp, 1, false, parts)
	if !s.Changed(sp) {
		t.Fatal("no switch at 2 x batch.size")
	}

	s = NewSticky(1000, sequentialRand())
	sp = s.Peek(parts)
	s.OnAppend(sp, 1200, false, parts)
	s.OnAppend(sp, 0, true, parts)
	if !s.Changed(sp) {
		t.Fatal("deferred switch not completed by OnAppend(0, true)")
	}
}

func TestStickyChangedAndNilToken(t *testing.T) {
	parts := partitionsWithout(2)
	s := NewSticky(10, sequentialRand())
	if s.Changed(nil) {
		t.Error("nil token reported as changed")
	}
	s.OnAppend(nil, 100, true, parts) // keyed or explicit partition: ignored
	sp := s.Peek(parts)
	if s.Changed(sp) {
		t.Error("fresh token reported as changed")
	}
	if again := s.Peek(parts); again != sp {
		t.Error("Peek returned a different token without a switch")
	}
	s.OnAppend(sp, 10, true, parts)
	if !s.Changed(sp) {
		t.Error("old token not reported as changed after the switch")
	}
	// A stale token must neither count nor switch the new stint.
	cur := s.Peek(parts)
	s.OnAppend(sp, 1000, true, parts)
	if s.Changed(cur) || cur.produced != 0 {
		t.Error("stale token affected the current stint")
	}
}

// A topic whose metadata lists no partitions yields UnknownPartition, stores
// nothing and never panics; real metadata later works.
func TestStickyNoPartitions(t *testing.T) {
	s := NewSticky(10, sequentialRand())
	sp := s.Peek(Partitions{})
	if sp.Partition() != UnknownPartition {
		t.Fatalf("partition %d for a topic without partitions", sp.Partition())
	}
	s.OnAppend(sp, 100, true, Partitions{})
	if got := s.Peek(partitionsWithout(3)).Partition(); got < 0 || got > 2 {
		t.Fatalf("partition %d after metadata arrived", got)
	}
	var none *StickyPartition
	if none.Partition() != UnknownPartition {
		t.Fatal("nil token has a partition")
	}
}

// Port of BuiltInPartitionerTest.unavailablePartitionsTest: partitions
// without a leader are never chosen; with no leader anywhere, all are
// candidates.
func TestStickyOnlyPartitionsWithLeader(t *testing.T) {
	tests := []struct {
		name       string
		parts      Partitions
		allowed    map[int32]bool
		wantOthers bool
	}{
		{"one leaderless", partitionsWithout(3, 1), map[int32]bool{0: true, 2: true}, true},
		{"one with leader", partitionsWithout(2, 0), map[int32]bool{1: true}, false},
		{"none with leader", partitionsWithout(1, 0), map[int32]bool{0: true}, false},
		{"none of many", partitionsWithout(3, 0, 1, 2), map[int32]bool{0: true, 1: true, 2: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSticky(1, seededRand(7))
			seen := map[int32]bool{}
			for i := 0; i < 200; i++ {
				p := appendRecord(s, tt.parts, 1, true)
				if !tt.allowed[p] {
					t.Fatalf("chose partition %d", p)
				}
				seen[p] = true
			}
			if tt.wantOthers && len(seen) < 2 {
				t.Fatalf("only chose %v", seen)
			}
		})
	}
}

// Keyless records spread uniformly: 60 000 stints over 6 partitions with a
// fixed seed land within 3% of 10 000 each.
func TestStickyUniformDistribution(t *testing.T) {
	const n, stints = 6, 60000
	parts := partitionsWithout(n)
	s := NewSticky(100, seededRand(42))
	counts := make([]int, n)
	for i := 0; i < stints*4; i++ {
		counts[appendRecord(s, parts, 25, true)]++
	}
	for p, c := range counts {
		stintsHere := c / 4
		if math.Abs(float64(stintsHere)-stints/n) > 0.03*stints/n {
			t.Errorf("partition %d got %d stints, want about %d", p, stintsHere, stints/n)
		}
	}
}

func TestStickyZeroValueIsSafe(t *testing.T) {
	var s Sticky
	parts := partitionsWithout(3)
	for i := 0; i < 10; i++ {
		if p := appendRecord(&s, parts, 0, true); p < 0 || p > 2 {
			t.Fatalf("partition %d", p)
		}
	}
}
