package kprod

// Interceptor sees every record on its way in and every outcome on its way out, as Java's
// ProducerInterceptor does. Interceptors run in the order given to WithInterceptors.
//
// A failing interceptor never breaks sending: an error from OnSend (or a panic in either
// method) is reported to the producer's logger and the record continues as it was before
// that interceptor.
type Interceptor interface {
	// OnSend runs in Send before partitioning and buffering. It may return a different
	// record, which is then sent instead (and passed to the next interceptor). It runs on
	// the caller's goroutine and must be safe for concurrent use. The record's Key, Value
	// and Headers are the caller's (or, through Typed, a scratch buffer reused by the
	// next send): copy them to keep them after OnSend returns. Unlike Java, interceptors
	// see serialized bytes, also through Typed.
	OnSend(r Record) (Record, error)
	// OnAcknowledgement runs once per record OnSend accepted, with its metadata or its
	// error, before the record's callback. It runs on the producer's completion
	// goroutine: it must be quick and must not call Send.
	OnAcknowledgement(md RecordMetadata, err error)
}

// Partitioner chooses the partition of records that name none, replacing the built-in
// choice (Java's partitioner.class). It must be safe for concurrent use.
type Partitioner interface {
	// Partition returns the partition for a record with the given serialized key and
	// value, in [0, numPartitions). Returning -1 hands the record to the built-in
	// partitioners (murmur2 of the key, else KIP-794's sticky choice), a kprod
	// extension. Any other number is a bug: Send fails with ErrInvalidPartition and
	// the record is not sent (Java throws IllegalArgumentException for a negative
	// number).
	Partition(topic string, key, value []byte, numPartitions int32) int32
}

// PartitionerFunc adapts a function to Partitioner.
type PartitionerFunc func(topic string, key, value []byte, numPartitions int32) int32

// Partition calls f.
func (f PartitionerFunc) Partition(topic string, key, value []byte, numPartitions int32) int32 {
	return f(topic, key, value, numPartitions)
}
