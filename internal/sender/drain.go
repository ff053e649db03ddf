package sender

import (
	"errors"
	"fmt"
	"time"

	"github.com/kprod-io/kprod/internal/accumulator"
	"github.com/kprod-io/kprod/internal/broker"
	"github.com/kprod-io/kprod/internal/config"
	"github.com/kprod-io/kprod/internal/wire"
)

// ErrDeliveryTimeout is delivery.timeout.ms expiring; the producer exports it as
// kprod.ErrDeliveryTimeout.
var ErrDeliveryTimeout = errors.New("kprod: delivery.timeout.ms expired")

// produceTxnV1MaxVersion is the newest Produce version of transactions v1: Java's
// ProduceRequest.LAST_STABLE_VERSION_BEFORE_TRANSACTION_V2.
const produceTxnV1MaxVersion = 11

// sendReady expires old batches, groups ready partitions by leader and sends one Produce
// request per broker that has a free in-flight slot. It returns the next time it must
// look again.
// With drain false (no producer id yet, or an epoch bump pending) it only expires.
func (s *Sender) sendReady(now time.Time, drain bool) time.Time {
	var next time.Time
	soon := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	flushing := s.acc.Flushing() || s.acc.Budget.Exhausted()
	for node := range s.byNode {
		s.byNode[node] = s.byNode[node][:0]
	}
	s.nodeOrder = s.nodeOrder[:0]
	needMeta := false

	for _, t := range s.acc.Topics() {
		parts := t.Partitions()
		s.load.Reset(s.set.PartitionerAdaptive, len(parts), int(s.cfg.Meta.PartitionCount(t.Name)))
		for _, p := range parts {
			s.expireInFlight(p, now, soon)
			s.resolve(p)
			h, ok := p.Peek()
			if node, known := s.cfg.Meta.Leader(p.Topic, p.ID); known {
				// Adaptive partitioning (KIP-794) weighs partitions by queued batches.
				s.load.Add(p.ID, h.Queued, s.latency.Unavailable(node))
			}
			if !ok {
				continue
			}
			b := h.Batch
			if deadline := b.Created.Add(s.set.DeliveryTimeout); !now.Before(deadline) {
				if p.Pop(b) {
					maybe := b.Attempts > 0 && b.MaybeWritten
					if maybe {
						s.unresolve(p, b)
					} else {
						s.releaseSequences(b)
					}
					s.failExpired(b, maybe)
					s.Wake() // the next batch may be ready too
				}
				continue
			} else {
				soon(deadline)
			}
			if !drain {
				continue
			}
			if s.txn != nil {
				err, wait := s.txn.SendBlock(p.Topic, p.ID)
				if err != nil { // an abortable or fatal error: unsent batches fail with it
					if p.Pop(b) {
						s.failTxn(b, err)
						s.Wake()
					}
					continue
				}
				if wait { // AddPartitionsToTxn pending, or no transaction running
					continue
				}
			}
			if b.Attempts > 0 && now.Before(b.RetryAt) {
				soon(b.RetryAt)
				continue
			}
			// Sends waiting for this partition's buffer.memory.partition.max need its
			// batches gone as much as Sends waiting for buffer.memory do.
			if !h.Full && !flushing && b.Attempts == 0 && !p.RoomWaiting() {
				if lingerEnd := h.Created.Add(s.set.Linger); now.Before(lingerEnd) {
					soon(lingerEnd)
					continue
				}
			}
			if s.muted(p, b) {
				if len(p.InFlight) > 0 { // what it holds waits for an answer
					s.blockedBehind(p)
				}
				continue // a response will wake us
			}
			node, ok := s.cfg.Meta.Leader(p.Topic, p.ID)
			if !ok {
				needMeta = true
				continue
			}
			if len(s.byNode[node]) == 0 {
				s.nodeOrder = append(s.nodeOrder, node)
			}
			s.byNode[node] = append(s.byNode[node], p)
		}
		t.Sticky.UpdateLoadStats(&s.load)
		t.WakeRoom() // the new table may let waiting unkeyed records go where they may not before
	}
	if needMeta {
		s.cfg.Meta.Refresh()
	}
	sent := false
	for _, node := range s.nodeOrder {
		sent = s.sendToNode(node, s.byNode[node], now) || sent
	}
	if t := s.updatePace(now, sent); !t.IsZero() {
		soon(t)
	}
	if sent {
		// More may be ready behind what was just drained and slots may remain: look again
		// at once, as Java's sender polls with a zero timeout while nodes are ready.
		return now
	}
	return next
}

