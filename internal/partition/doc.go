// Package partition holds the partitioning algorithms built into Java's
// KafkaProducer (Kafka 4.x), reproduced bit for bit so that records a kprod
// producer writes land where a Java producer would put them.
//
//   - Keyed records: KeyPartition, toPositive(murmur2(key)) % numPartitions
//     over all partitions of the topic (Java's BuiltInPartitioner.partitionForKey).
//   - Keyless records, or every record when partitioner.ignore.keys=true: the
//     uniform sticky partitioner of KIP-794 (Sticky), which supersedes the
//     KIP-480 sticky partitioner, optionally adaptive to per-partition queue
//     sizes fed back by the sender (LoadStats).
//   - RoundRobin: Java's RoundRobinPartitioner, offered as a selectable
//     partitioner.
//
// Nothing here reads the clock or a global random source on its own: time is
// always passed in by the caller and randomness is an injectable function, so
// tests are deterministic.
package partition

// UnknownPartition is returned where no partition can be chosen, for example
// for a topic whose metadata reports no partitions. It equals Java's
// RecordMetadata.UNKNOWN_PARTITION.
const UnknownPartition int32 = -1

// Partitions is the caller's view of one topic's partitions that the
// partitioners read: how many partitions exist and which of them have a known
// leader. It mirrors Java's Cluster.partitionsForTopic (Count) and
// Cluster.availablePartitionsForTopic (Available).
//
// The partitioners never retain or modify Available; a metadata snapshot can
// build it once and hand the same slice to every call.
type Partitions struct {
	// Count is the number of partitions of the topic, with or without leader.
	Count int32
	// Available lists, in ascending order, the ids of partitions whose leader
	// is known. Ids must be in [0, Count).
	Available []int32
}
