package accumulator

import (
	"context"
	"math"
	"testing"
	"time"
	"unsafe"
)

// TestPendingSizedOnce: a batch's completion list is sized from its first record and
// resized only when the batch's buffer grows, so filling the batch with records like it
// never grows (and copies) the list otherwise; a partition's next batch starts in the
// buffer its last one ended in, and reuses the recycled list without growing it at all.
func TestPendingSizedOnce(t *testing.T) {
	const batchSize = 64 << 10
	a := newTestAcc(batchSize, 1<<20)
	tp := a.Topic("t")
	p := tp.Partition(0)
	v := make([]byte, 100)
	fill := func(round int) (moves, listMoves int) {
		var list *Pending
		var buf int
		for i := 0; ; i++ {
			r := Rec{Timestamp: 1000, Value: v, Done: i}
			if _, ok, err := a.Append(context.Background(), time.Now().Add(time.Second), tp, Target{Partition: 0}, &r); !ok {
				t.Fatalf("round %d append %d: %v", round, i, err)
			}
			q := p.Queued()
			if len(q) > 1 { // the batch is full
				b := q[0]
				if n := len(b.Pending); n < 500 {
					t.Fatalf("round %d: first batch holds %d records, want a full batch", round, n)
				}
				p.Pop(b)
				a.Done(b)
				return moves, listMoves
			}
			b := q[0]
			if i > 0 && cap(b.buf) != buf {
				moves++
			} else if i > 0 && &b.Pending[0] != list {
				listMoves++
			}
			list, buf = &b.Pending[0], cap(b.buf)
		}
	}
	moves, listMoves := fill(0)
	if listMoves != 0 || moves == 0 {
		t.Fatalf("first batch: %d buffer moves, %d list reallocations without one; want some and none", moves, listMoves)
	}
	if moves, listMoves := fill(1); moves != 0 || listMoves != 0 {
		t.Fatalf("next batch: %d buffer moves, %d list reallocations; want none (it starts where the last ended)", moves, listMoves)
	}
}

func TestPendingCapBounds(t *testing.T) {
	for _, c := range []struct{ batch, rec, want int }{
		{1 << 20, 110, 1<<20/110 + 1},
		{16384, 8, 16384 / 40}, // tiny first record: no more than batch.size bytes of entries
		{16, 8, 0},             // smaller than one entry: grow by append
		{16384, 0, 16384 / 40},
	} {
		if got := pendingCap(c.batch, c.rec); got != c.want {
			t.Errorf("pendingCap(%d, %d) = %d, want %d", c.batch, c.rec, got, c.want)
		}
	}
}

// TestPendingSize: the send-time offset fills what was padding; a bigger entry would
// cost memory per record and lower pendingCap's bound.
func TestPendingSize(t *testing.T) {
	if n := unsafe.Sizeof(Pending{}); n != 40 {
		t.Fatalf("Pending is %d bytes, want 40", n)
	}
}

func TestSentOffset(t *testing.T) {
	for _, c := range []struct {
		sent, created int64
		want          int32
	}{
		{1_000_250, 1_000_000, 250},
		{1_000_000, 1_000_040, -40},
		{1 << 40, 0, math.MaxInt32},
		{0, 1 << 40, math.MinInt32},
	} {
		if got := sentOffset(c.sent, c.created); got != c.want {
			t.Errorf("sentOffset(%d, %d) = %d, want %d", c.sent, c.created, got, c.want)
		}
	}
}
