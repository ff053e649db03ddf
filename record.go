package kprod

import (
	"time"

	"github.com/kprod-io/kprod/internal/wire"
)

// Header is a record header: a string Key and a byte Value (nil is a null value). It is
// the wire encoder's own type, so headers reach the batch without conversion.
type Header = wire.Header

// Record is what Send delivers: Java's ProducerRecord with its key and value already
// serialized (Typed serializes for you).
//
// A nil Key is a null key (the partitioner spreads such records with the uniform sticky
// partitioner); a non-nil empty Key is an empty key, hashed like any other. A nil Value is
// a null value, a tombstone on a compacted topic. The producer copies Key, Value and
// Headers before Send returns, so the caller may reuse them at once.
type Record struct {
	// Topic is the topic to write to. Required.
	Topic string
	// Partition is the explicit partition; the zero value lets the partitioner choose.
	Partition OptionalPartition
	// Key is the record key; nil for none.
	Key []byte
	// Value is the record value; nil for a tombstone.
	Value []byte
	// Headers are the record headers, in order; keys may repeat.
	Headers []Header
	// Timestamp is the record's create time; the zero value means the time of Send.
	// Topics with message.timestamp.type=LogAppendTime replace it with the broker's.
	Timestamp time.Time
}

// OptionalPartition is a partition number that may be unset: the zero value is unset.
type OptionalPartition struct {
	n   int32
	set bool
}

// InPartition returns an OptionalPartition that pins a record to partition n.
func InPartition(n int32) OptionalPartition { return OptionalPartition{n: n, set: true} }

// Get returns the partition and whether it is set.
func (p OptionalPartition) Get() (int32, bool) { return p.n, p.set }

// RecordMetadata is what a successful send returns: where the record was written.
type RecordMetadata struct {
	// Topic and Partition name where the record went.
	Topic     string
	Partition int32
	// Offset is the record's offset in the partition, or -1 when the broker did not
	// say (acks=0, or a duplicate batch whose offset the broker no longer knows).
	Offset int64
	// Timestamp is the record's timestamp: its create time, or the broker's log
	// append time when the topic uses LogAppendTime.
	Timestamp time.Time
	// SerializedKeySize and SerializedValueSize are the sizes in bytes of the key and
	// value, -1 when null.
	SerializedKeySize   int
	SerializedValueSize int
}

// PartitionInfo describes one partition of a topic, as PartitionsFor returns it.
type PartitionInfo struct {
	Topic     string
	Partition int32
	// Leader is the node id of the partition's leader, -1 when it has none.
	Leader int32
	// LeaderEpoch is the leader's epoch, -1 when unknown.
	LeaderEpoch int32
	// Replicas, InSyncReplicas and OfflineReplicas list node ids.
	Replicas        []int32
	InSyncReplicas  []int32
	OfflineReplicas []int32
}
