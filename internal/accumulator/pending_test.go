package accumulator

import (
	"context"
	"math"
	"testing"
	"time"
	"unsafe"
)

// TestPendingSizedOnce: a batch's completion list is sized from its first record, so
// filling the batch with records like it never grows (and copies) the list.
func TestPendingSizedOnce(t *testing.T) {
	const batchSize = 64 << 10
	a := newTestAcc(batchSize, 1<<20)
	tp := a.Topic("t")
	v := make([]byte, 100)
	var first *Pending
	var firstCap int
	for i := 0; ; i++ {
		r := Rec{Timestamp: 1000, Value: v, Done: i}
		if _, ok, err := a.Append(context.Background(), time.Now().Add(time.Second), tp, Target{Partition: 0}, &r); !ok {
			t.Fatalf("append %d: %v", i, err)
		}
		b := tp.Partition(0).Queued()[0]
		if i == 0 {
			first, firstCap = &b.Pending[0], cap(b.Pending)
		}
		if &b.Pending[0] != first {
			t.Fatalf("completion list reallocated at record %d (its first capacity was %d)", i, firstCap)
		}
		if len(tp.Partition(0).Queued()) > 1 { // the first batch is full
			if n := len(b.Pending); n < 500 {
				t.Fatalf("first batch holds %d records, want a full batch", n)
			}
			return
		}
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
