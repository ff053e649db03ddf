package sender

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kprod-io/kprod/internal/accumulator"
	"github.com/kprod-io/kprod/internal/broker"
	"github.com/kprod-io/kprod/internal/compress"
	"github.com/kprod-io/kprod/internal/wire"
)

// Kafka error codes the sender treats specially.
const (
	codeMessageTooLarge   int16 = 10
	codeDuplicateSequence int16 = 46
	codeOutOfOrder        int16 = 45
	codeUnknownProducerID int16 = 59
	codeInvalidEpoch      int16 = 47
	// Errors after which the batch may be in the leader's log.
	codeRequestTimedOut              int16 = 7
	codeNotEnoughReplicasAfterAppend int16 = 20
	codeUnknownServerError           int16 = -1
)

// BrokerError is a Kafka error code from a Produce response, before the producer turns
// it into its public error type.
type BrokerError struct {
	Code    int16
	Message string
	// RecordErrors maps record indexes to the broker's reasons (KIP-467).
	RecordErrors map[int32]string
}

func (e *BrokerError) Error() string {
	return fmt.Sprintf("kprod: broker error %s: %s", kerr.ErrorForCode(e.Code), e.Message)
}

// Retriable reports Kafka's classification of the code.
func (e *BrokerError) Retriable() bool { return RetriableCode(e.Code) }

// codeConcurrentTransactions is retriable in Kafka (ConcurrentTransactionsException extends
// RetriableException), though franz-go's table says otherwise; Kafka 4 brokers answer a
// Produce with it while the previous transaction's markers are being written (KIP-890),
// "very common" by the broker's own comment. Found by scripts/chaos.
const codeConcurrentTransactions int16 = 51

// RetriableCode reports whether Kafka's Java client retries code.
func RetriableCode(code int16) bool {
	if code == codeConcurrentTransactions {
		return true
	}
	var ke *kerr.Error
	return errors.As(kerr.ErrorForCode(code), &ke) && ke.Retriable
}

// handleResponses processes every answered request.
func (s *Sender) handleResponses() {
	s.respMu.Lock()
	rs := s.resps
	s.resps = nil
	s.respMu.Unlock()
	s.pace.answered = s.pace.answered || len(rs) > 0
	for _, r := range rs {
		s.inflightReqs.Add(-1)
		s.handle(r)
		s.recycle(r)
	}
}

