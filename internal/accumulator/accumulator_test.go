package accumulator

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kprod-io/kprod/internal/partition"
	"github.com/kprod-io/kprod/internal/wire"
)

func newTestAcc(batchSize int, budget int64) *Accumulator {
	return New(Config{BatchSize: batchSize, BufferMemory: budget})
}

func appendN(t testing.TB, a *Accumulator, topic *Topic, part int32, n, size int) {
	t.Helper()
	v := make([]byte, size)
	for i := 0; i < n; i++ {
		r := Rec{Timestamp: 1000 + int64(i), Value: v}
		if _, ok, err := a.Append(context.Background(), time.Now().Add(time.Second), topic, Target{Partition: part}, &r); !ok {
			t.Fatalf("append %d: %v", i, err)
		}
	}
}

func TestBatchesSealAtBatchSize(t *testing.T) {
	a := newTestAcc(1024, 1<<20)
	tp := a.Topic("t")
	appendN(t, a, tp, 0, 50, 100)
	p := tp.Partition(0)
	if p.Len() < 4 {
		t.Fatalf("%d batches for 50 x 100 B at batch.size 1024, want at least 4", p.Len())
	}
	total := 0
	for {
		h, ok := p.Peek()
		if !ok {
			break
		}
		if h.Batch.builder.Len() > 1024 {
			t.Fatalf("batch of %d bytes exceeds batch.size", h.Batch.builder.Len())
		}
		total += h.Batch.NumRecords()
		p.Pop(h.Batch)
		a.Done(h.Batch)
	}
	if total != 50 {
		t.Fatalf("%d records in batches, want 50", total)
	}
	if a.Budget.Used() != 0 {
		t.Fatalf("budget used %d after all batches completed", a.Budget.Used())
	}
}

func TestBatchSizeZeroMeansOneRecordPerBatch(t *testing.T) {
	a := newTestAcc(0, 1<<20) // batch.size=0: Java's "no batching"
	tp := a.Topic("t")
	appendN(t, a, tp, 0, 5, 10)
	if n := tp.Partition(0).Len(); n != 5 {
		t.Fatalf("%d batches for 5 records at batch.size 0, want 5", n)
	}
}

func TestBudgetChargedPerBatchNotPerRecord(t *testing.T) {
	// Java's BufferPool: each new batch takes batch.size bytes, so memory stays bounded
	// whatever the number of partitions.
	a := newTestAcc(1024, 4096)
	tp := a.Topic("t")
	for part := int32(0); part < 4; part++ {
		appendN(t, a, tp, part, 1, 10)
	}
	if used := a.Budget.Used(); used != 4096 {
		t.Fatalf("budget used %d after 4 one-record batches of batch.size 1024, want 4096", used)
	}
	r := Rec{Timestamp: 1, Value: make([]byte, 10)}
	_, ok, _ := a.Append(context.Background(), time.Now().Add(20*time.Millisecond), tp, Target{Partition: 4}, &r)
	if ok {
		t.Fatal("a fifth batch fit in a 4096-byte budget")
	}
	appendN(t, a, tp, 0, 3, 10) // appends into an open batch need no memory
}

func TestRecordLargerThanBatchSizeGetsItsOwnBatch(t *testing.T) {
	a := newTestAcc(100, 1<<20)
	tp := a.Topic("t")
	appendN(t, a, tp, 0, 1, 10)
	appendN(t, a, tp, 0, 1, 500)
	p := tp.Partition(0)
	if p.Len() != 2 {
		t.Fatalf("%d batches, want 2", p.Len())
	}
}

