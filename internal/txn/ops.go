package txn

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// opFailed turns a coordinator request's failure into the manager's state: fatal and
// abortable codes change it; a ctx that ended leaves it as it was.
func (m *Manager) opFailed(op string, err error) error {
	var ce *CodeError
	if !errors.As(err, &ce) {
		var se *StateError
		if errors.As(err, &se) {
			m.mu.Lock()
			m.failLocked(se.Kind, err)
			m.mu.Unlock()
		}
		return err
	}
	kind := ce.kind()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.bumpNeeded = true
	m.failLocked(kind, fmt.Errorf("kprod: %s: %w", op, err))
	if se := m.errLocked(); se != nil {
		return se
	}
	// The state could not take the error (e.g. ABORTING): report it as it is.
	return &StateError{Kind: kind, Err: fmt.Errorf("kprod: %s: %w", op, err)}
}

// Commit is CommitTransaction. flush sends every buffered record and waits for all of
// them. Then the transaction's pending consumer offsets are committed to their groups, and
// only when every one is confirmed is EndTxn(commit) sent: a transaction never commits
// without its offsets (Java sends the pending TxnOffsetCommit before EndTxn and completes
// the commit only after it). If the call ends (ctx, max.block.ms, Close) first, the state
// stays Committing and a later Commit resumes: it sends what is still pending, or retries
// the same EndTxn. Once EndTxn(commit) was sent the commit never turns into an abort
// (KAFKA-17754), and a call that ends without its answer returns an
// *OutcomeUnknownError.
func (m *Manager) Commit(ctx context.Context, flush func(context.Context) error) (err error) {
	ctx, done, err := m.call(ctx, "CommitTransaction")
	if err != nil {
		return err
	}
	defer done()
	defer func() {
		m.mu.Lock()
		unknown := err != nil && m.state == Committing && m.commitSent
		m.mu.Unlock()
		if unknown {
			err = &OutcomeUnknownError{Err: err}
		}
	}()
	m.mu.Lock()
	if err := m.abortPendingLocked("CommitTransaction"); err != nil {
		m.mu.Unlock()
		return err
	}
	if err := m.enterLocked(Committing); err != nil {
		m.mu.Unlock()
		return err
	}
	m.mu.Unlock()
	if err := flush(ctx); err != nil {
		if ctx.Err() != nil {
			return ended(ctx, "the transaction's records", nil)
		}
		return fmt.Errorf("kprod: commit: waiting for the transaction's records: %w", err)
	}
	m.mu.Lock()
	if m.state == AbortableError || m.state == FatalError { // a record failed
		err := m.errLocked()
		m.mu.Unlock()
		return err
	}
	m.mu.Unlock()
	if err := m.commitOffsets(ctx); err != nil {
		return err
	}
	return m.endTxn(ctx, true)
}

// Abort is AbortTransaction. failQueued fails every record not yet sent with
// ErrTransactionAborted; await waits for records in flight. Offsets not yet committed are
// dropped. Then EndTxn(abort) and, when the transaction failed with sequence or epoch
// trouble, a new epoch (KIP-360). An abort that timed out is resumed by calling Abort
// again, also once it reached its new epoch.
func (m *Manager) Abort(ctx context.Context, failQueued func(), await func(context.Context) error) error {
	ctx, done, err := m.call(ctx, "AbortTransaction")
	if err != nil {
		return err
	}
	defer done()
	return m.abort(ctx, failQueued, await)
}

// AbortOpen aborts, within ctx, the transaction the producer's Close finds open: begun
// (InTransaction), doomed (AbortableError), or an abort a timed-out AbortTransaction left
// (Aborting, or its epoch bump). Java's Sender does so when the producer closes
// gracefully ("Aborting incomplete transaction due to shutdown"), so read_committed
// consumers are not held at the transaction's first offset until transaction.timeout.ms.
// A commit a timed-out CommitTransaction left is not touched: turning it into an abort is
// the caller's choice, and finishing it means waiting for the coordinator; the coordinator
// ends it. Close calls AbortOpen after StopCalls, when no call runs; an ended ctx aborts
// nothing.
func (m *Manager) AbortOpen(ctx context.Context, failQueued func(), await func(context.Context) error) error {
	if !m.Transactional() || ctx.Err() != nil {
		return nil
	}
	m.mu.Lock()
	open := m.state == InTransaction || m.state == AbortableError || m.state == Aborting ||
		(m.state == Initializing && m.abortBump)
	m.mu.Unlock()
	if !open {
		return nil
	}
	return m.abort(ctx, failQueued, await)
}

