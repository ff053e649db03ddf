package partition

import (
	"math/rand/v2"
	"sync/atomic"
)

// Rand returns a uniformly distributed 32-bit value. It stands in for Java's
// ThreadLocalRandom.nextInt in the sticky partitioner; tests inject a seeded or
// scripted source. A Rand shared by goroutines must be safe for concurrent use;
// it is only called when the sticky partition switches, so a mutex around a
// seeded source costs nothing measurable.
type Rand func() uint32

// Sticky is the uniform sticky partitioner of KIP-794 for one topic: Java's
// BuiltInPartitioner. Records without a key (or all records when
// partitioner.ignore.keys=true) go to one partition until at least batch.size
// bytes were appended there, then a new partition is drawn: uniformly among
// partitions with a known leader, or, when the sender has published load
// statistics (adaptive partitioning, see LoadStats), with a probability that
// falls as the partition's queue of unsent batches grows.
//
// The accumulator drives it with the same protocol as Java's RecordAccumulator:
//
//  1. sp := s.Peek(parts) outside any lock; sp.Partition() names the partition
//     whose batch queue to lock (UnknownPartition: no partitions, do not append).
//  2. Lock that partition's queue.
//  3. If s.Changed(sp), another goroutine switched partitions meanwhile:
//     unlock and start again at 1.
//  4. Append the record.
//  5. s.OnAppend(sp, appendedBytes, enableSwitch, parts), still under the lock.
//
// Steps 3-5 under the queue lock are what make the switch happen at exactly
// the append that crosses batch.size: no record lands on the old partition
// after the switch, and concurrent appenders count bytes against the sticky
// stint they actually joined.
//
// The common case (same partition, no switch) is two atomic loads and no
// allocation; a switch allocates one small StickyPartition (once per
// batch.size bytes, as Java does). All methods are safe for concurrent use.
// Create it with NewSticky; the zero value behaves as batch.size 1.
type Sticky struct {
	// current is the partition being stuck to, nil until the first Peek.
	// Replaced as a whole on every switch so that a stale holder of the old
	// value notices (Changed) instead of counting into the new stint.
	current atomic.Pointer[StickyPartition]
	// batchSize is Java's stickyBatchSize: batch.size, at least 1.
	batchSize int64
	rand      Rand
	// table is the adaptive weighting published by the sender; empty when
	// adaptive partitioning is off or has nothing to weigh.
	table loadTable
}

// StickyPartition is one stint of the sticky partitioner on a partition:
// Java's BuiltInPartitioner.StickyPartitionInfo. It is a token returned by
// Sticky.Peek and handed back to Changed and OnAppend.
type StickyPartition struct {
	partition int32
	// produced counts the bytes appended during this stint. Guarded by the lock
	// of the stint's partition queue, which every OnAppend holds: a plain add
	// rather than an atomic one, which was a locked instruction per record.
	produced int64
}

// Partition returns the partition of this stint, or UnknownPartition when the
// topic had no partitions to choose from.
func (sp *StickyPartition) Partition() int32 {
	if sp == nil {
		return UnknownPartition
	}
	return sp.partition
}

// NewSticky returns the sticky partitioner state for one topic. batchSize is
// batch.size; like Java's KafkaProducer it is raised to 1 when smaller,
// because batch.size=0 means "no batching", i.e. switch after every record.
// rnd is the random source; nil means math/rand/v2's goroutine-safe
// generator.
func NewSticky(batchSize int, rnd Rand) *Sticky {
	if batchSize < 1 {
		batchSize = 1
	}
	if rnd == nil {
		rnd = rand.Uint32
	}
	return &Sticky{batchSize: int64(batchSize), rand: rnd}
}

// Peek returns the current sticky partition, choosing the first one on the
// first call (Java's peekCurrentPartitionInfo). When parts has no partitions
// at all it returns a token whose Partition is UnknownPartition and records
// nothing, so a later call with real metadata chooses afresh.
func (s *Sticky) Peek(parts Partitions) *StickyPartition {
	if sp := s.current.Load(); sp != nil {
		return sp
	}
	next := s.nextPartition(parts)
	sp := &StickyPartition{partition: next}
	if next == UnknownPartition {
		return sp
	}
	if s.current.CompareAndSwap(nil, sp) {
		return sp
	}
	// Another goroutine chose first; everyone sticks to its choice.
	return s.current.Load()
}