func TestSplitKeepsRecordsCompletionsAndSequences(t *testing.T) {
	a := newTestAcc(1<<16, 1<<20)
	tp := a.Topic("t")
	for i := 0; i < 5; i++ {
		r := Rec{Timestamp: int64(i), Key: []byte{byte(i)}, Value: []byte(fmt.Sprint("v", i)), Done: i,
			Headers: []wire.Header{{Key: "h", Value: []byte{byte(i)}}}}
		a.Append(context.Background(), time.Now().Add(time.Second), tp, Target{Partition: 0}, &r)
	}
	p := tp.Partition(0)
	h, _ := p.Peek()
	b := h.Batch
	p.Pop(b)
	b.HasSequence, b.BaseSequence, b.ProducerID, b.Epoch = true, 100, 7, 1
	halves, err := a.Split(b)
	if err != nil {
		t.Fatal(err)
	}
	if halves[0].NumRecords() != 2 || halves[1].NumRecords() != 3 {
		t.Fatalf("halves of %d and %d records, want 2 and 3", halves[0].NumRecords(), halves[1].NumRecords())
	}
	if halves[0].BaseSequence != 100 || halves[1].BaseSequence != 102 {
		t.Fatalf("sequences %d, %d; want 100, 102", halves[0].BaseSequence, halves[1].BaseSequence)
	}
	var dec wire.BatchDecoder
	next := 0
	for hi, half := range halves {
		for i, pd := range half.Pending {
			if pd.Done.(int) != next || int(pd.Index) != i {
				t.Fatalf("half %d pending %d: done %v index %d", hi, i, pd.Done, pd.Index)
			}
			next++
		}
		raw := half.builder.Finish(wire.BatchOptions{})
		dec.Decode(raw, func(rb *wire.RecordBatch) error {
			for _, r := range rb.Records {
				want := fmt.Sprint("v", int(r.Key[0]))
				if string(r.Value) != want || r.Timestamp != int64(r.Key[0]) || len(r.Headers) != 1 {
					t.Errorf("record %v: value %q ts %d headers %d", r.Key, r.Value, r.Timestamp, len(r.Headers))
				}
			}
			return nil
		})
	}
	a.Done(halves[0])
	a.Done(halves[1])
	if a.Budget.Used() != 0 {
		t.Fatalf("budget used %d after the halves completed", a.Budget.Used())
	}
}

func TestAwaitIncompleteIgnoresLaterBatches(t *testing.T) {
	a := newTestAcc(1024, 1<<20)
	tp := a.Topic("t")
	appendN(t, a, tp, 0, 1, 10)
	p := tp.Partition(0)
	h, _ := p.Peek()
	done := make(chan error)
	go func() { done <- a.AwaitIncomplete(context.Background()) }()
	// The waiter has taken its limit once it watches for completions.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Millisecond) {
		a.incMu.Lock()
		watching := a.watched
		a.incMu.Unlock()
		if watching {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("AwaitIncomplete never started waiting")
		}
	}
	appendN(t, a, tp, 1, 1, 10) // a newer batch must not hold the flush up
	p.Pop(h.Batch)
	a.Done(h.Batch)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("AwaitIncomplete did not return after the older batch completed")
	}
}

// BenchmarkAppend measures one 100-byte record appended to a partition in steady state,
// batches recycled as the sender would.
func BenchmarkAppend(b *testing.B) {
	for _, sticky := range []bool{false, true} {
		b.Run(fmt.Sprintf("sticky=%v", sticky), func(b *testing.B) {
			a := newTestAcc(16384, 32<<20)
			tp := a.Topic("t")
			parts := partition.Partitions{Count: 4, Available: []int32{0, 1, 2, 3}}
			tg := Target{Partition: 0, Parts: parts}
			if sticky {
				tg.Partition = -1
			}
			v := make([]byte, 100)
			r := Rec{Timestamp: 1700000000000, Value: v}
			deadline := time.Now().Add(time.Hour)
			ctx := context.Background()
			b.ReportAllocs()
			b.SetBytes(100)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				a.Append(ctx, deadline, tp, tg, &r)
				if i%128 == 127 { // drain full batches like the sender
					for _, p := range tp.Partitions() {
						for {
							h, ok := p.Peek()
							if !ok || !h.Full {
								break
							}
							p.Pop(h.Batch)
							a.Done(h.Batch)
						}
					}
				}
			}
		})
	}
}
