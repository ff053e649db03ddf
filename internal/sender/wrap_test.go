package sender

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod/internal/accumulator"
	"github.com/kprod-io/kprod/internal/config"
	"github.com/kprod-io/kprod/internal/txn"
)

// Rule 1 of the idempotence reference: a partition's sequence is an int32 that wraps
// from MaxInt32 to 0 (Java's DefaultRecordBatch.incrementSequence). kfake cannot be made
// to start a producer near MaxInt32 (the client picks sequences from 0), so these tests
// drive the sender's sequence bookkeeping directly across the wrap.

// wrapSender returns an idempotent sender whose producer identity is the manager's
// initial one (-1/-1), and topic t's partition 0 with its next sequence at next.
func wrapSender(t *testing.T, next int32) (*Sender, *accumulator.Accumulator, *accumulator.Partition) {
	t.Helper()
	acc := accumulator.New(accumulator.Config{BatchSize: 16 << 10, BufferMemory: 1 << 20})
	m := txn.New(txn.Config{})
	t.Cleanup(m.Close)
	s, err := New(Config{Settings: config.Settings{Idempotent: true, BatchSize: 16 << 10}, Acc: acc, Txn: m, Pool: testPool(t),
		Complete: func(*accumulator.Batch, Result) {}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(nil) })
	p := acc.Topic("t").Partition(0)
	pid, epoch, _ := m.Identity()
	p.SequencePID, p.SequenceEpoch, p.NextSequence, p.NextExpected = pid, epoch, next, next
	return s, acc, p
}

// wrapBatch appends n records to partition 0 and returns the batch holding them (sealed
// when it is the head, so that later appends open a new one).
func wrapBatch(t *testing.T, acc *accumulator.Accumulator, p *accumulator.Partition, n int) *accumulator.Batch {
	t.Helper()
	for i := range n {
		r := &accumulator.Rec{Timestamp: 1, Value: fmt.Appendf(nil, "v%d", i)}
		if _, ok, err := acc.Append(context.Background(), time.Now().Add(time.Second), acc.Topic("t"),
			accumulator.Target{Partition: 0}, r); !ok || err != nil {
			t.Fatalf("Append: %v %v", ok, err)
		}
	}
	qs := p.Queued()
	b := qs[len(qs)-1]
	if b.NumRecords() != n {
		t.Fatalf("the batch holds %d records, want %d", b.NumRecords(), n)
	}
	p.SealHead(b)
	return b
}

// firstSequence decodes the base sequence stamped in an encoded batch.
func firstSequence(t *testing.T, enc []byte) int32 {
	t.Helper()
	var rb kmsg.RecordBatch
	if err := rb.ReadFrom(enc); err != nil {
		t.Fatalf("decode the encoded batch: %v", err)
	}
	return rb.FirstSequence
}

// TestSequenceWrapStamp: a batch starting at MaxInt32-1 with 3 records takes MaxInt32-1,
// MaxInt32 and 0; the next batch starts at 1; an acknowledgement of the first moves the
// expected sequence to 1, which counts as after MaxInt32-1.
func TestSequenceWrapStamp(t *testing.T) {
	s, acc, p := wrapSender(t, math.MaxInt32-1)
	b1 := wrapBatch(t, acc, p, 3)
	enc, err := s.encode(p, b1)
	if err != nil {
		t.Fatal(err)
	}
	if b1.BaseSequence != math.MaxInt32-1 || firstSequence(t, enc) != math.MaxInt32-1 {
		t.Errorf("first batch stamped %d (field %d), want %d", firstSequence(t, enc), b1.BaseSequence, math.MaxInt32-1)
	}
	if p.NextSequence != 1 {
		t.Errorf("next sequence after MaxInt32-1 + 3 records = %d, want 1 (wrapped)", p.NextSequence)
	}
	if !p.Pop(b1) {
		t.Fatal("the first batch is not the head")
	}
	b2 := wrapBatch(t, acc, p, 2)
	enc2, err := s.encode(p, b2)
	if err != nil {
		t.Fatal(err)
	}
	if b2.BaseSequence != 1 || firstSequence(t, enc2) != 1 || p.NextSequence != 3 {
		t.Errorf("second batch stamped %d, next %d; want 1 and 3", firstSequence(t, enc2), p.NextSequence)
	}
	s.acked(p, b1)
	if p.NextExpected != 1 {
		t.Errorf("after the wrapped batch is acknowledged the broker expects %d, want 1", p.NextExpected)
	}
	if b2.BaseSequence != p.NextExpected {
		t.Error("the batch after the wrap is not recognised as the head (OUT_OF_ORDER_SEQUENCE_NUMBER would be retried, not bumped)")
	}
}

