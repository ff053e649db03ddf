package partition

import (
	"encoding/hex"
	"testing"
)

// The golden data in golden_data_test.go comes from the real Java client:
// testdata/org/apache/kafka/clients/producer/internals/JavaGolden.java drives
// kafka-clients 4.3.1's Utils.murmur2, BuiltInPartitioner and
// RoundRobinPartitioner and prints what they returned.

type goldenKey struct {
	hexKey  string
	murmur2 int32
	// partitions for 7 and 1000 partitions (BuiltInPartitioner.partitionForKey)
	p7, p1000 int32
}

// goldenOp is one step of a trace: an append through the sticky protocol, or
// a load statistics update.
type goldenOp struct {
	stats    bool
	statsOff bool
	queues   int
	queue    []int32
	ids      []int32

	bytes        int
	enableSwitch bool
	want         int32
}

func app(bytes int, enableSwitch bool, want int32) goldenOp {
	return goldenOp{bytes: bytes, enableSwitch: enableSwitch, want: want}
}

func stats(queues int, queue, ids []int32) goldenOp {
	return goldenOp{stats: true, queues: queues, queue: queue, ids: ids}
}

func statsOff() goldenOp { return goldenOp{stats: true, statsOff: true} }

type goldenTrace struct {
	name       string
	count      int32
	leaderless []int32
	batchSize  int
	ops        []goldenOp
	// random lists the ints Java's randomPartition drew, in order.
	random []int32
}

func TestGoldenKeysMatchJava(t *testing.T) {
	for _, g := range goldenKeys {
		key, err := hex.DecodeString(g.hexKey)
		if err != nil {
			t.Fatal(err)
		}
		if got := Murmur2(key); got != g.murmur2 {
			t.Errorf("Murmur2(%s) = %d, Java %d", g.hexKey, got, g.murmur2)
		}
		if got := KeyPartition(key, 7); got != g.p7 {
			t.Errorf("KeyPartition(%s, 7) = %d, Java %d", g.hexKey, got, g.p7)
		}
		if got := KeyPartition(key, 1000); got != g.p1000 {
			t.Errorf("KeyPartition(%s, 1000) = %d, Java %d", g.hexKey, got, g.p1000)
		}
	}
}

// TestGoldenStickyTracesMatchJava replays, with Java's random numbers, the
// exact sequence of appends and load statistics Java's BuiltInPartitioner saw,
// and requires the same partition for every record and the same number of
// random draws.
func TestGoldenStickyTracesMatchJava(t *testing.T) {
	for _, tr := range goldenTraces {
		t.Run(tr.name, func(t *testing.T) {
			parts := partitionsWithout(tr.count, tr.leaderless...)
			draws := 0
			rnd := func() uint32 {
				if draws >= len(tr.random) {
					t.Fatalf("more random draws than Java's %d", len(tr.random))
				}
				draws++
				return uint32(tr.random[draws-1])
			}
			s := NewSticky(tr.batchSize, rnd)
			var l LoadStats
			for i, op := range tr.ops {
				if op.stats {
					if op.statsOff {
						l.Reset(false, 0, 0)
					} else {
						l.Reset(true, op.queues, int(tr.count))
						for j, id := range op.ids {
							l.Add(id, int(op.queue[j]), false)
						}
					}
					s.UpdateLoadStats(&l)
					continue
				}
				sp := s.Peek(parts)
				if got := sp.Partition(); got != op.want {
					t.Fatalf("op %d: partition %d, Java %d", i, got, op.want)
				}
				s.OnAppend(sp, op.bytes, op.enableSwitch, parts)
			}
			if draws != len(tr.random) {
				t.Fatalf("%d random draws, Java %d", draws, len(tr.random))
			}
		})
	}
}

func TestGoldenRoundRobinMatchesJava(t *testing.T) {
	var rr RoundRobin
	parts := partitionsWithout(5, 3)
	for i, want := range goldenRoundRobin {
		if got := rr.Partition("rr", parts); got != want {
			t.Fatalf("call %d: %d, Java %d", i, got, want)
		}
	}
}

// partitionsWithout returns a view of count partitions where the listed ones
// have no leader.
func partitionsWithout(count int32, leaderless ...int32) Partitions {
	p := Partitions{Count: count}
next:
	for id := int32(0); id < count; id++ {
		for _, l := range leaderless {
			if l == id {
				continue next
			}
		}
		p.Available = append(p.Available, id)
	}
	return p
}
