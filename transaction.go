package kprod

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kprod-io/kprod/internal/txn"
)

// TopicPartition names one partition of a topic.
type TopicPartition struct {
	// Topic is the topic's name.
	Topic string
	// Partition is the partition's number within the topic.
	Partition int32
}

// OffsetAndMetadata is a consumer offset to commit within a transaction: the offset of
// the next record to consume.
type OffsetAndMetadata struct {
	// Offset is the next offset the consumer will read: the last consumed one + 1.
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
	// GroupID is the consumer group's group.id.
	GroupID string
	// GenerationID is the group's generation the consumer joined; 0 means -1 (unchecked)
	// when MemberID is empty.
	GenerationID int32
	// MemberID is the consumer's member id in that generation; empty: unchecked.
	MemberID string
	// GroupInstanceID is the consumer's group.instance.id (static membership), if any.
	GroupInstanceID string
}

// Transaction errors. Use errors.As with *FatalError and *AbortableError to learn what to
// do next; errors.Is with the sentinels for the cause.
var (
	// ErrNotTransactional: a transaction method on a producer without transactional.id.
	ErrNotTransactional = errors.New("kprod: producer has no transactional.id")
	// ErrInvalidTxnState: a transaction method called in a state that does not allow it
	// (Begin twice, Commit without Begin, Send outside a transaction, ...).
	ErrInvalidTxnState = txn.ErrWrongState
	// ErrTransactionTimeout: InitTransactions, SendOffsetsToTransaction, CommitTransaction
	// or AbortTransaction did not complete within max.block.ms (Java's TimeoutException).
	// It is retriable: call the same method again and it resumes where it stopped (a
	// commit whose offsets or EndTxn are pending stays pending, never turns into an
	// abort). It does not wrap context.DeadlineExceeded: that is kept for the caller's ctx.
	ErrTransactionTimeout = txn.ErrTimeout
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
type FatalError struct {
	// Err is the cause: ErrProducerFenced, a *KafkaError, ...
	Err error
}

// Error says the error is fatal and gives the cause.
func (e *FatalError) Error() string { return fmt.Sprintf("kprod: fatal transaction error: %v", e.Err) }

// Unwrap returns Err.
func (e *FatalError) Unwrap() error { return e.Err }

// AbortableError is a transactional error that dooms the current transaction but not the
// producer: call AbortTransaction, then begin a new transaction and send its records again.
type AbortableError struct {
	// Err is the cause: the broker's error, a failed record's, ...
	Err error
}

// Error says the transaction must be aborted and gives the cause.
func (e *AbortableError) Error() string {
	return fmt.Sprintf("kprod: transaction must be aborted: %v", e.Err)
}

// Unwrap returns Err.
func (e *AbortableError) Unwrap() error { return e.Err }

// txnError maps the transaction manager's errors onto the public ones: *FatalError and
// *AbortableError (with ErrProducerFenced inside when fenced), and ErrInvalidTxnState
// for calls made in the wrong state.
func txnError(err error) error {
	if err == nil {
		return nil
	}
	if ou, ok := err.(*txn.OutcomeUnknownError); ok { // keep it outermost: MaybeWritten reads it
		return &txn.OutcomeUnknownError{Err: txnError(ou.Err)}
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
	return cause // ErrInvalidTxnState is txn.ErrWrongState: its text appears once
}

func publicCodeError(ce *txn.CodeError) error {
	ke := kafkaError(ce.Code, ce.Op)
	switch ce.Code {
	case ErrTransactionalIDAuthorization.Code:
		withResource(ke, ce.TransactionalID)
	case ErrGroupAuthorization.Code:
		withResource(ke, ce.Group)
	}
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

// Timeouts of the transaction calls: each blocks up to max.block.ms or until ctx ends,
// whichever comes first, as Java bounds them by max.block.ms; with max.block.ms=0
// (MaxBlock: ZeroDuration) only ctx bounds them (see Config.MaxBlock). When max.block.ms
// ends the call, its error wraps ErrTransactionTimeout (retriable: call again to resume);
// when ctx ends it, context.DeadlineExceeded or context.Canceled; when Close's ctx ends
// while the call runs (Close lets it finish until then), ErrClosed.

// InitTransactions registers the transactional.id with its coordinator, fences older
// producers with the same id and completes or aborts any transaction they left open. Call
// it once, before any other transaction method. After a timeout it may be called again.
func (p *Producer) InitTransactions(ctx context.Context) error {
	start := time.Now()
	m, err := p.txnManagerCtx(ctx, "InitTransactions")
	if err != nil {
		return err
	}
	return p.timedOK(&p.metrics.TxnInitNs, start, txnError(m.Init(ctx)))
}

// BeginTransaction starts a transaction: records sent until Commit or Abort belong to it.
func (p *Producer) BeginTransaction() error {
	start := time.Now()
	m, err := p.txnManager()
	if err != nil {
		return err
	}
	return p.timedOK(&p.metrics.TxnBeginNs, start, txnError(m.Begin()))
}

// SendOffsetsToTransaction adds consumer offsets to the current transaction, so they are
// committed if and only if the transaction is: the consume-transform-produce loop of
// exactly-once processing. It returns once the group coordinator accepted them. If it
// times out, the offsets stay pending with the transaction, as in Java: calling it again
// (or CommitTransaction) sends them first, and CommitTransaction never commits the
// transaction without them. A group error (not authorized, a fenced or outdated member)
// returns an *AbortableError: abort the transaction. Fencing, or an error code Java's
// TxnOffsetCommitHandler does not expect, returns a *FatalError. Empty offsets do nothing,
// as in Java.
func (p *Producer) SendOffsetsToTransaction(ctx context.Context, offsets map[TopicPartition]OffsetAndMetadata, group ConsumerGroupMetadata) error {
	start := time.Now()
	m, err := p.txnManagerCtx(ctx, "SendOffsetsToTransaction")
	if err != nil {
		return err
	}
	if group.GroupID == "" {
		return fmt.Errorf("%w: SendOffsetsToTransaction needs a group id", ErrInvalidTxnState)
	}
	if len(offsets) == 0 {
		return nil // Java's KafkaProducer.sendOffsetsToTransaction skips empty offsets
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
	return p.timedOK(&p.metrics.TxnOffsNs, start, txnError(m.SendOffsets(ctx, list, txn.Group{ID: group.GroupID, Generation: gen,
		MemberID: group.MemberID, GroupInstanceID: group.GroupInstanceID})))
}

// CommitTransaction flushes the transaction's records, commits the offsets
// SendOffsetsToTransaction added and not yet confirmed, and commits the transaction: it
// never commits without them. If a record or an offset commit failed, it returns an
// *AbortableError and the transaction must be aborted instead. If ctx (or max.block.ms)
// ends before the outcome is known, call CommitTransaction again: it resumes the same
// commit (it never turns into an abort by itself; AbortTransaction may abandon it only
// before its EndTxn was sent, KAFKA-17754). When the call ends after its
// EndTxn(commit) was sent, MaybeWritten(err) is true: the transaction may have committed,
// also when Close interrupted the call and the error wraps ErrClosed.
func (p *Producer) CommitTransaction(ctx context.Context) error {
	start := time.Now()
	m, err := p.txnManagerCtx(ctx, "CommitTransaction")
	if err != nil {
		return err
	}
	return p.timedOK(&p.metrics.TxnCommitNs, start, txnError(m.Commit(ctx, p.flushAll)))
}

// AbortTransaction fails the transaction's unsent records with ErrTransactionAborted,
// waits for those in flight, and aborts it: read_committed consumers never see its
// records. When the transaction failed in a way that needs a new epoch (KIP-360), the
// abort also takes one. After a timeout (ctx or max.block.ms) call it again: it resumes
// where it stopped, its epoch bump included, and until it completes the other transaction
// calls are refused with ErrInvalidTxnState, as in Java.
//
// After a CommitTransaction that timed out, AbortTransaction is allowed while the commit
// had not sent its EndTxn (it was still flushing records or committing offsets): a
// deliberate difference from Java, which refuses it, so that a commit whose offsets can
// never be accepted is not a dead end. Once EndTxn(commit) was sent it returns
// ErrInvalidTxnState: call CommitTransaction again (KAFKA-17754).
func (p *Producer) AbortTransaction(ctx context.Context) error {
	start := time.Now()
	m, err := p.txnManagerCtx(ctx, "AbortTransaction")
	if err != nil {
		return err
	}
	failQueued := func() { p.snd.AbortQueued(ErrTransactionAborted) }
	return p.timedOK(&p.metrics.TxnAbortNs, start, txnError(m.Abort(ctx, failQueued, p.flushAll)))
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