// expireInFlight fails in-flight batches whose delivery.timeout.ms passed, as Java's
// getExpiredInflightBatches does: their records complete now as possibly written; the
// batch itself stays held until its request ends, since the connection may still be
// writing its bytes.
func (s *Sender) expireInFlight(p *accumulator.Partition, now time.Time, soon func(time.Time)) {
	for _, b := range p.InFlight {
		if b.Expired {
			continue
		}
		deadline := b.Created.Add(s.set.DeliveryTimeout)
		if now.Before(deadline) {
			soon(deadline)
			continue
		}
		b.Expired = true
		b.RequestTime = now.Sub(b.SentAt) // still in flight when it expired
		b.Hold()
		s.unresolve(p, b)
		s.failExpired(b, true)
	}
}

// unresolve marks p's sequences in doubt after b, possibly written, failed for good
// (rule 8): expired, out of retries or refused. A batch stamped under an older producer
// identity leaves nothing in doubt: the partition's sequences restart under the current
// one.
func (s *Sender) unresolve(p *accumulator.Partition, b *accumulator.Batch) {
	if !b.HasSequence {
		return
	}
	if pid, epoch, _ := s.txn.Identity(); b.ProducerID != pid || b.Epoch != epoch {
		return
	}
	end := int32(uint32(b.BaseSequence)+uint32(b.NumRecords())) & 0x7fffffff
	if b.ProducerID == p.SequencePID && b.Epoch == p.SequenceEpoch && (p.NextExpected == end || seqAfter(p.NextExpected, end)) {
		return // the broker acknowledged past b (passedOver): its next sequence is known
	}
	if !p.Unresolved || seqAfter(end, p.UnresolvedUpTo) {
		p.UnresolvedUpTo = end
	}
	p.Unresolved = true
}

// resolve settles unresolved partitions once nothing of theirs is in flight: resolved if
// the broker acknowledged up to the doubtful sequences (the batch was written after all);
// otherwise an idempotent producer bumps its epoch and restarts sequences (no gap), and a
// transaction becomes abortable.
func (s *Sender) resolve(p *accumulator.Partition) {
	if !p.Unresolved || len(p.InFlight) > 0 {
		return
	}
	if p.NextExpected == p.UnresolvedUpTo || seqAfter(p.NextExpected, p.UnresolvedUpTo) {
		p.Unresolved = false
		return
	}
	if s.transactional() {
		// The failed batch has usually made the transaction abortable already; its own
		// error stays the one reported.
		if s.txn.Err() == nil {
			s.txn.OnProduceError(0, fmt.Errorf("kprod: %s-%d: a batch that may have been written failed", p.Topic, p.ID))
		}
		p.Unresolved = false
		return
	}
	if !s.bumpWanted {
		// RunOnce bumps the epoch at its start: come back at once rather than when the
		// next timer fires, which may be the partition's delivery.timeout.ms.
		s.bumpWanted = true
		s.Wake()
	}
}

// failExpired fails a batch whose delivery.timeout.ms passed; in a transaction that
// dooms the transaction.
func (s *Sender) failExpired(b *accumulator.Batch, maybeWritten bool) {
	err := ErrDeliveryTimeout
	if b.LastErr != nil { // say why it kept failing
		err = fmt.Errorf("%w (last error: %w)", ErrDeliveryTimeout, b.LastErr)
	}
	if s.transactional() {
		kind := s.txn.OnProduceError(0, err)
		s.complete(b, Result{BaseOffset: -1, LogAppendTime: -1, Err: err, MaybeWritten: maybeWritten, TxnKind: kind})
		return
	}
	s.fail(b, err, maybeWritten)
}

