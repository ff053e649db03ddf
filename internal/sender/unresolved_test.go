package sender

import (
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kprod-io/kprod/internal/accumulator"
	"github.com/kprod-io/kprod/internal/config"
)

// TestLateRetriableAnswerUnresolves: issue 10's window. A batch answered REQUEST_TIMED_OUT
// (possibly written) is resent; the answer to the resend, retriable, is handled after
// delivery.timeout.ms passed but before the expiry of in-flight batches ran, so
// retryOrFail fails it itself. Its sequences stay in doubt: the partition is unresolved,
// sends nothing new, and once nothing is in flight the epoch is bumped (KIP-360). Before
// the fix the partition stayed resolved and every later batch was refused
// OUT_OF_ORDER_SEQUENCE_NUMBER.
func TestLateRetriableAnswerUnresolves(t *testing.T) {
	h := newHarness(t, func(s *config.Settings) { s.DeliveryTimeout = time.Second })
	const v = 9
	b := h.batch(t, "t", 0, 2)
	p := b.PartitionQueue()
	r := h.send(t, v, b)
	h.clock.Add(100 * time.Millisecond)
	h.answer(r, produceResponse(v, map[*accumulator.Batch]int16{b: codeRequestTimedOut}, b), nil)
	if len(h.done) != 0 || !b.MaybeWritten || p.Len() != 1 {
		t.Fatalf("after REQUEST_TIMED_OUT: %d completions, MaybeWritten %v, %d queued; want a retry, possibly written", len(h.done), b.MaybeWritten, p.Len())
	}
	h.clock.Add(time.Second) // the backoff passed, and so did delivery.timeout.ms
	r = h.send(t, v, b)
	next := h.batch(t, "t", 0, 1)
	h.answer(r, produceResponse(v, map[*accumulator.Batch]int16{b: kerr.NotEnoughReplicas.Code}, b), nil)
	if len(h.done) != 1 || h.done[0].b != b {
		t.Fatalf("%d completions; want the batch failed", len(h.done))
	}
	if res := h.done[0].r; !errors.Is(res.Err, ErrDeliveryTimeout) || !res.MaybeWritten {
		t.Errorf("the batch failed with %v, MaybeWritten %v; want a delivery timeout, possibly written", res.Err, res.MaybeWritten)
	}
	if !p.Unresolved || p.UnresolvedUpTo != b.BaseSequence+2 {
		t.Fatalf("partition unresolved %v up to %d; want unresolved up to %d", p.Unresolved, p.UnresolvedUpTo, b.BaseSequence+2)
	}
	if !h.s.muted(p, next) {
		t.Error("the next batch may be sent while the partition's sequence is in doubt")
	}
	h.s.resolve(p)
	if !h.s.bumpWanted {
		t.Error("nothing in flight, nothing acknowledged past the doubtful batch, and no epoch bump wanted")
	}
}

// TestRefusedPossiblyWrittenUnresolves: a batch answered NOT_ENOUGH_REPLICAS_AFTER_APPEND
// (possibly written) is refused INVALID_RECORD on its resend: it fails for good as
// possibly written, its sequences stay in doubt, and the sender runs again at once to
// bump the epoch rather than at its next timer (found by TestWedgeOutOfOrderBehindFailedHead
// under -race: the bump waited for the next batch's delivery.timeout.ms).
func TestRefusedPossiblyWrittenUnresolves(t *testing.T) {
	h := newHarness(t, nil)
	const v = 9
	b := h.batch(t, "t", 0, 3)
	p := b.PartitionQueue()
	r := h.send(t, v, b)
	h.answer(r, produceResponse(v, map[*accumulator.Batch]int16{b: codeNotEnoughReplicasAfterAppend}, b), nil)
	r = h.send(t, v, b)
	h.answer(r, produceResponse(v, map[*accumulator.Batch]int16{b: kerr.InvalidRecord.Code}, b), nil)
	if len(h.done) != 1 || !h.done[0].r.MaybeWritten {
		t.Fatalf("%d completions (%+v); want the batch failed, possibly written", len(h.done), h.done)
	}
	if !p.Unresolved || p.UnresolvedUpTo != b.BaseSequence+3 {
		t.Fatalf("partition unresolved %v up to %d; want unresolved up to %d", p.Unresolved, p.UnresolvedUpTo, b.BaseSequence+3)
	}
	select { // drop wake-ups from the test's own calls
	case <-h.s.wakeCh:
	default:
	}
	h.s.sendReady(h.clock.Now(), true)
	if !h.s.bumpWanted {
		t.Fatal("nothing in flight and no epoch bump wanted")
	}
	select {
	case <-h.s.wakeCh:
	default:
		t.Error("an epoch bump is wanted but the sender is not woken to ask for it")
	}
}