func (s *Sender) handle(r *request) {
	now := s.now()
	if m := s.cfg.Metrics; m != nil && r.err == nil && s.set.Acks != 0 {
		// Java's recordLatency: answered requests only, from send to answer.
		m.Answered(r.node, now.Sub(r.sentAt).Milliseconds(), r.resp.ThrottleMillis, now.UnixMilli())
	}
	for i, b := range r.batches {
		p := b.PartitionQueue()
		b.InFlight = false
		p.RemoveInFlight(b)
		if b.Expired {
			// delivery.timeout.ms already failed its records (as possibly written); a
			// late success still tells where the broker expects the next sequence.
			if r.err == nil && i < len(r.results) && r.results[i].code == 0 && b.HasSequence {
				s.acked(p, b)
			}
			s.acc.Done(b)
			continue
		}
		b.RequestTime = now.Sub(r.sentAt)
		if r.err != nil {
			// The request failed as a whole (connection lost, timed out, malformed
			// answer): retry every batch; a written request may have been applied.
			written := true
			retriable := true
			var re *broker.RequestError
			if errors.As(r.err, &re) {
				written = re.MaybeWritten()
				retriable = re.Retriable()
			}
			if written {
				b.MaybeWritten = true
			}
			s.cfg.Meta.Refresh()
			s.retryOrFail(b, r.err, retriable, now)
			continue
		}
		if s.set.Acks == 0 {
			s.succeed(b, -1, -1)
			continue
		}
		res := r.results[i]
		if !res.answered {
			b.MaybeWritten = true
			s.retryOrFail(b, fmt.Errorf("kprod: broker %d did not answer for %s-%d", r.node, b.Topic, b.Partition), true, now)
			continue
		}
		switch res.code {
		case 0:
			s.succeed(b, res.baseOffset, res.logAppendTime)
		case codeDuplicateSequence:
			// The broker already has this batch (a retry of a write that succeeded,
			// KIP-98): success, with the offset unknown.
			s.succeed(b, -1, -1)
		case codeOutOfOrder, codeUnknownProducerID, codeInvalidEpoch:
			berr := &BrokerError{Code: res.code, Message: res.msg}
			if res.code == codeOutOfOrder && s.behindAcked(p, b) {
				s.passedOver(p, b, berr, now)
				continue
			}
			if res.code == codeOutOfOrder && (b.SequenceReset || b.BaseSequence != p.NextExpected) {
				// Not the batch the broker expects next: an earlier one failed or is
				// being retried, so this one is retried in order behind it (Java's
				// canRetry), in a transaction too.
				s.retryOrFail(b, berr, true, now)
				continue
			}
			if s.transactional() {
				// Rules 5-7: in a transaction, sequence and epoch trouble is abortable.
				s.retryOrFail(b, berr, false, now)
				continue
			}
			// Idempotent producer: the broker lost or rejected our sequence state (rules
			// 5 and 6, KIP-360). The batch was not written; bump the epoch once nothing
			// is in flight and resend it under the new one. Also when it fails for good:
			// the broker's sequence state is not what this producer thinks.
			s.bumpWanted = true
			s.retryOrFail(b, berr, true, now)
		default:
			berr := &BrokerError{Code: res.code, Message: res.msg, RecordErrors: res.recordErrs}
			switch res.code {
			case codeRequestTimedOut, codeNotEnoughReplicasAfterAppend, codeUnknownServerError:
				// The leader may have appended the batch before failing to replicate it
				// in time (or failing in an unknown way): a later failure must say it
				// may be in the log, and its sequences are not given back.
				b.MaybeWritten = true
			}
			if res.code == codeMessageTooLarge && b.NumRecords() > 1 {
				// Not a retry: the halves go back in order and are sent as new batches
				// (rule 11 of the idempotence reference; Java's splitAndReenqueue).
				halves, err := s.acc.Split(b)
				if err == nil {
					if m := s.cfg.Metrics; m != nil {
						m.Split(now.UnixMilli())
					}
					// The halves take the original's place in the completion order.
					for i, x := range p.Ordered {
						if x == b {
							halves[0].Ordered, halves[1].Ordered = true, true
							p.Ordered = append(p.Ordered[:i], append([]*accumulator.Batch{halves[0], halves[1]}, p.Ordered[i+1:]...)...)
							break
						}
					}
					p.Requeue(halves[1])
					p.Requeue(halves[0])
					continue
				}
				s.log.Warn("split", "kprod: cannot split a batch the broker found too large", "err", err)
			}
			if res.code == codeMessageTooLarge {
				berr.Message = s.tooLargeMessage(b, res.msg)
			}
			if berr.Retriable() {
				if res.leader >= 0 { // KIP-951: the broker named the new leader
					s.cfg.Meta.HintLeader(b.Topic, b.Partition, res.leader, res.leaderEpoch)
				}
				s.cfg.Meta.Refresh()
			}
			s.retryOrFail(b, berr, berr.Retriable(), now)
		}
	}
}

// behindAcked reports whether the broker acknowledged a later batch of p under b's
// producer id and epoch while b itself is not in the log: it expects a sequence past
// b's, so b can never be written under this epoch, and retrying it "in order" would
// loop until delivery.timeout.ms.
//
// A broker before Kafka 4.5 does this to a partition that holds no state of the
// producer: it takes any first sequence (ProducerAppendInfo.checkSequence), so when the
// first batch sent to a new partition is refused (NOT_LEADER_OR_FOLLOWER while the
// partition is being created) and the next one, already in flight, is accepted, the
// first is passed over (KAFKA-15591, fixed by the broker in 4.5). Found by
// TestRealPerfPrintMetrics: one batch of 148 records failed after 120 s.
func (s *Sender) behindAcked(p *accumulator.Partition, b *accumulator.Batch) bool {
	return b.HasSequence && !b.SequenceReset && b.ProducerID == p.SequencePID && b.Epoch == p.SequenceEpoch &&
		seqAfter(p.NextExpected, b.BaseSequence)
}

