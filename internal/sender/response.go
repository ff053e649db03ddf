package sender

import (
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"kprod/internal/accumulator"
	"kprod/internal/broker"
)

// Kafka error codes the sender treats specially.
const (
	codeMessageTooLarge   int16 = 10
	codeDuplicateSequence int16 = 46
	codeOutOfOrder        int16 = 45
	codeUnknownProducerID int16 = 59
	codeInvalidEpoch      int16 = 47
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
func (e *BrokerError) Retriable() bool {
	var ke *kerr.Error
	return errors.As(kerr.ErrorForCode(e.Code), &ke) && ke.Retriable
}

// handleResponses processes every answered request.
func (s *Sender) handleResponses() {
	s.respMu.Lock()
	rs := s.resps
	s.resps = nil
	s.respMu.Unlock()
	for _, r := range rs {
		s.handle(r)
		s.recycle(r)
	}
}

func (s *Sender) handle(r *request) {
	now := s.now()
	for i, b := range r.batches {
		p := b.PartitionQueue()
		b.InFlight = false
		p.InFlight--
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
		default:
			berr := &BrokerError{Code: res.code, Message: res.msg, RecordErrors: res.recordErrs}
			if res.code == codeMessageTooLarge && b.NumRecords() > 1 {
				// Not a retry: the halves go back in order and are sent as new batches
				// (rule 11 of the idempotence reference; Java's splitAndReenqueue).
				halves, err := s.acc.Split(b)
				if err == nil {
					p.Requeue(halves[1])
					p.Requeue(halves[0])
					continue
				}
				s.log.Warn("kprod: cannot split a batch the broker found too large", "err", err)
			}
			if berr.Retriable() {
				s.cfg.Meta.Refresh()
			}
			s.retryOrFail(b, berr, berr.Retriable(), now)
		}
	}
}

func (s *Sender) succeed(b *accumulator.Batch, base, appendTime int64) {
	p := b.PartitionQueue()
	if base >= 0 {
		p.LastAckedOffset = base + int64(b.NumRecords()) - 1
	}
	s.cfg.Complete(b, Result{BaseOffset: base, LogAppendTime: appendTime})
}

// retryOrFail requeues a batch for another attempt when the error is retriable, retries
// remain and delivery.timeout.ms has not passed; otherwise it fails the batch.
func (s *Sender) retryOrFail(b *accumulator.Batch, err error, retriable bool, now time.Time) {
	expired := !now.Before(b.Created.Add(s.set.DeliveryTimeout))
	if retriable && !expired && b.Attempts <= s.set.Retries {
		b.RetryAt = now.Add(s.backoff(b.Attempts))
		b.PartitionQueue().Requeue(b)
		return
	}
	if expired && retriable {
		err = fmt.Errorf("%w (last error: %w)", ErrDeliveryTimeout, err)
	}
	s.fail(b, err, b.MaybeWritten)
}