// muted reports whether p must wait for its in-flight batches before sending more:
// with max.in.flight=1 order is kept by sending one batch at a time; an idempotent
// partition resends a retried batch only once nothing else is in flight, so its
// sequences reach the broker in order (KIP-98), and sends nothing while unresolved.
func (s *Sender) muted(p *accumulator.Partition, head *accumulator.Batch) bool {
	if len(p.InFlight) == 0 {
		return p.Unresolved
	}
	if s.set.MaxInFlight == 1 {
		return true
	}
	if s.set.Idempotent {
		return p.Unresolved || head.Attempts > 0 || head.SequenceReset || len(p.InFlight) >= config.MaxInFlightForIdempotence
	}
	return false
}

// sendToNode drains the head batch of each ready partition led by node into one Produce
// request of at most max.request.size bytes and sends it, if the node's connection has
// a free slot. It reports whether it sent one.
func (s *Sender) sendToNode(node int32, parts []*accumulator.Partition, now time.Time) bool {
	conn := s.conn(node)
	canDrain := conn != nil && conn.InFlight() < s.set.MaxInFlight
	s.latency.Update(node, now, canDrain) // partitioner.availability.timeout.ms
	if !canDrain {
		if conn != nil { // every slot is taken: what is ready waits for an answer
			for _, p := range parts {
				s.blockedBehind(p)
			}
		}
		return false // the dial or a response wakes us
	}
	maxVersion := int16(wire.MaxProduceVersion)
	if s.transactional() && !s.txn.TV2() {
		// Produce v12 tells the broker the producer follows transactions v2 (KIP-890);
		// without it, stop at v11 (Java's Sender: ProduceRequest.builder with
		// useTransactionV1Version). Idempotent-only producers use the newest version.
		maxVersion = produceTxnV1MaxVersion
	}
	version, err := conn.Versions().Pick(0, wire.MinProduceVersion, maxVersion)
	if err != nil {
		s.log.Warn("produce version", "kprod: broker cannot take Produce v3+", "node", node, "err", err)
		conn.Abort(err)
		return false
	}
	req := s.newRequest(node, conn, version)
	size := 0
	for _, p := range parts {
		h, ok := p.Peek()
		if !ok {
			continue
		}
		b := h.Batch
		if !p.SealHead(b) {
			continue
		}
		enc, err := s.encode(p, b)
		if err != nil {
			if p.Pop(b) {
				s.fail(b, err, errors.Is(err, errStaleMaybeWritten))
			}
			continue
		}
		if size > 0 && size+len(enc)+64 > s.set.MaxRequestSize {
			break // the rest go in the next request
		}
		if !p.Pop(b) {
			continue
		}
		size += len(enc) + 64
		b.StaleInFlight = false // this attempt carries the batch's current sequence
		req.add(b)
	}
	if len(req.batches) == 0 {
		s.recycle(req)
		return false
	}
	// One clock read per request, after encoding and compressing: what follows is the
	// request in flight (each record's Timing.RequestTime).
	req.sentAt = s.now()
	for _, b := range req.batches {
		if b.Drained.IsZero() {
			b.Drained = now // the end of its records' accumulator wait (Timing.QueueTime)
		}
		b.SentAt = req.sentAt
		if !b.Ordered {
			b.Ordered = true
			b.PartitionQueue().Ordered = append(b.PartitionQueue().Ordered, b)
		}
		b.Attempts++
		b.InFlight = true
		b.PartitionQueue().AddInFlight(b)
	}
	if err := s.write(req); err != nil {
		// Not written: put everything back as it was, to go out on a new connection.
		for _, b := range req.batches {
			b.Attempts--
			b.InFlight = false
			b.PartitionQueue().RemoveInFlight(b)
			b.PartitionQueue().Requeue(b)
		}
		s.recycle(req)
		if !errors.Is(err, broker.ErrInFlightLimit) {
			conn.Abort(err)
			s.cfg.Meta.Refresh()
		}
		return false
	}
	s.inflightReqs.Add(1)
	if s.cfg.Metrics != nil {
		s.recordDrained(req, now)
	}
	return true
}

