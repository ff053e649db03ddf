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

func TestBudgetChargedByBytesHeld(t *testing.T) {
	// Issue 14: a batch is charged for the buffer it holds, which starts at the smallest
	// class and grows with its records, not batch.size from its first record.
	a := newTestAcc(1<<20, 8*minClass)
	tp := a.Topic("t")
	for part := int32(0); part < 4; part++ {
		appendN(t, a, tp, part, 1, 10)
	}
	if used := a.Budget.Used(); used != 4*minClass {
		t.Fatalf("budget used %d after 4 one-record batches, want 4 smallest buffers (%d)", used, 4*minClass)
	}
	// Partition 0's batch grows to 2 KiB: 4 classes of 1 KiB become 1 + 1 + 1 + 2.
	appendN(t, a, tp, 0, 15, 100)
	if used, held := a.Budget.Used(), heldBytes(a); used != 5*minClass || used != held {
		t.Fatalf("budget used %d, batches hold %d; want both %d", used, held, 5*minClass)
	}
	checkCharges(t, a)
	// 3 more small batches fill the budget; a fourth must wait, then give up.
	for part := int32(4); part < 7; part++ {
		appendN(t, a, tp, part, 1, 10)
	}
	r := Rec{Timestamp: 1, Value: make([]byte, 10)}
	if _, ok, _ := a.Append(context.Background(), time.Now().Add(20*time.Millisecond), tp, Target{Partition: 7}, &r); ok {
		t.Fatalf("a new batch fit in a spent budget (used %d of %d)", a.Budget.Used(), a.Budget.Max())
	}
	appendN(t, a, tp, 1, 3, 10) // appends that fit an open buffer need no memory
	checkCharges(t, a)
}

func TestBatchThatCannotGrowIsSealed(t *testing.T) {
	// With no memory free to grow, the batch goes as it is and the record opens a new
	// batch in the smallest buffer (it waits for that memory as Java's allocate does).
	a := newTestAcc(1<<20, 3*minClass)
	tp := a.Topic("t")
	appendN(t, a, tp, 0, 8, 100) // 925 bytes of a 1 KiB buffer: a 9th record needs 2 KiB
	appendN(t, a, tp, 1, 1, 100)
	appendN(t, a, tp, 2, 1, 100) // budget spent: 3 x 1 KiB
	p := tp.Partition(0)
	first := p.Queued()[0]
	done := make(chan error, 1)
	go func() {
		r := Rec{Timestamp: 1, Value: make([]byte, 100)}
		_, _, err := a.Append(context.Background(), time.Now().Add(time.Minute), tp, Target{Partition: 0}, &r)
		done <- err
	}()
	waitFor(t, "the append to wait for memory", func() bool { return a.Budget.Waiting() == 1 })
	if h, _ := p.Peek(); !h.Full || h.Batch != first || first.NumRecords() != 8 {
		t.Fatalf("the batch that could not grow: full=%v records=%d, want sealed with its 8", h.Full, first.NumRecords())
	}
	p.Pop(first)
	a.Done(first)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if q := p.Queued(); len(q) != 1 || q[0].NumRecords() != 1 || cap(q[0].buf) != minClass {
		t.Fatalf("after the wait: %d batches, want 1 new one of 1 record in a %d-byte buffer", len(q), minClass)
	}
	checkCharges(t, a)
}

