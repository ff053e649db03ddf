package kprod

import (
	"time"

	"github.com/kprod-io/kprod/internal/accumulator"
)

// Timing is how one record's delivery went, in RecordMetadata and in a *DeliveryError:
// what Java's producer only reports as averages over all records (record-queue-time-avg,
// request-latency-avg, record-retry-rate), per record. Users of other clients keep
// their own map of send times to learn a record's latency (confluent-kafka-go#102).
//
// The producer reads no clock per record for it: Send reads the clock once anyway (the
// record's timestamp), and the sender times each batch (first drain, request written,
// answer, outcome); a record's figures are its batch's less its own send offset. The
// figures are accurate to a few microseconds; they are zero for a record Send refused.
type Timing struct {
	// QueueTime is how long the record waited in the producer before its batch was
	// first drained into a Produce request: linger.ms, batch.size filling, a full
	// max.in.flight window, a leader or a producer id to wait for. Java's
	// record-queue-time for one record. For a record never sent it runs to its outcome.
	QueueTime time.Duration
	// RequestTime is how long the last Produce request that carried the record was in
	// flight: from written to its connection to answered (Java's request-latency), or
	// to delivery.timeout.ms failing it. Zero when never sent.
	RequestTime time.Duration
	// Retries counts the record's batch's sends after the first (Java's record-retry).
	// A batch split after MESSAGE_TOO_LARGE goes on as two new batches: their sends
	// count from zero (the split is not a retry).
	Retries int
	// Latency is the whole delivery, from Send taking the record to its outcome: at
	// least QueueTime + RequestTime, more by retries' backoffs and earlier attempts.
	Latency time.Duration
}

// batchTiming is a batch's share of its records' Timing, taken once per batch: each
// record's figures are these less its own send offset (accumulator.Pending.Sent).
type batchTiming struct {
	queue   time.Duration // batch creation to first drain (to its outcome, if never drained)
	tail    time.Duration // first drain to outcome
	request time.Duration
	retries int
}

func timingOf(b *accumulator.Batch) batchTiming {
	done := b.DoneAt
	if done.IsZero() { // failed by Close before the sender decided it
		done = time.Now()
	}
	drained := b.Drained
	if drained.IsZero() {
		drained = done
	}
	return batchTiming{queue: drained.Sub(b.Created), tail: done.Sub(drained), request: b.RequestTime,
		retries: max(b.Attempts-1, 0)}
}

// of returns the Timing of a record sent sent microseconds after its batch's creation.
func (t *batchTiming) of(sent int32) Timing {
	q := max(t.queue-time.Duration(sent)*time.Microsecond, 0) // sent is truncated to microseconds
	return Timing{QueueTime: q, RequestTime: t.request, Retries: t.retries, Latency: q + t.tail}
}