// abort is Abort once the call started.
func (m *Manager) abort(ctx context.Context, failQueued func(), await func(context.Context) error) error {
	m.mu.Lock()
	if m.state == FatalError {
		err := m.errLocked()
		m.mu.Unlock()
		return err
	}
	if m.abortBump {
		// The transaction ended (or needed no EndTxn); its new epoch is still missing.
		pid, epoch := m.pid, m.epoch
		m.mu.Unlock()
		return m.reinit(ctx, pid, epoch)
	}
	if m.state == Committing && m.commitSent {
		m.mu.Unlock()
		return &StateError{Kind: Retriable, Err: fmt.Errorf(
			"%w: the commit was sent to the coordinator: call CommitTransaction again to finish it", ErrWrongState)}
	}
	// A commit that has not sent its EndTxn (still flushing records or committing offsets,
	// say offsets the coordinator never accepts) may be aborted: a deliberate difference
	// from Java, which refuses any abort once commitTransaction was called. KAFKA-17754
	// only requires that a commit the coordinator may have seen is never turned into an
	// abort, and this is the only way out of such a commit short of Close.
	if m.state != Aborting {
		if err := m.transition(Aborting); err != nil {
			m.mu.Unlock()
			return err
		}
	}
	m.offsetCommits = nil
	m.commitSent = false
	// Partitions not yet sent to the coordinator need no registering now (Java's beginAbort
	// clears newPartitionsInTransaction); one already under way is awaited in endTxn.
	clear(m.pending)
	m.mu.Unlock()
	failQueued()
	if err := await(ctx); err != nil {
		if ctx.Err() != nil {
			return ended(ctx, "the transaction's records in flight", nil)
		}
		return fmt.Errorf("kprod: abort: waiting for records in flight: %w", err)
	}
	return m.endTxn(ctx, false)
}

// endTxn sends EndTxn and moves to Ready (through Initializing for a new epoch when one
// is needed). With transactions v2 every EndTxn returns the next epoch.
func (m *Manager) endTxn(ctx context.Context, commit bool) error {
	m.mu.Lock()
	adding := m.adding
	m.mu.Unlock()
	if adding != nil && !commit {
		// An AddPartitionsToTxn under way may register partitions: wait for its answer, so
		// an abort neither skips an EndTxn the coordinator needs nor sends one for a
		// transaction it never saw (INVALID_TXN_STATE, fatal).
		select {
		case <-adding:
		case <-ctx.Done():
			return ended(ctx, "AddPartitionsToTxn", nil)
		}
	}
	m.mu.Lock()
	pid, epoch, tv2 := m.pid, m.epoch, m.tv2.Load()
	// Java's transactionStarted: EndTxn only for a transaction the coordinator knows of.
	started := len(m.added) > 0 || m.offsets || (commit && len(m.pending) > 0)
	if !commit && m.unmapped {
		// The coordinator no longer maps the producer id and would refuse the EndTxn: a
		// new epoch ends whatever it still holds (Java's beginCompletingTransaction skips
		// EndTxn after an InvalidPidMappingException).
		started, m.bumpNeeded = false, true
	}
	if commit && started {
		if m.state != Committing { // aborted meanwhile by a call on another goroutine
			m.mu.Unlock()
			return &StateError{Kind: Retriable, Err: fmt.Errorf("%w: the transaction is %s, not committing", ErrWrongState, m.state)}
		}
		m.commitSent = true
	}
	m.mu.Unlock()
	if started {
		var resp *kmsg.EndTxnResponse
		build := func() kmsg.Request {
			req := kmsg.NewPtrEndTxnRequest()
			req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = m.cfg.TransactionalID, pid, epoch, commit
			return req
		}
		handle := func(r kmsg.Response) error {
			resp = r.(*kmsg.EndTxnResponse)
			return codeErr("EndTxn", resp.ErrorCode)
		}
		maxV := int16(4)
		if tv2 {
			maxV = 5
		}
		if err := m.coordinated(ctx, "EndTxn", keyTxn, m.cfg.TransactionalID, maxV, build, handle); err != nil {
			var ce *CodeError
			if !errors.As(err, &ce) {
				return err // outcome unknown: stay Committing/Aborting and retry the same EndTxn
			}
			if kind := ce.kind(); kind == Abortable && !commit {
				// The abort itself was refused (INVALID_PRODUCER_ID_MAPPING, a
				// transaction the coordinator already timed out): what matters is a
				// fresh epoch, which also ends whatever the coordinator still holds.
				m.mu.Lock()
				m.state, m.abortBump = Initializing, true
				pid, epoch = m.pid, m.epoch
				m.mu.Unlock()
				return m.reinit(ctx, pid, epoch)
			}
			return m.opFailed("EndTxn", err)
		}
		if tv2 && resp.Version >= 5 && resp.ProducerID >= 0 {
			m.mu.Lock()
			m.pid, m.epoch = resp.ProducerID, resp.ProducerEpoch
			m.bumpNeeded = false
			m.mu.Unlock()
		}
	}
	m.mu.Lock()
	bump := m.bumpNeeded && !commit
	if !bump {
		m.clearTxnLocked()
		m.lastErr = nil
		m.state = Ready
		m.mu.Unlock()
		m.cfg.Wake()
		return nil
	}
	m.state, m.abortBump = Initializing, true
	pid, epoch = m.pid, m.epoch
	m.mu.Unlock()
	return m.reinit(ctx, pid, epoch)
}