// TestThousandPartitionsBatchNormally is issue 14's case: 1,000 keyed partitions at
// batch.size 1 MB and buffer.memory 32 MiB. Reserving batch.size per batch let 32
// partitions hold a batch; charged by the bytes held, every partition batches its
// records and the budget charged is exactly the buffers held, within buffer.memory.
func TestThousandPartitionsBatchNormally(t *testing.T) {
	const parts, perPart = 1000, 200
	a := newTestAcc(1_000_000, 32<<20)
	tp := a.Topic("t")
	v := make([]byte, 100)
	for i := range parts * perPart {
		r := Rec{Timestamp: 1000, Value: v, Done: i}
		// A deadline in the past: any append that would wait for memory fails.
		if _, ok, err := a.Append(context.Background(), time.Now().Add(-time.Second), tp, Target{Partition: int32(i % parts)}, &r); !ok {
			t.Fatalf("append %d waited for memory (%v): used %d of %d", i, err, a.Budget.Used(), a.Budget.Max())
		}
	}
	for id, p := range tp.Partitions() {
		q := p.Queued()
		if len(q) != 1 || q[0].NumRecords() != perPart {
			t.Fatalf("partition %d: %d batches, want 1 of %d records", id, len(q), perPart)
		}
	}
	used := checkCharges(t, a)
	if used > a.Budget.Max() || used > parts*32<<10 {
		t.Fatalf("%d bytes charged for %d partitions of ~22 KB each", used, parts)
	}
	// Past the budget, appends wait and give up, never holding more than buffer.memory.
	big := make([]byte, 50_000)
	refused := 0
	for i := 0; refused < 50 && i < 100_000; i++ {
		r := Rec{Timestamp: 1000, Value: big}
		if _, ok, _ := a.Append(context.Background(), time.Now().Add(-time.Second), tp, Target{Partition: int32(i % parts)}, &r); !ok {
			refused++
		}
		if u := a.Budget.Used(); u > a.Budget.Max() {
			t.Fatalf("%d bytes charged, over buffer.memory %d", u, a.Budget.Max())
		}
	}
	if refused == 0 {
		t.Fatal("appends never waited: buffer.memory is not a bound")
	}
	checkCharges(t, a)
	// Completing every batch gives every byte back; idle buffers kept for reuse stay
	// within buffer.memory.
	for _, b := range a.TakeAll() {
		a.Done(b)
	}
	if u, idle := a.Budget.Used(), a.pool.Idle(); u != 0 || idle > a.Budget.Max() {
		t.Fatalf("after completion: %d bytes charged, %d idle; want 0 and at most %d", u, idle, a.Budget.Max())
	}
	for id, p := range tp.Partitions() {
		if p.Buffered() != 0 {
			t.Fatalf("partition %d still counts %d bytes", id, p.Buffered())
		}
	}
}

// heldBytes sums the buffers of every queued batch.
func heldBytes(a *Accumulator) int64 {
	var n int64
	for _, t := range a.Topics() {
		for _, p := range t.Partitions() {
			for _, b := range p.Queued() {
				n += int64(cap(b.buf))
			}
		}
	}
	return n
}

// checkCharges checks, with every batch queued, that the budget charged is exactly the
// buffers the batches hold, partition by partition, and within buffer.memory together
// with the idle buffers kept for reuse. It returns the bytes charged.
func checkCharges(t *testing.T, a *Accumulator) int64 {
	t.Helper()
	var total int64
	for _, tp := range a.Topics() {
		for _, p := range tp.Partitions() {
			var held int64
			for _, b := range p.Queued() {
				if b.charged != int64(cap(b.buf)) {
					t.Fatalf("partition %d: a batch charged %d for a %d-byte buffer", p.ID, b.charged, cap(b.buf))
				}
				held += b.charged
			}
			if p.Buffered() != held {
				t.Fatalf("partition %d: Buffered %d, its batches hold %d", p.ID, p.Buffered(), held)
			}
			total += held
		}
	}
	if used := a.Budget.Used(); used != total {
		t.Fatalf("budget used %d, batches hold %d", used, total)
	}
	if idle := a.pool.Idle(); total+idle > a.Budget.Max() {
		t.Fatalf("held %d + idle %d bytes exceed buffer.memory %d", total, idle, a.Budget.Max())
	}
	return total
}

// waitFor polls cond until it holds (an observable state, not a timing).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
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

// TestQueueCycleAllocatesNothing: a partition whose one batch is drained and completed
// before the next record comes (every partition's lot when records spread over many)
// reuses its queue's array. Popping with q[1:] gave the array's front up, and the next
// batch allocated a new one: one allocation per batch, 0.09 per record at 1,000 keyed
// partitions in bench/.
func TestQueueCycleAllocatesNothing(t *testing.T) {
	a := newTestAcc(1024, 1<<20)
	tp := a.Topic("t")
	v := make([]byte, 100)
	deadline := time.Now().Add(time.Minute)
	cycle := func() {
		r := Rec{Timestamp: 1, Value: v}
		if _, ok, err := a.Append(context.Background(), deadline, tp, Target{Partition: 0}, &r); !ok {
			t.Fatalf("append: %v", err)
		}
		p := tp.Partition(0)
		h, ok := p.Peek()
		if !ok || !p.Pop(h.Batch) {
			t.Fatal("no batch to drain")
		}
		a.Done(h.Batch)
	}
	cycle()
	if n := testing.AllocsPerRun(100, cycle); n != 0 {
		t.Fatalf("%v allocations per append, drain and completion of a one-record batch; want 0", n)
	}
}

// TestPopFront: short queues shift down in place, long ones are resliced; either way the
// order is kept and no reference to the popped batch stays in the array.
func TestPopFront(t *testing.T) {
	for _, n := range []int{1, 2, popShiftMax, popShiftMax + 1, 3 * popShiftMax} {
		arr := make([]*Batch, n)
		for i := range arr {
			arr[i] = &Batch{Partition: int32(i)}
		}
		q := arr
		for i := range n {
			if q[0].Partition != int32(i) {
				t.Fatalf("n=%d: head %d after %d pops", n, q[0].Partition, i)
			}
			q = PopFront(q)
			if len(q) != n-i-1 {
				t.Fatalf("n=%d: length %d after %d pops", n, len(q), i+1)
			}
		}
		for i, b := range arr {
			if b != nil {
				t.Fatalf("n=%d: array slot %d still holds batch %d", n, i, b.Partition)
			}
		}
	}
}

