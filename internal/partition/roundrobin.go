package partition

import "sync/atomic"

// RoundRobin is Java's org.apache.kafka.clients.producer.RoundRobinPartitioner:
// every record, keyed or not, goes to the next partition in turn. Each topic
// has its own counter, which runs over the partitions with a known leader
// (over all partitions when none has one), exactly as Java's does, including
// its int wrap-around after 2^31 records. The zero value is ready to use and
// it is safe for concurrent use; a call is one map lookup without lock and
// one atomic add.
//
// KAFKA-9965: up to Kafka 3.x the Java producer, on finding that a record
// needed a new batch, called Partitioner.onNewBatch and then partition() a
// second time for the same record, so the counter advanced twice per new
// batch and with an even partition count only every other partition received
// data (KAFKA-16283). KAFKA-17632 worked around it inside
// RoundRobinPartitioner (backported to 3.9); Kafka 4.x removed onNewBatch and
// calls partition() once per record (kafka-clients 4.3.1). kprod follows 4.x:
// the accumulator calls Partition exactly once per record, so RoundRobin needs
// no compensation and the sequence is strictly 0, 1, 2, ... over the
// available partitions. Callers must keep it that way.
type RoundRobin struct {
	counters cowMap[string, *atomic.Int32]
}

// Partition returns the partition for the next record to topic, or
// UnknownPartition when parts has no partitions.
func (r *RoundRobin) Partition(topic string, parts Partitions) int32 {
	counter, ok := r.counters.load(topic)
	if !ok {
		counter = r.counters.loadOrStore(topic, func() *atomic.Int32 { return new(atomic.Int32) })
	}
	// Java's getAndIncrement: the value before the increment, wrapping from
	// MaxInt32 to MinInt32, which toPositive then maps to 0.
	next := ToPositive(counter.Add(1) - 1)
	if n := int32(len(parts.Available)); n > 0 {
		return parts.Available[next%n]
	}
	if parts.Count > 0 {
		return next % parts.Count
	}
	return UnknownPartition
}
