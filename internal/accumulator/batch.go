package accumulator

import (
	"sync/atomic"
	"time"

	"github.com/kprod-io/kprod/internal/wire"
)

// Pending is the completion of one record that someone waits for: a callback, a
// synchronous sender or an interceptor. Records nobody waits for (fire-and-forget without
// interceptors) have none, which keeps the batch's bookkeeping off the hot path.
type Pending struct {
	// Index is the record's offset delta in its batch.
	Index int32
	// KeySize and ValueSize are the serialized sizes, -1 for null.
	KeySize, ValueSize int32
	// Sent is when Send took the record, in microseconds after the batch's Created
	// (negative when before it). An offset rather than a time keeps Pending at 40 bytes:
	// it fills what was padding, and the record's timing is the batch's times less it.
	Sent int32
	// Timestamp is the record's create time in Unix milliseconds.
	Timestamp int64
	// Done is the producer's completion for the record, opaque here.
	Done any
}

// Batch is one partition's record batch, from its first append to its completion.
//
// Fields are owned in phases: while open, under its partition's mutex (appenders);
// once drained, by the sender goroutine; once completed, by the completion goroutine.
type Batch struct {
	Topic     string
	Partition int32
	part      *Partition

	builder wire.BatchBuilder
	buf     []byte // the buffer under builder (its capacity, len 0), back to the pool at Done
	// Pending lists the records with a completion, in append order.
	Pending []Pending
	// Created is when the first record was appended (monotonic clock).
	Created time.Time
	// createdMicros is Created's wall clock in microseconds, the base of Pending.Sent.
	createdMicros int64
	// charged is the buffer.memory bytes this batch holds until it completes: its
	// buffer's capacity (see Accumulator.hold).
	charged int64
	// class is buf's size class in the buffer pool, -1 for a buffer of its own (a record
	// over batch.size, a split half) that is not kept for reuse.
	class int8
	// sealed: no more appends (full, drained once, or closing). Guarded by part.mu.
	sealed bool
	// id orders batches for Flush.
	id uint64
	// MaxRecord is Java's ProducerBatch.maxRecordSize: the upper bound in bytes
	// (MaxRecordSize) of the batch's largest record, for record-size-avg/-max; maxEnc
	// is that record's encoded size, so the bound is computed only when a record
	// beats it. Guarded by part.mu while open.
	MaxRecord int
	maxEnc    int

	// Sender goroutine only, from the first drain on.

	// Attempts counts sends; >0 means the batch may have reached a broker.
	Attempts int
	// RetryAt is when a retried batch may be sent again.
	RetryAt time.Time
	// Encoded is the finished batch (stamped, compressed), resent as is on retry.
	Encoded []byte
	compBuf []byte
	// ProducerID, Epoch and BaseSequence are stamped at the first drain when idempotent.
	ProducerID   int64
	Epoch        int16
	BaseSequence int32
	HasSequence  bool
	// InFlight is set while a request carrying the batch awaits its answer.
	InFlight bool
	// SequenceReset is set when the batch's base sequence was moved down because an
	// earlier batch failed for good (Java's adjustSequencesDueToFailedBatch); its bytes are
	// stamped again before its next send.
	SequenceReset bool
	// Restamp asks the next drain to stamp Encoded again with the batch's sequence.
	Restamp bool
	// StaleInFlight is set when the sequence moved down while an attempt was in flight:
	// that attempt's bytes carry the old sequence, so an acknowledgement of it does not
	// say where the broker's sequence stands. Cleared when the batch is sent again.
	StaleInFlight bool
	// Expired is set when delivery.timeout.ms failed the batch while it was in flight:
	// its records were completed; the late response only releases it.
	Expired bool
	// holds counts who must release the batch before its memory is reused: 1, or 2
	// while an expired batch is both completed and still referenced by a request.
	holds atomic.Int32

	// Ordered is set once the batch is in its partition's completion order (first
	// drain); Finished and Outcome hold its result until every earlier batch of the
	// partition has completed, so callbacks run in send order per partition.
	Ordered  bool
	Finished bool
	Outcome  any

	// Timing, per batch: the producer derives each record's kprod.Timing from these and
	// the record's Pending.Sent, with no clock read per record. Drained is the first
	// drain (the end of the accumulator wait); SentAt is when the last attempt's request
	// was written; RequestTime is how long that request was in flight (until its answer,
	// or until delivery.timeout.ms failed it); DoneAt is when the batch's outcome was
	// decided. Written by the sender goroutine before it completes the batch.
	Drained, SentAt, DoneAt time.Time
	RequestTime             time.Duration

	// LastErr is the error of the last failed attempt, reported if the batch expires.
	LastErr error

	// MaybeWritten is set once an attempt may have reached the log without an answer
	// saying so (a timeout, a lost connection): a later failure must say so too.
	MaybeWritten bool
}

// Hold adds a holder: Done must then be called once more before the batch is released.
func (b *Batch) Hold() { b.holds.Add(1) }

// NumRecords returns the number of records in the batch.
func (b *Batch) NumRecords() int { return b.builder.NumRecords() }

// Records returns the uncompressed records section (for splitting a batch).
func (b *Batch) Records() []byte { return b.builder.Records() }

// Builder gives the sender the batch's encoder, to finish it.
func (b *Batch) Builder() *wire.BatchBuilder { return &b.builder }

// CompressBuffer returns the batch's recycled buffer for its compressed form.
func (b *Batch) CompressBuffer() []byte { return b.compBuf }

// SetEncoded records the finished bytes; comp is the compressed buffer to recycle, if any.
func (b *Batch) SetEncoded(enc, comp []byte) {
	b.Encoded = enc
	if comp != nil {
		b.compBuf = comp
	}
}

// PartitionQueue returns the partition the batch belongs to.
func (b *Batch) PartitionQueue() *Partition { return b.part }

// Charged returns the buffer.memory bytes the batch holds.
func (b *Batch) Charged() int64 { return b.charged }