// passedOver handles a batch the broker passed over (behindAcked). Not written by any
// attempt, an idempotent producer bumps its epoch once nothing is in flight and sends
// it again from sequence 0: it lands after the batch that overtook it, which the broker
// already holds, but it is not lost. In a transaction the batch fails, abortable. A
// batch that may have been written by an earlier attempt fails, possibly written: the
// broker keeps only its last five batches for de-duplication, so a resend could write
// it twice.
func (s *Sender) passedOver(p *accumulator.Partition, b *accumulator.Batch, berr *BrokerError, now time.Time) {
	if !b.MaybeWritten && !s.transactional() {
		if s.retryOrFail(b, berr, true, now) {
			s.bumpWanted = true // not when the batch failed for good: nothing to resend
		}
		return
	}
	berr.Message = fmt.Sprintf("%s (the broker holds later records of %s-%d: this batch was passed over)",
		strings.TrimRight(berr.Message, ". "), p.Topic, p.ID)
	s.retryOrFail(b, berr, false, now)
}

// tooLargeMessage adds to the broker's MESSAGE_TOO_LARGE message what it leaves out and a
// user needs to act: the size of the batch the broker measured against the topic's
// max.message.bytes (header included, compressed when compression is on), the codec, the
// record count and the uncompressed size. Only a batch of one record (or one that could
// not be split) gets here: larger ones are split and sent again.
func (s *Sender) tooLargeMessage(b *accumulator.Batch, msg string) string {
	msg = strings.TrimRight(msg, ". ")
	if msg == "" {
		msg = "the broker refused the record batch as too large"
	}
	limit := "the topic's max.message.bytes (or the broker's message.max.bytes)"
	if n := s.cfg.Meta.MaxMessageBytes(b.Topic); n > 0 {
		limit = fmt.Sprintf("topic %s's max.message.bytes=%d", b.Topic, n)
	}
	return fmt.Sprintf("%s; the record batch was %d bytes (compression.type=%s, %d record(s), %d bytes uncompressed), more than %s",
		msg, len(b.Encoded), compress.Codec(s.set.Codec), b.NumRecords(), wire.BatchHeaderSize+len(b.Records()), limit)
}

func (s *Sender) succeed(b *accumulator.Batch, base, appendTime int64) {
	p := b.PartitionQueue()
	if base >= 0 {
		p.LastAckedOffset = base + int64(b.NumRecords()) - 1
	}
	if b.HasSequence {
		s.acked(p, b)
	}
	s.complete(b, Result{BaseOffset: base, LogAppendTime: appendTime})
}

// acked records that the broker holds b: it expects the sequence after it next. It only
// moves forward, as Java's maybeUpdateLastAckedSequence keeps the highest: a retry
// acknowledged as a duplicate after later batches says nothing new.
func (s *Sender) acked(p *accumulator.Partition, b *accumulator.Batch) {
	if b.ProducerID != p.SequencePID || b.Epoch != p.SequenceEpoch {
		return
	}
	if b.StaleInFlight {
		// The acknowledged attempt carried the sequence b had before releaseSequences
		// moved it down, and the broker took it: a broker before Kafka 4.5 takes any first
		// sequence from a producer it holds no state of on the partition, so the batch
		// that failed ahead of b left no gap there. The broker now expects the sequence
		// after b's old one; the next batch, stamped after b's new one, would repeat a
		// sequence the broker holds and be "acknowledged" as a duplicate without being
		// written. An idempotent producer restarts its sequences under a new epoch; in a
		// transaction the failed batch already made the transaction abortable, and the
		// abort takes a new epoch.
		if !s.transactional() {
			s.bumpWanted = true
		}
		return
	}
	end := int32(uint32(b.BaseSequence)+uint32(b.NumRecords())) & 0x7fffffff
	if seqAfter(end, p.NextExpected) {
		p.NextExpected = end
	}
}

