package txn

import (
	"cmp"
	"context"
	"fmt"
	"slices"

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

// offsetCommit is one group's offsets in the current transaction that the group
// coordinator has not yet confirmed (Java's pendingTxnOffsetCommits). It stays until the
// coordinator accepts every partition, the transaction aborts, or the producer fails.
// Guarded by Manager.mu.
type offsetCommit struct {
	group   Group
	offsets map[TP]Offset // not yet confirmed
	added   bool          // AddOffsetsToTxn succeeded (transactions v1): the group is in the transaction
}

// SendOffsets is SendOffsetsToTransaction: with transactions v1, AddOffsetsToTxn to the
// transaction coordinator first; then TxnOffsetCommit to the group coordinator. Offsets
// the coordinator has not confirmed when the call ends (ctx, max.block.ms) stay pending,
// as in Java: calling SendOffsets again, or Commit, sends them first, and Commit never ends
// the transaction without them. A group error (fenced member, wrong generation, not
// authorized) makes the transaction abortable; fencing, or a code Java's
// TxnOffsetCommitHandler does not expect, makes the producer fail (txnOffsetCommitKind).
func (m *Manager) SendOffsets(ctx context.Context, offsets []Offset, g Group) error {
	ctx, done, err := m.call(ctx, "SendOffsetsToTransaction")
	if err != nil {
		return err
	}
	defer done()
	m.mu.Lock()
	if err := m.errLocked(); err != nil {
		m.mu.Unlock()
		return err
	}
	if err := m.abortPendingLocked("SendOffsetsToTransaction"); err != nil {
		m.mu.Unlock()
		return err
	}
	if m.state != InTransaction {
		m.mu.Unlock()
		return &StateError{Kind: Retriable, Err: fmt.Errorf("%w: cannot send offsets in state %s", ErrWrongState, m.state)}
	}
	m.addOffsetsLocked(offsets, g)
	m.mu.Unlock()
	return m.commitOffsets(ctx)
}

// addOffsetsLocked adds offsets to the group's pending commit: a later offset of the same
// partition replaces an earlier one, and the newest group metadata is sent (Java keeps one
// pending offset per partition and sends the last call's metadata).
func (m *Manager) addOffsetsLocked(offsets []Offset, g Group) {
	var oc *offsetCommit
	for _, c := range m.offsetCommits {
		if c.group.ID == g.ID {
			oc = c
			break
		}
	}
	if oc == nil {
		oc = &offsetCommit{offsets: make(map[TP]Offset, len(offsets))}
		m.offsetCommits = append(m.offsetCommits, oc)
	}
	oc.group = g
	for _, o := range offsets {
		oc.offsets[TP{o.Topic, o.Partition}] = o
	}
}

// commitOffsets sends every pending offset commit of the transaction until the group
// coordinators confirmed them all, or ctx ends (they stay pending), or one fails for good
// (the transaction becomes abortable or the producer fatal).
func (m *Manager) commitOffsets(ctx context.Context) error {
	for {
		m.mu.Lock()
		if len(m.offsetCommits) == 0 {
			m.mu.Unlock()
			return nil
		}
		oc := m.offsetCommits[0]
		m.mu.Unlock()
		if err := m.commitGroupOffsets(ctx, oc); err != nil {
			return err
		}
		m.mu.Lock()
		if len(m.offsetCommits) > 0 && m.offsetCommits[0] == oc {
			m.offsetCommits = m.offsetCommits[1:]
		}
		m.mu.Unlock()
	}
}

// commitGroupOffsets adds oc's group to the transaction (AddOffsetsToTxn, transactions
// v1) and commits its offsets (TxnOffsetCommit), retrying the partitions the coordinator
// has not accepted yet (Java's TxnOffsetCommitHandler).
func (m *Manager) commitGroupOffsets(ctx context.Context, oc *offsetCommit) error {
	m.mu.Lock()
	pid, epoch, tv2, added, g := m.pid, m.epoch, m.tv2.Load(), oc.added, oc.group
	m.mu.Unlock()
	if !tv2 && !added {
		build := func() kmsg.Request {
			req := kmsg.NewPtrAddOffsetsToTxnRequest()
			req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Group = m.cfg.TransactionalID, pid, epoch, g.ID
			return req
		}
		handle := func(resp kmsg.Response) error {
			if code := resp.(*kmsg.AddOffsetsToTxnResponse).ErrorCode; code != 0 {
				return &CodeError{Op: "AddOffsetsToTxn", Code: code, Group: g.ID}
			}
			return nil
		}
		if err := m.coordinated(ctx, "AddOffsetsToTxn", keyTxn, m.cfg.TransactionalID, 3, build, handle); err != nil {
			return m.opFailed("AddOffsetsToTxn", err)
		}
	}
	m.mu.Lock()
	oc.added = true
	// The transaction holds the group from now on (with v2, TxnOffsetCommit v5 adds it,
	// KIP-890, so it may hold it as soon as one is sent): its end must be sent.
	m.offsets = true
	m.mu.Unlock()

	build := func() kmsg.Request {
		m.mu.Lock()
		pending := make([]Offset, 0, len(oc.offsets))
		for _, o := range oc.offsets {
			pending = append(pending, o)
		}
		m.mu.Unlock()
		slices.SortFunc(pending, func(a, b Offset) int {
			return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
		})
		req := kmsg.NewPtrTxnOffsetCommitRequest()
		req.TransactionalID, req.Group, req.ProducerID, req.ProducerEpoch = m.cfg.TransactionalID, g.ID, pid, epoch
		req.Generation, req.MemberID = g.Generation, g.MemberID
		if g.GroupInstanceID != "" {
			id := g.GroupInstanceID
			req.InstanceID = &id
		}
		for _, o := range pending {
			if n := len(req.Topics); n == 0 || req.Topics[n-1].Topic != o.Topic {
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
			t := &req.Topics[len(req.Topics)-1]
			t.Partitions = append(t.Partitions, rp)
		}
		return req
	}
	handle := func(resp kmsg.Response) error {
		return m.txnOffsetCommitAnswer(oc, resp.(*kmsg.TxnOffsetCommitResponse))
	}
	maxV := int16(4)
	if tv2 {
		maxV = 5 // v5: the coordinator adds the group to the transaction itself (KIP-890)
	}
	if err := m.coordinated(ctx, opTxnOffsetCommit, keyGroup, g.ID, maxV, build, handle); err != nil {
		return m.opFailed(opTxnOffsetCommit, err)
	}
	return nil
}

// txnOffsetCommitAnswer takes the partitions the group coordinator accepted off oc and
// says what to do about the rest, as Java's TxnOffsetCommitHandler: the first error that
// is not retriable ends the commit (txnOffsetCommitKind: abortable for group errors,
// fatal for fencing and unexpected codes); a retriable one, or a partition the answer
// left out, has the rest sent again after a backoff, after looking the coordinator up
// again for NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE and REQUEST_TIMED_OUT.
func (m *Manager) txnOffsetCommitAnswer(oc *offsetCommit, r *kmsg.TxnOffsetCommitResponse) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var retry int16
	reload := false
	asked := len(oc.offsets)
	for _, t := range r.Topics {
		for _, p := range t.Partitions {
			tp := TP{t.Topic, p.Partition}
			if _, ok := oc.offsets[tp]; !ok {
				continue // not asked for, or already accepted
			}
			switch p.ErrorCode {
			case 0:
				delete(oc.offsets, tp)
				continue
			case codeNotCoordinator, codeCoordinatorNotAvailable, codeRequestTimedOut:
				reload = true
			}
			if txnOffsetCommitKind(p.ErrorCode) != Retriable {
				return codeErr(opTxnOffsetCommit, p.ErrorCode)
			}
			if retry == 0 {
				retry = p.ErrorCode
			}
		}
	}
	if reload {
		m.forgetCoordinator(keyGroup, oc.group.ID)
	}
	if retry != 0 {
		return codeErr(opTxnOffsetCommit, retry)
	}
	if len(oc.offsets) > 0 {
		return fmt.Errorf("%w: TxnOffsetCommit left out %d of %d partitions", errIncomplete, len(oc.offsets), asked)
	}
	return nil
}
