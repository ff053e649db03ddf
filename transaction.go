package kprod

import (
	"context"
	"errors"
	"fmt"

	"kprod/internal/txn"
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

// txnError maps the transaction manager's errors onto the public ones: *FatalError and
// *AbortableError (with ErrProducerFenced inside when fenced), and ErrInvalidTxnState
// for calls made in the wrong state.
func txnError(err error) error {
	if err == nil {
		return nil
	}
	var se *txn.StateError
	if !errors.As(err, &se) {
		var ce *txn.CodeError
		if errors.As(err, &ce) {
			return publicCodeError(ce)
		}
		return err
	}
	cause := se.Err
	var ce *txn.CodeError
	if errors.As(cause, &ce) {
		cause = publicCodeError(ce)
	} else {
		cause = publicError(cause) // a Produce error that doomed the transaction
	}
	switch se.Kind {
	case txn.Fatal:
		return &FatalError{Err: cause}
	case txn.Abortable:
		return &AbortableError{Err: cause}
	}
	if errors.Is(cause, txn.ErrWrongState) {
		return fmt.Errorf("%w: %v", ErrInvalidTxnState, cause)
	}
	return cause
}

func publicCodeError(ce *txn.CodeError) error {
	ke := kafkaError(ce.Code, ce.Op)
	if ce.Fenced() {
		return fmt.Errorf("%w: %w", ErrProducerFenced, ke)
	}
	return ke
}

func (p *Producer) txnManager() (*txn.Manager, error) {
	if p.closed.Load() {
		return nil, ErrClosed
	}
	if p.txn == nil || !p.txn.Transactional() {
		return nil, ErrNotTransactional
	}
	return p.txn, nil
}

// withMaxBlock bounds ctx by max.block.ms, as Java bounds initTransactions,
// sendOffsetsToTransaction, commitTransaction and abortTransaction.
func (p *Producer) withMaxBlock(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, p.set.MaxBlock)
}

// InitTransactions registers the transactional.id with its coordinator, fences older
// producers with the same id and completes or aborts any transaction they left open. Call
// it once, before any other transaction method. It blocks up to max.block.ms or ctx; after
// a timeout it may be called again.
func (p *Producer) InitTransactions(ctx context.Context) error {
	m, err := p.txnManagerCtx(ctx, "InitTransactions")
	if err != nil {
		return err
	}
	ctx, cancel := p.withMaxBlock(ctx)
	defer cancel()
	return txnError(m.Init(ctx))
}

// BeginTransaction starts a transaction: records sent until Commit or Abort belong to it.
func (p *Producer) BeginTransaction() error {
	m, err := p.txnManager()
	if err != nil {
		return err
	}
	return txnError(m.Begin())
}

// SendOffsetsToTransaction adds consumer offsets to the current transaction, so they are
// committed if and only if the transaction is: the consume-transform-produce loop of
// exactly-once processing.
func (p *Producer) SendOffsetsToTransaction(ctx context.Context, offsets map[TopicPartition]OffsetAndMetadata, group ConsumerGroupMetadata) error {
	m, err := p.txnManagerCtx(ctx, "SendOffsetsToTransaction")
	if err != nil {
		return err
	}
	if group.GroupID == "" {
		return fmt.Errorf("%w: SendOffsetsToTransaction needs a group id", ErrInvalidTxnState)
	}
	list := make([]txn.Offset, 0, len(offsets))
	for tp, o := range offsets {
		list = append(list, txn.Offset{Topic: tp.Topic, Partition: tp.Partition, Offset: o.Offset,
			LeaderEpoch: o.LeaderEpoch, Metadata: o.Metadata})
	}
	gen := group.GenerationID
	if group.MemberID == "" && gen == 0 {
		gen = -1 // no membership check, as Java's ConsumerGroupMetadata(groupId)
	}
	ctx, cancel := p.withMaxBlock(ctx)
	defer cancel()
	return txnError(m.SendOffsets(ctx, list, txn.Group{ID: group.GroupID, Generation: gen,
		MemberID: group.MemberID, GroupInstanceID: group.GroupInstanceID}))
}

// CommitTransaction flushes the transaction's records and commits it. If a record
// failed, it returns an *AbortableError and the transaction must be aborted instead. If
// ctx (or max.block.ms) ends before the outcome is known, call CommitTransaction again:
// it resumes the same commit (it never turns into an abort, KAFKA-17754).
func (p *Producer) CommitTransaction(ctx context.Context) error {
	m, err := p.txnManagerCtx(ctx, "CommitTransaction")
	if err != nil {
		return err
	}
	ctx, cancel := p.withMaxBlock(ctx)
	defer cancel()
	return txnError(m.Commit(ctx, p.flushAll))
}

// AbortTransaction fails the transaction's unsent records with ErrTransactionAborted,
// waits for those in flight, and aborts it: read_committed consumers never see its
// records. After a ctx timeout it may be called again.
func (p *Producer) AbortTransaction(ctx context.Context) error {
	m, err := p.txnManagerCtx(ctx, "AbortTransaction")
	if err != nil {
		return err
	}
	ctx, cancel := p.withMaxBlock(ctx)
	defer cancel()
	failQueued := func() { p.snd.AbortQueued(ErrTransactionAborted) }
	return txnError(m.Abort(ctx, failQueued, p.flushAll))
}

// flushAll sends everything buffered and waits until every batch completed and its
// callbacks ran.
func (p *Producer) flushAll(ctx context.Context) error {
	p.acc.BeginFlush()
	defer p.acc.EndFlush()
	if err := p.acc.AwaitIncomplete(ctx); err != nil {
		return err
	}
	return p.comp.drained(ctx)
}