// TestSequenceWrapRelease: the wrapped batch fails for good, not written: the batch behind
// it moves down across the wrap to MaxInt32-1 and is stamped so; the next new batch
// starts at 0.
func TestSequenceWrapRelease(t *testing.T) {
	s, acc, p := wrapSender(t, math.MaxInt32-1)
	b1 := wrapBatch(t, acc, p, 3)
	if _, err := s.encode(p, b1); err != nil {
		t.Fatal(err)
	}
	p.Pop(b1)
	b2 := wrapBatch(t, acc, p, 2)
	if _, err := s.encode(p, b2); err != nil {
		t.Fatal(err)
	}
	s.releaseSequences(b1)
	if b2.BaseSequence != math.MaxInt32-1 || !b2.SequenceReset {
		t.Errorf("the batch behind moved to %d (reset %v), want %d", b2.BaseSequence, b2.SequenceReset, math.MaxInt32-1)
	}
	if p.NextSequence != 0 {
		t.Errorf("next sequence = %d, want 0 (MaxInt32-1 + 2, wrapped)", p.NextSequence)
	}
	enc, err := s.encode(p, b2)
	if err != nil {
		t.Fatal(err)
	}
	if got := firstSequence(t, enc); got != math.MaxInt32-1 {
		t.Errorf("the moved batch is stamped %d, want %d", got, math.MaxInt32-1)
	}
}

// TestSequenceWrapRequeue: retried batches go back in sequence order (rule 3), across
// the wrap too: MaxInt32 comes before 1.
func TestSequenceWrapRequeue(t *testing.T) {
	for _, tc := range []struct{ a, b int32 }{
		{5, 9},                           // no wrap
		{math.MaxInt32, 1},               // wrapped
		{math.MaxInt32 - 3, 2},           // wrapped
		{math.MaxInt32 - (1 << 29), 100}, // far apart, still wrapped order
	} {
		t.Run(fmt.Sprintf("%d-before-%d", tc.a, tc.b), func(t *testing.T) {
			_, acc, p := wrapSender(t, 0)
			first := wrapBatch(t, acc, p, 1)
			second := wrapBatch(t, acc, p, 1)
			p.Pop(first)
			p.Pop(second)
			for _, x := range []struct {
				b   *accumulator.Batch
				seq int32
			}{{first, tc.a}, {second, tc.b}} {
				x.b.BaseSequence, x.b.HasSequence, x.b.Attempts = x.seq, true, 1
			}
			p.Requeue(second) // the later one comes back first
			p.Requeue(first)
			q := p.Queued()
			if len(q) != 2 || q[0] != first {
				got := make([]int32, len(q))
				for i, b := range q {
					got[i] = b.BaseSequence
				}
				t.Errorf("requeued in order %v; want [%d %d]", got, tc.a, tc.b)
			}
		})
	}
}

// TestSequenceWrapUnresolved: a possibly written batch at MaxInt32-1 with 3 records
// leaves the partition unresolved up to sequence 1; an acknowledgement up to 1 resolves
// it, none triggers an epoch bump.
func TestSequenceWrapUnresolved(t *testing.T) {
	for _, acked := range []bool{true, false} {
		t.Run(fmt.Sprintf("acked=%v", acked), func(t *testing.T) {
			s, acc, p := wrapSender(t, math.MaxInt32-1)
			b := wrapBatch(t, acc, p, 3)
			if _, err := s.encode(p, b); err != nil {
				t.Fatal(err)
			}
			s.unresolve(p, b)
			if !p.Unresolved || p.UnresolvedUpTo != 1 {
				t.Fatalf("unresolved %v up to %d; want true up to 1", p.Unresolved, p.UnresolvedUpTo)
			}
			if acked {
				s.acked(p, b)
			}
			s.resolve(p)
			if p.Unresolved == acked {
				t.Errorf("after resolve: unresolved %v, want %v", p.Unresolved, !acked)
			}
			if s.bumpWanted == acked {
				t.Errorf("after resolve: epoch bump wanted %v, want %v", s.bumpWanted, !acked)
			}
		})
	}
}

// TestSequenceWrapSplit: a batch at MaxInt32-1 with 4 records refused as too large splits
// into halves at MaxInt32-1 and 0 (rule 11 keeps the refused batch's sequences).
func TestSequenceWrapSplit(t *testing.T) {
	s, acc, p := wrapSender(t, math.MaxInt32-1)
	b := wrapBatch(t, acc, p, 4)
	if _, err := s.encode(p, b); err != nil {
		t.Fatal(err)
	}
	p.Pop(b)
	halves, err := acc.Split(b)
	if err != nil {
		t.Fatal(err)
	}
	if halves[0].BaseSequence != math.MaxInt32-1 || halves[1].BaseSequence != 0 {
		t.Errorf("halves at %d and %d, want %d and 0", halves[0].BaseSequence, halves[1].BaseSequence, math.MaxInt32-1)
	}
	for _, h := range halves {
		enc, err := s.encode(p, h)
		if err != nil {
			t.Fatal(err)
		}
		if got := firstSequence(t, enc); got != h.BaseSequence {
			t.Errorf("half stamped %d, want %d", got, h.BaseSequence)
		}
	}
	if p.NextSequence != 2 {
		t.Errorf("next sequence %d, want 2 (splitting consumes none)", p.NextSequence)
	}
}