// Changed reports whether sp is no longer the current sticky partition, i.e.
// a concurrent append switched partitions between Peek and taking the queue
// lock. Call it under the partition's queue lock; on true, retry from Peek.
// A nil sp (the record did not use the sticky partitioner) never changes.
func (s *Sticky) Changed(sp *StickyPartition) bool {
	return sp != nil && s.current.Load() != sp
}

// OnAppend counts appendedBytes against the stint sp and switches to a new
// partition once the stint reached batch.size bytes (Java's
// updatePartitionInfo). Call it under the partition's queue lock, right after
// the append.
//
// enableSwitch is false when the partition's last batch is not yet full:
// KIP-794 then defers the switch so that a stint ends on a batch boundary
// instead of leaving a small tail batch behind (with linger.ms=500 and 12 KB
// produced per linger, switching at exactly 16 KB would yield alternating 12 KB
// and 4 KB batches). The deferral is capped: at 2 x batch.size bytes the
// switch happens regardless.
//
// A nil sp (explicit or keyed partition) is ignored. sp must be current
// (Changed(sp) false under the same lock): the stint's byte count is a plain
// field that the queue lock guards.
func (s *Sticky) OnAppend(sp *StickyPartition, appendedBytes int, enableSwitch bool, parts Partitions) {
	if sp == nil || sp.partition == UnknownPartition {
		return
	}
	sp.produced += int64(appendedBytes)
	produced := sp.produced
	// max keeps a zero Sticky usable. Java computes these in int; int64
	// keeps batch.size near 2^31 sane where Java would overflow and switch
	// on every append.
	batchSize := max(s.batchSize, 1)
	if (produced >= batchSize && enableSwitch) || produced >= 2*batchSize {
		next := s.nextPartition(parts)
		if next == UnknownPartition {
			return
		}
		// CompareAndSwap rather than Java's plain set: under the documented
		// protocol sp is current, and if a caller breaks it we still never
		// overwrite a stint someone else already started.
		s.current.CompareAndSwap(sp, &StickyPartition{partition: next})
	}
}

// Skip ends the stint sp at once and draws the next partition: sp's partition holds
// kprod's buffer.memory.partition.max, so unkeyed records go elsewhere rather than wait
// for it, as they leave a partition whose batch is full. Unlike OnAppend it needs no
// queue lock: it only swaps the current stint, and only if sp still is it.
func (s *Sticky) Skip(sp *StickyPartition, parts Partitions) {
	if sp == nil || sp.partition == UnknownPartition {
		return
	}
	if next := s.nextPartition(parts); next != UnknownPartition {
		s.current.CompareAndSwap(sp, &StickyPartition{partition: next})
	}
}

// SkipTo ends the stint sp at once for one on partition p, which the caller chose with
// room to spare after Skip kept drawing full partitions. Like Skip it needs no queue
// lock, and acts only if sp still is the current stint.
func (s *Sticky) SkipTo(sp *StickyPartition, p int32) {
	if sp == nil || sp.partition == UnknownPartition || p == UnknownPartition {
		return
	}
	s.current.CompareAndSwap(sp, &StickyPartition{partition: p})
}

// Drawable appends to buf the partitions a draw may land on: those of the published load
// table when adaptive partitioning weighs them (it leaves out partitions whose leader is
// past partitioner.availability.timeout.ms, KIP-794), else those with a leader, else all.
// For the rare move of a record off a full partition (accumulator/room.go), which must
// not steer records where the partitioner would not.
func (s *Sticky) Drawable(buf []int32, parts Partitions) []int32 {
	if out, ok := s.table.appendIDs(buf); ok {
		return out
	}
	if len(parts.Available) > 0 {
		return append(buf, parts.Available...)
	}
	for id := range parts.Count {
		buf = append(buf, id)
	}
	return buf
}

// nextPartition draws the partition of the next stint (Java's
// BuiltInPartitioner.nextPartition). One random number feeds either the
// weighted draw over the load table or the uniform draw over partitions with a
// leader, falling back to all partitions when none has a leader.
func (s *Sticky) nextPartition(parts Partitions) int32 {
	next := s.rand
	if next == nil {
		next = rand.Uint32
	}
	random := ToPositive(int32(next()))
	if p, ok := s.table.pick(random); ok {
		return p
	}
	if n := int32(len(parts.Available)); n > 0 {
		return parts.Available[random%n]
	}
	if parts.Count > 0 {
		return random % parts.Count
	}
	return UnknownPartition
}
