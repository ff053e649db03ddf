package kprod

import (
	"context"
	"errors"
	"fmt"
)

// TopicPartition names one partition of a topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// OffsetAndMetadata is a consumer offset to commit within a transaction: the offset of
// the next record to consume.
type OffsetAndMetadata struct {
	Offset int64
	// LeaderEpoch is the leader epoch of the last consumed record, -1 when unknown.
	LeaderEpoch int32
	// Metadata is free text stored with the offset.
	Metadata string
}

// ConsumerGroupMetadata identifies the consumer whose offsets a transaction commits, as
// Java's consumer.groupMetadata() does. With only GroupID set the coordinator does not
// check membership (generation -1); with the generation and member id, a zombie consumer
// that lost its partitions cannot commit (KIP-447).
type ConsumerGroupMetadata struct {
	GroupID         string
	GenerationID    int32
	MemberID        string
	GroupInstanceID string
}

// Transaction errors. Use errors.As with *FatalError and *AbortableError to learn what to
// do next; errors.Is with the sentinels for the cause.
var (
	// ErrNotTransactional: a transaction method on a producer without transactional.id.
	ErrNotTransactional = errors.New("kprod: producer has no transactional.id")
	// ErrInvalidTxnState: a transaction method called in a state that does not allow it
	// (Begin twice, Commit without Begin, Send outside a transaction, ...).
	ErrInvalidTxnState = errors.New("kprod: invalid transaction state")
	// ErrProducerFenced: another producer with the same transactional.id started
	// (InitTransactions) and took over; this one can only be closed.
	ErrProducerFenced = errors.New("kprod: producer fenced by a newer one with the same transactional.id")
	// ErrTransactionAborted fails records that were buffered or in flight when their
	// transaction aborted.
	ErrTransactionAborted = errors.New("kprod: transaction aborted")
)

// FatalError is a transactional error the producer cannot recover from (fenced, not
// authorized, the broker lacks a needed version): every later call fails with it. Close
// the producer; a new one with the same transactional.id fences whatever this one left.
type FatalError struct{ Err error }

func (e *FatalError) Error() string { return fmt.Sprintf("kprod: fatal transaction error: %v", e.Err) }
func (e *FatalError) Unwrap() error { return e.Err }

// AbortableError is a transactional error that dooms the current transaction but not the
// producer: call AbortTransaction, then begin a new transaction and send its records again.
type AbortableError struct{ Err error }

func (e *AbortableError) Error() string {
	return fmt.Sprintf("kprod: transaction must be aborted: %v", e.Err)
}
func (e *AbortableError) Unwrap() error { return e.Err }

var errTxnNotImplemented = errors.New("kprod: transactions are not implemented yet")

// InitTransactions registers the transactional.id with its coordinator, fences older
// producers with the same id and completes or aborts any transaction they left open. Call
// it once, before any other transaction method. It blocks up to max.block.ms or ctx.
func (p *Producer) InitTransactions(ctx context.Context) error {
	if p.set.TransactionalID == "" {
		return ErrNotTransactional
	}
	return errTxnNotImplemented
}

// BeginTransaction starts a transaction: records sent until Commit or Abort belong to it.
func (p *Producer) BeginTransaction() error {
	if p.set.TransactionalID == "" {
		return ErrNotTransactional
	}
	return errTxnNotImplemented
}

// SendOffsetsToTransaction adds consumer offsets to the current transaction, so they are
// committed if and only if the transaction is: the consume-transform-produce loop of
// exactly-once processing.
func (p *Producer) SendOffsetsToTransaction(ctx context.Context, offsets map[TopicPartition]OffsetAndMetadata, group ConsumerGroupMetadata) error {
	if p.set.TransactionalID == "" {
		return ErrNotTransactional
	}
	return errTxnNotImplemented
}

// CommitTransaction flushes the transaction's records and commits it. If a record
// failed, it returns an *AbortableError and the transaction must be aborted instead. If
// ctx ends before the outcome is known, call CommitTransaction again: it resumes the same
// commit (it never turns into an abort, KAFKA-17754).
func (p *Producer) CommitTransaction(ctx context.Context) error {
	if p.set.TransactionalID == "" {
		return ErrNotTransactional
	}
	return errTxnNotImplemented
}

// AbortTransaction fails the transaction's unsent records with ErrTransactionAborted,
// waits for those in flight, and aborts it: read_committed consumers never see its
// records.
func (p *Producer) AbortTransaction(ctx context.Context) error {
	if p.set.TransactionalID == "" {
		return ErrNotTransactional
	}
	return errTxnNotImplemented
}
