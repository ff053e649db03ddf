package sender

import (
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kprod-io/kprod/internal/accumulator"
)

// TestPassedOverBatch: the broker acknowledged the second batch of a partition while the
// first, refused, was waiting for its retry (KAFKA-15591 before Kafka 4.5); the first's
// retry is refused OUT_OF_ORDER_SEQUENCE_NUMBER. Never written, it is retried under a
// bumped epoch; possibly written by its first attempt, it fails at once as possibly
// written, with no bump and nothing left in doubt.
func TestPassedOverBatch(t *testing.T) {
	for _, tc := range []struct {
		name  string
		first int16 // the first attempt's answer
		bump  bool
	}{
		{"not-written", kerr.NotLeaderForPartition.Code, true},
		{"maybe-written", codeRequestTimedOut, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			const v = 9
			a, ra, b, rb := h.sendTwo(t, 2)
			p := a.PartitionQueue()
			h.answer(ra, produceResponse(v, map[*accumulator.Batch]int16{a: tc.first}, a), nil)
			h.answer(rb, produceResponse(v, map[*accumulator.Batch]int16{b: 0}, b), nil)
			if p.NextExpected != 3 {
				t.Fatalf("next expected sequence %d after the second batch was acknowledged; want 3", p.NextExpected)
			}
			h.clock.Add(h.s.backoff(1))
			ra = h.send(t, v, a)
			h.answer(ra, produceResponse(v, map[*accumulator.Batch]int16{a: codeOutOfOrder}, a), nil)
			if h.s.bumpWanted != tc.bump {
				t.Errorf("epoch bump wanted %v; want %v", h.s.bumpWanted, tc.bump)
			}
			if p.Unresolved {
				t.Error("the partition is left in doubt; the broker acknowledged past the batch")
			}
			if tc.bump {
				if len(h.done) != 0 || p.Len() != 1 {
					t.Fatalf("%d completions, %d queued; want the batch queued for a retry", len(h.done), p.Len())
				}
				return
			}
			if len(h.done) != 2 || h.done[0].b != a || h.done[0].r.Err == nil || !h.done[0].r.MaybeWritten {
				t.Fatalf("completions %+v; want the first batch failed, possibly written, then the second", h.done)
			}
		})
	}
}

// TestStaleInFlightAck: the first batch of a partition fails for good, not written
// (INVALID_RECORD), while the second is in flight behind it; its sequence moves down
// (releaseSequences), but the attempt in flight carries the old one, and a broker before
// Kafka 4.5, holding no state of the producer there, takes it. Its acknowledgement does
// not say where the broker's sequence stands: the producer must not count from it (the
// next batch would repeat a sequence the broker holds and be "acknowledged" unwritten)
// but bump its epoch.
func TestStaleInFlightAck(t *testing.T) {
	h := newHarness(t, nil)
	const v = 9
	a, ra, b, rb := h.sendTwo(t, 1)
	p := a.PartitionQueue()
	h.answer(ra, produceResponse(v, map[*accumulator.Batch]int16{a: kerr.InvalidRecord.Code}, a), nil)
	if b.BaseSequence != 0 || !b.StaleInFlight {
		t.Fatalf("second batch at sequence %d, stale in flight %v; want moved down to 0, with its attempt stale", b.BaseSequence, b.StaleInFlight)
	}
	h.answer(rb, produceResponse(v, map[*accumulator.Batch]int16{b: 0}, b), nil)
	if len(h.done) != 2 || h.done[0].r.Err == nil || h.done[1].r.Err != nil {
		t.Fatalf("completions %+v; want the first failed and the second acknowledged", h.done)
	}
	if !h.s.bumpWanted {
		t.Error("a stale attempt was acknowledged and no epoch bump is wanted")
	}
	if p.NextExpected != 0 {
		t.Errorf("next expected sequence %d; a stale acknowledgement must not move it", p.NextExpected)
	}
}

// TestAckedNeverMovesBack: a retry acknowledged as a duplicate after a later batch was
// acknowledged leaves the expected sequence where the later one put it (Java's
// maybeUpdateLastAckedSequence keeps the highest).
func TestAckedNeverMovesBack(t *testing.T) {
	h := newHarness(t, nil)
	const v = 9
	a, ra, b, rb := h.sendTwo(t, 2)
	p := a.PartitionQueue()
	h.answer(ra, nil, errors.New("connection lost")) // possibly written: retried
	h.answer(rb, produceResponse(v, map[*accumulator.Batch]int16{b: 0}, b), nil)
	if p.NextExpected != 3 {
		t.Fatalf("next expected %d after the second batch; want 3", p.NextExpected)
	}
	h.clock.Add(time.Second)
	ra = h.send(t, v, a)
	h.answer(ra, produceResponse(v, map[*accumulator.Batch]int16{a: codeDuplicateSequence}, a), nil)
	if p.NextExpected != 3 {
		t.Errorf("next expected %d after the first batch's duplicate; want it kept at 3", p.NextExpected)
	}
}

// TestCompleteInOrderAllocatesNothing: completing a partition's oldest batch, the usual
// case, neither boxes its result into Batch.Outcome nor gives up the completion queue's
// array; each did once per batch (0.19 allocations per record at 1,000 keyed partitions
// in bench/).
func TestCompleteInOrderAllocatesNothing(t *testing.T) {
	h := newHarness(t, nil)
	b := h.batch(t, "t", 0, 1)
	p := b.PartitionQueue()
	if !p.Pop(b) {
		t.Fatal("the batch is not its partition's head")
	}
	b.Ordered = true
	completed := 0
	h.s.cfg.Complete = func(x *accumulator.Batch, r Result) {
		if x == b && r.BaseOffset == 7 {
			completed++
		}
	}
	r := Result{BaseOffset: 7, LogAppendTime: -1}
	n := testing.AllocsPerRun(100, func() {
		p.Ordered = append(p.Ordered, b)
		h.s.complete(b, r)
	})
	if n != 0 {
		t.Errorf("%v allocations per completion; want 0", n)
	}
	if completed != 101 || len(p.Ordered) != 0 {
		t.Errorf("%d completions with the result, %d batches still ordered; want 101 and 0", completed, len(p.Ordered))
	}
}

// sendTwo puts two batches of t/0 in flight, each in a request of its own (Produce v9):
// the first of n records, then one of a single record behind it.
func (h *testHarness) sendTwo(t *testing.T, n int) (a *accumulator.Batch, ra *request, b *accumulator.Batch, rb *request) {
	t.Helper()
	a = h.batch(t, "t", 0, n)
	ra = h.send(t, 9, a)
	b = h.batch(t, "t", 0, 1)
	rb = h.send(t, 9, b)
	return a, ra, b, rb
}