// releaseSequences gives back the sequences of a batch that failed for good and was
// certainly not written: every later batch of the partition moves down by its record
// count and is stamped again before its next send, so the broker sees no gap (Java's
// adjustSequencesDueToFailedBatch). Batches still in flight with their old sequences
// will fail OUT_OF_ORDER_SEQUENCE_NUMBER and be retried with the new ones.
func (s *Sender) releaseSequences(b *accumulator.Batch) {
	p := b.PartitionQueue()
	if !b.HasSequence || b.ProducerID != p.SequencePID || b.Epoch != p.SequenceEpoch {
		return
	}
	if seqAfter(p.NextExpected, b.BaseSequence) {
		// The broker acknowledged past b (behindAcked): the batches after it are
		// where the broker expects them, and nothing can be given back.
		return
	}
	n := uint32(b.NumRecords())
	move := func(x *accumulator.Batch) {
		if x == b || !x.HasSequence || x.ProducerID != b.ProducerID || x.Epoch != b.Epoch ||
			!seqAfter(x.BaseSequence, b.BaseSequence) {
			return
		}
		x.BaseSequence = int32(uint32(x.BaseSequence)-n) & 0x7fffffff
		x.SequenceReset = true
		x.Restamp = x.Encoded != nil
		x.StaleInFlight = x.StaleInFlight || x.InFlight
	}
	for _, x := range p.InFlight {
		move(x)
	}
	for _, x := range p.Queued() {
		move(x)
	}
	p.NextSequence = int32(uint32(p.NextSequence)-n) & 0x7fffffff
}

// seqAfter reports whether sequence a comes after b, across the wrap at MaxInt32.
func seqAfter(a, b int32) bool { return a != b && (a-b)&0x7fffffff < 1<<30 }

// retryOrFail requeues a batch for another attempt when the error is retriable, retries
// remain and delivery.timeout.ms has not passed, and reports true; otherwise it fails the
// batch.
func (s *Sender) retryOrFail(b *accumulator.Batch, err error, retriable bool, now time.Time) bool {
	if s.shutdownCause != nil { // closing: report the close, not the connection it tore down
		s.shutdownFailed++
		s.fail(b, s.shutdownCause, b.MaybeWritten)
		return false
	}
	expired := !now.Before(b.Created.Add(s.set.DeliveryTimeout))
	if retriable && !expired && b.Attempts <= s.set.Retries {
		// Keyed by topic (no space: never another key): a retry storm is one line
		// per topic a minute, not one per batch.
		s.log.Debug(b.Topic, "kprod: retrying batch", "topic", b.Topic, "partition", b.Partition, "pid", b.ProducerID, "epoch", b.Epoch, "seq", b.BaseSequence, "attempt", b.Attempts, "err", err)
		b.LastErr = err
		b.RetryAt = now.Add(s.backoff(b.Attempts))
		if m := s.cfg.Metrics; m != nil { // Java's reenqueueBatch: record-retry
			m.Retried(b.Topic, b.NumRecords(), now.UnixMilli())
		}
		b.PartitionQueue().Requeue(b)
		return true
	}
	if expired && retriable {
		err = fmt.Errorf("%w (last error: %w)", ErrDeliveryTimeout, err)
	}
	if b.MaybeWritten {
		// An earlier attempt may be in the log: its sequences cannot be given back, and
		// whether the broker expects the sequence after it is unknown. Nothing more is
		// sent to the partition until an acknowledgement past it settles that, or the
		// epoch is bumped (Java's handleFailedBatch and maybeResolveSequences, KIP-360);
		// otherwise every later batch would be refused OUT_OF_ORDER_SEQUENCE_NUMBER for
		// good (issue 10). Also when delivery.timeout.ms passed before expiry ran.
		s.unresolve(b.PartitionQueue(), b)
	} else {
		s.releaseSequences(b)
	}
	if s.transactional() {
		var code int16
		var be *BrokerError
		if errors.As(err, &be) {
			code = be.Code
		}
		kind := s.txn.OnProduceError(code, err)
		s.complete(b, Result{BaseOffset: -1, LogAppendTime: -1, Err: err, MaybeWritten: b.MaybeWritten, TxnKind: kind})
		return false
	}
	s.fail(b, err, b.MaybeWritten)
	return false
}

func (s *Sender) transactional() bool { return s.txn != nil && s.txn.Transactional() }