// recordDrained accounts a written Produce request as Java's updateProduceRequestMetrics
// does: per batch its records, bytes, queue time, compression ratio and largest record;
// per request its records. One lock for the whole request.
func (s *Sender) recordDrained(req *request, now time.Time) {
	m := s.cfg.Metrics
	ms := now.UnixMilli()
	records := 0
	m.Lock()
	for _, b := range req.batches {
		n := b.NumRecords()
		records += n
		ratio := 1.0 // Java's ratio of an uncompressed batch
		if s.comp != nil {
			if raw := len(b.Records()); raw > 0 {
				ratio = float64(len(b.Encoded)-wire.BatchHeaderSize) / float64(raw)
			}
		}
		m.DrainedLocked(b.Topic, n, len(b.Encoded), now.Sub(b.Created).Milliseconds(), ratio, b.MaxRecord, ms)
	}
	m.RequestLocked(records, ms)
	m.Unlock()
}

// encode finishes a batch the first time it is drained: stamps the producer id, epoch and
// base sequence when idempotent, and compresses. Retries resend these bytes unchanged
// (byte-identical retries, KIP-98).
func (s *Sender) encode(p *accumulator.Partition, b *accumulator.Batch) ([]byte, error) {
	if s.set.Idempotent && b.HasSequence {
		if pid, epoch, _ := s.txn.Identity(); b.ProducerID != pid || b.Epoch != epoch {
			// The epoch was bumped while this batch waited for a retry. Resending it under
			// the new epoch is safe only if no earlier attempt may have been written;
			// otherwise the broker could not tell it is a duplicate (librdkafka#4953).
			if b.MaybeWritten {
				return nil, errStaleMaybeWritten
			}
			b.HasSequence, b.SequenceReset = false, false
			if b.Encoded != nil {
				b.Restamp = true
			}
		}
	}
	if b.Encoded != nil && !(s.set.Idempotent && !b.HasSequence) {
		if b.Restamp { // its sequence moved down after an earlier batch failed for good
			if err := wire.StampProducer(b.Encoded, b.ProducerID, b.Epoch, b.BaseSequence); err != nil {
				return nil, err
			}
			b.Restamp = false
		}
		return b.Encoded, nil
	}
	opts := wire.BatchOptions{Transactional: s.set.TransactionalID != "", DeferCRC: s.set.Idempotent}
	var enc []byte
	if b.Encoded != nil { // re-sequenced after an epoch bump: same records, new stamp
		enc = b.Encoded
	} else if s.comp != nil {
		out, err := b.Builder().FinishCompressed(b.CompressBuffer(), wire.Codec(s.comp.Codec()), s.comp.Compress, opts)
		if err != nil {
			return nil, err
		}
		enc = out
		b.SetEncoded(enc, out)
	} else {
		enc = b.Builder().Finish(opts)
		b.SetEncoded(enc, nil)
	}
	if s.set.Idempotent {
		if !b.HasSequence { // split halves inherit their sequences
			pid, epoch, _ := s.txn.Identity()
			if p.SequencePID != pid || p.SequenceEpoch != epoch {
				p.SequencePID, p.SequenceEpoch, p.NextSequence, p.NextExpected = pid, epoch, 0, 0
			}
			b.ProducerID, b.Epoch, b.BaseSequence, b.HasSequence = pid, epoch, p.NextSequence, true
			p.NextSequence = int32(uint32(p.NextSequence)+uint32(b.NumRecords())) & 0x7fffffff
		}
		// The builder's own method: for an uncompressed batch it reuses the records'
		// checksum taken while appending (wire/crc.go).
		if err := b.Builder().StampProducer(enc, b.ProducerID, b.Epoch, b.BaseSequence); err != nil {
			return nil, err
		}
		b.Restamp = false
	}
	return enc, nil
}

// errStaleMaybeWritten fails a batch that waited for a retry across an epoch bump after
// an attempt that may have been written.
var errStaleMaybeWritten = errors.New("kprod: producer epoch bumped while the batch, possibly written, awaited a retry")

// failTxn fails a batch that was never sent because the transaction is doomed.
func (s *Sender) failTxn(b *accumulator.Batch, err error) {
	s.complete(b, Result{BaseOffset: -1, LogAppendTime: -1, Err: err, MaybeWritten: b.MaybeWritten})
}

// fail completes a batch with an error.
func (s *Sender) fail(b *accumulator.Batch, err error, maybeWritten bool) {
	s.complete(b, Result{BaseOffset: -1, LogAppendTime: -1, Err: err, MaybeWritten: maybeWritten})
}