// TestPopFrontLetsABacklogGo: once a backlog drains to a short queue, the queue stops
// keeping the backlog's array (it would pin buffer.memory/batch pointers per partition
// for good), whatever room the array had left at its end.
func TestPopFrontLetsABacklogGo(t *testing.T) {
	for _, n := range []int{512, 1000, 10000} {
		for _, spare := range []int{0, 7, 48, 240} {
			q := make([]*Batch, 0, n+spare)
			for range n {
				q = append(q, &Batch{})
			}
			for len(q) > 0 {
				q = PopFront(q)
			}
			for range 1000 {
				q = append(q, &Batch{})
				q = PopFront(q)
			}
			if cap(q) > 8*popShiftMax {
				t.Fatalf("backlog of %d in an array of %d: capacity %d after it drained and 1,000 one-batch cycles; want at most %d",
					n, n+spare, cap(q), 8*popShiftMax)
			}
		}
	}
}

// TestHintFallsWhileMemoryIsShort: a partition whose batches grew to batch.size starts
// its next batches there; once its batches leave at a few records while Sends wait for
// buffer.memory (1,000 keyed partitions against a busy broker), four in a row lower the
// start one class, so buffer.memory holds records rather than empty buffers. With memory
// to spare the start stays, since a lower one would only cost copies.
func TestHintFallsWhileMemoryIsShort(t *testing.T) {
	const batch = 16 * minClass
	a := newTestAcc(batch, 64*minClass)
	tp := a.Topic("t")
	p := tp.Partition(0)
	// drain has the sender take the head batch and complete it; with short set, another
	// Send waits for memory meanwhile.
	drain := func(short bool) {
		t.Helper()
		b := p.Queued()[0]
		var got chan bool
		abort := make(chan struct{})
		defer func() {
			select {
			case <-abort:
			default:
				close(abort) // a failed check: do not leave the waiter for its deadline
			}
		}()
		n := a.Budget.Max() - a.Budget.Used() + 1
		if short {
			got = make(chan bool, 1)
			go func() {
				ok, _ := a.Budget.Acquire(context.Background(), n, time.Now().Add(time.Minute), abort)
				got <- ok
			}()
			waitFor(t, "a Send to wait for memory", a.Budget.Exhausted)
		}
		if !p.SealHead(b) || !p.Pop(b) {
			t.Fatal("no head batch to take")
		}
		a.Done(b) // frees enough for the waiter
		if short {
			close(abort)
			if <-got {
				a.Budget.Release(n)
			}
		}
	}
	startCap := func(short bool) int { // the buffer a one-record batch opens in
		t.Helper()
		appendN(t, a, tp, 0, 1, 100)
		c := cap(p.Queued()[0].buf)
		drain(short)
		return c
	}
	fill := func() { // a batch grows to batch.size and seals; the rest opens the next
		t.Helper()
		appendN(t, a, tp, 0, 150, 100)
		for len(p.Queued()) > 0 {
			drain(false)
		}
	}
	fill()
	for i := range 6 {
		if c := startCap(false); c != batch {
			t.Fatalf("with memory to spare, batch %d started in %d bytes, want batch.size %d", i, c, batch)
		}
	}
	for i := range 4 {
		if c := startCap(true); c != batch {
			t.Fatalf("after %d small batches while memory is short, the next started in %d bytes, want %d still", i, c, batch)
		}
	}
	if c := startCap(true); c != batch/2 {
		t.Fatalf("after four small batches while memory is short, the next started in %d bytes, want %d", c, batch/2)
	}
	for range 3 {
		startCap(true)
	}
	if c := startCap(true); c != batch/4 {
		t.Fatalf("after eight, the next started in %d bytes, want %d", c, batch/4)
	}
	// In a row: a small batch while memory is to spare starts the count again. (The
	// batch checked above was the first small one at this hint.)
	for range 2 {
		startCap(true)
	}
	startCap(false)
	startCap(true)
	if c := startCap(true); c != batch/4 {
		t.Fatalf("after 3 small batches, one with memory to spare and 1 more, the next started in %d bytes, want %d still", c, batch/4)
	}
	// A batch that fills its buffer again raises the hint at once.
	fill()
	if c := startCap(false); c != batch {
		t.Fatalf("after a full batch, the next started in %d bytes, want batch.size %d", c, batch)
	}
	checkCharges(t, a)
}
