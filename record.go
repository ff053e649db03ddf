package kprod

import (
	"time"
	"unsafe"

	"github.com/kprod-io/kprod/internal/wire"
)

// Header is a record header (KIP-82), Java's RecordHeader.
type Header struct {
	// Key is the header's name. Keys may repeat within a record.
	Key string
	// Value is the header's value; nil is a null value (written as length -1).
	Value []byte
}

// The conversion compiles only while Header and wire.Header have identical underlying
// types, hence one memory layout, which wireHeaders relies on.
var _ = wire.Header(Header{})

// wireHeaders views headers as the wire encoder's type without copying: Send stays
// allocation-free. Header is a type of its own, not an alias of wire.Header, so that go
// doc shows its fields (issue 13).
func wireHeaders(h []Header) []wire.Header {
	return unsafe.Slice((*wire.Header)(unsafe.Pointer(unsafe.SliceData(h))), len(h))
}

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
	// Timing says how long the record queued, was in flight and took in all, and how
	// often it was retried.
	Timing Timing
}

// PartitionInfo describes one partition of a topic, as PartitionsFor returns it.
type PartitionInfo struct {
	// Topic and Partition name the partition.
	Topic     string
	Partition int32
	// Leader is the node id of the partition's leader, -1 when it has none.
	Leader int32
	// LeaderEpoch is the leader's epoch, -1 when unknown.
	LeaderEpoch int32
	// Replicas lists the node ids of the partition's replicas.
	Replicas []int32
	// InSyncReplicas lists the replicas in sync with the leader (the ISR).
	InSyncReplicas []int32
	// OfflineReplicas lists the replicas whose broker is down or whose log dir failed.
	OfflineReplicas []int32
}
