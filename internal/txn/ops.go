package txn

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Offset is one consumer offset to commit in a transaction.
type Offset struct {
	Topic       string
	Partition   int32
	Offset      int64
	LeaderEpoch int32
	Metadata    string
}

// Group identifies the consumer committing offsets (KIP-447).
type Group struct {
	ID              string
	Generation      int32
	MemberID        string
	GroupInstanceID string
}

// SendOffsets is SendOffsetsToTransaction: with transactions v1, AddOffsetsToTxn to the
// transaction coordinator first; then TxnOffsetCommit to the group coordinator. A group
// error (fenced member, wrong generation) makes the transaction abortable.
func (m *Manager) SendOffsets(ctx context.Context, offsets []Offset, g Group) error {
	m.mu.Lock()
	if err := m.errLocked(); err != nil {
		m.mu.Unlock()
		return err
	}
	if m.state != InTransaction {
		m.mu.Unlock()
		return &StateError{Kind: Retriable, Err: fmt.Errorf("%w: cannot send offsets in state %s", ErrWrongState, m.state)}
	}
	pid, epoch, tv2 := m.pid, m.epoch, m.tv2
	m.mu.Unlock()

	if !tv2 {
		build := func() kmsg.Request {
			req := kmsg.NewPtrAddOffsetsToTxnRequest()
			req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Group = m.cfg.TransactionalID, pid, epoch, g.ID
			return req
		}
		handle := func(resp kmsg.Response) int16 { return resp.(*kmsg.AddOffsetsToTxnResponse).ErrorCode }
		if err := m.coordinated(ctx, "AddOffsetsToTxn", keyTxn, m.cfg.TransactionalID, 3, build, handle); err != nil {
			return m.opFailed("AddOffsetsToTxn", err)
		}
	}
	m.mu.Lock()
	m.offsets = true
	m.mu.Unlock()

	build := func() kmsg.Request {
		req := kmsg.NewPtrTxnOffsetCommitRequest()
		req.TransactionalID, req.Group, req.ProducerID, req.ProducerEpoch = m.cfg.TransactionalID, g.ID, pid, epoch
		req.Generation, req.MemberID = g.Generation, g.MemberID
		if g.GroupInstanceID != "" {
			id := g.GroupInstanceID
			req.InstanceID = &id
		}
		byTopic := map[string]int{}
		for _, o := range offsets {
			i, ok := byTopic[o.Topic]
			if !ok {
				i = len(req.Topics)
				byTopic[o.Topic] = i
				rt := kmsg.NewTxnOffsetCommitRequestTopic()
				rt.Topic = o.Topic
				req.Topics = append(req.Topics, rt)
			}
			rp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
			rp.Partition, rp.Offset, rp.LeaderEpoch = o.Partition, o.Offset, o.LeaderEpoch
			if o.Metadata != "" {
				md := o.Metadata
				rp.Metadata = &md
			}
			req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
		}
		return req
	}
	handle := func(resp kmsg.Response) int16 {
		for _, t := range resp.(*kmsg.TxnOffsetCommitResponse).Topics {
			for _, p := range t.Partitions {
				if p.ErrorCode != 0 {
					return p.ErrorCode
				}
			}
		}
		return 0
	}
	maxV := int16(4)
	if tv2 {
		maxV = 5 // v5: the coordinator adds the group to the transaction itself (KIP-890)
	}
	if err := m.coordinated(ctx, "TxnOffsetCommit", keyGroup, g.ID, maxV, build, handle); err != nil {
		return m.opFailed("TxnOffsetCommit", err)
	}
	return nil
}

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
	kind := coordinatorErrorKind(ce.Code)
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
// them; failed reports whether any record of the transaction failed. Then EndTxn(commit).
// If ctx ends with the outcome unknown, the state stays Committing and a later Commit
// retries the same EndTxn: a commit never turns into an abort (KAFKA-17754).
func (m *Manager) Commit(ctx context.Context, flush func(context.Context) error) error {
	m.mu.Lock()
	if err := m.enterLocked(Committing); err != nil {
		m.mu.Unlock()
		return err
	}
	m.mu.Unlock()
	if err := flush(ctx); err != nil {
		return fmt.Errorf("kprod: commit: waiting for the transaction's records: %w", err)
	}
	m.mu.Lock()
	if m.state == AbortableError || m.state == FatalError { // a record failed
		err := m.errLocked()
		m.mu.Unlock()
		return err
	}
	m.mu.Unlock()
	return m.endTxn(ctx, true)
}

// Abort is AbortTransaction. failQueued fails every record not yet sent with
// ErrTransactionAborted; await waits for records in flight. Then EndTxn(abort) and, when
// the transaction failed with sequence or epoch trouble, a new epoch (KIP-360).
func (m *Manager) Abort(ctx context.Context, failQueued func(), await func(context.Context) error) error {
	m.mu.Lock()
	if m.state == FatalError {
		err := m.errLocked()
		m.mu.Unlock()
		return err
	}
	if m.state == Committing {
		m.mu.Unlock()
		return &StateError{Kind: Retriable, Err: fmt.Errorf("%w: a commit is in progress: call CommitTransaction again to finish it", ErrWrongState)}
	}
	if m.state != Aborting {
		if err := m.transition(Aborting); err != nil {
			m.mu.Unlock()
			return err
		}
	}
	m.mu.Unlock()
	failQueued()
	if err := await(ctx); err != nil {
		return fmt.Errorf("kprod: abort: waiting for records in flight: %w", err)
	}
	return m.endTxn(ctx, false)
}

// endTxn sends EndTxn and moves to Ready (through Initializing for a new epoch when one
// is needed). With transactions v2 every EndTxn returns the next epoch.
func (m *Manager) endTxn(ctx context.Context, commit bool) error {
	m.mu.Lock()
	pid, epoch, tv2 := m.pid, m.epoch, m.tv2
	started := len(m.added) > 0 || len(m.pending) > 0 || m.offsets
	m.mu.Unlock()
	if started {
		var resp *kmsg.EndTxnResponse
		build := func() kmsg.Request {
			req := kmsg.NewPtrEndTxnRequest()
			req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = m.cfg.TransactionalID, pid, epoch, commit
			return req
		}
		handle := func(r kmsg.Response) int16 {
			resp = r.(*kmsg.EndTxnResponse)
			return resp.ErrorCode
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
			if kind := coordinatorErrorKind(ce.Code); kind == Abortable && !commit {
				// The abort itself was refused (INVALID_PRODUCER_ID_MAPPING, a
				// transaction the coordinator already timed out): what matters is a
				// fresh epoch, which also ends whatever the coordinator still holds.
				m.mu.Lock()
				m.state = Initializing
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
	m.state = Initializing
	pid, epoch = m.pid, m.epoch
	m.mu.Unlock()
	return m.reinit(ctx, pid, epoch)
}
