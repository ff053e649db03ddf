package accumulator

import (
	"sync/atomic"
	"testing"
)

// TestWakeOnFullBatch checks that the sender is woken when an append seals a full batch,
// as Java's KafkaProducer wakes its sender when append reports batchIsFull: a full batch
// is ready at once and must not wait for linger.ms or for an unrelated wake. The append
// that seals a batch also needs memory for the next one, so the wake must survive
// Append's retry after taking that memory.
func TestWakeOnFullBatch(t *testing.T) {
	var wakes atomic.Int32
	a := New(Config{BatchSize: 1024, BufferMemory: 1 << 20, Wake: func() { wakes.Add(1) }})
	tp := a.Topic("t")
	appendN(t, a, tp, 0, 1, 100)
	if got := wakes.Load(); got != 1 {
		t.Fatalf("%d wakes after the first batch was opened, want 1", got)
	}
	p := tp.Partition(0)
	for p.Len() < 2 { // fill the first batch until an append seals it and opens the next
		before := wakes.Load()
		appendN(t, a, tp, 0, 1, 100)
		if p.Len() == 1 && wakes.Load() != before {
			t.Fatalf("woken by an append that neither opened the first batch nor sealed one")
		}
	}
	h, _ := p.Peek()
	if !h.Full {
		t.Fatal("the first batch is not reported full with a second one behind it")
	}
	if got := wakes.Load(); got != 2 {
		t.Fatalf("%d wakes after an append sealed the first batch, want 2", got)
	}
}
