package accumulator

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestChargesUnderConcurrentAppendAndDrain: appenders of mixed record sizes (some over
// batch.size) race a drainer that completes batches as the sender would. buffer.memory is
// never exceeded, every record arrives in a batch, and when all is done every byte is
// given back. Run with -race.
func TestChargesUnderConcurrentAppendAndDrain(t *testing.T) {
	const appenders, perAppender, parts = 4, 3000, 50
	a := newTestAcc(16<<10, 256<<10)
	tp := a.Topic("t")
	var appended, drained atomic.Int64
	var over atomic.Int64
	stopDrain := drainConcurrently(a, tp, func(p *Partition, b *Batch) {
		if u := a.Budget.Used(); u > a.Budget.Max() {
			over.Store(u)
		}
		if b != nil {
			drained.Add(int64(b.NumRecords()))
		}
	})
	var wg sync.WaitGroup
	for g := range appenders {
		wg.Go(func() {
			for i := range perAppender {
				size := 10 + (i*7919+g*104729)%3000
				if i%500 == 0 {
					size = 20 << 10 // over batch.size: a buffer of its own
				}
				r := Rec{Timestamp: int64(i), Value: make([]byte, size), Done: i}
				if _, ok, err := a.Append(context.Background(), time.Now().Add(time.Minute), tp, Target{Partition: int32((i + g) % parts)}, &r); !ok {
					t.Errorf("append: %v", err)
					return
				}
				appended.Add(1)
			}
		})
	}
	wg.Wait()
	stopDrain()
	if u := over.Load(); u != 0 {
		t.Fatalf("%d bytes charged, over buffer.memory %d", u, a.Budget.Max())
	}
	checkCharges(t, a)
	for _, b := range a.TakeAll() {
		drained.Add(int64(b.NumRecords()))
		a.Done(b)
	}
	if appended.Load() != drained.Load() || appended.Load() != appenders*perAppender {
		t.Fatalf("%d records appended, %d drained, want %d", appended.Load(), drained.Load(), appenders*perAppender)
	}
	if u, idle := a.Budget.Used(), a.pool.Idle(); u != 0 || idle > a.Budget.Max() {
		t.Fatalf("after completion: %d bytes charged, %d idle; want 0 and at most %d", u, idle, a.Budget.Max())
	}
	for _, p := range tp.Partitions() {
		if p.Buffered() != 0 {
			t.Fatalf("partition %d still counts %d bytes", p.ID, p.Buffered())
		}
	}
}

func TestBufPoolClasses(t *testing.T) {
	for _, c := range []struct {
		batch int
		sizes []int
	}{
		{1_000_000, []int{1 << 10, 2 << 10, 4 << 10, 8 << 10, 16 << 10, 32 << 10, 64 << 10, 128 << 10, 256 << 10, 512 << 10, 1_000_000}},
		{16 << 10, []int{1 << 10, 2 << 10, 4 << 10, 8 << 10, 16 << 10}},
		{100, []int{100}},
		{0, nil},
	} {
		p := newBufPool(c.batch, NewBudget(1<<30))
		if len(p.sizes) != len(c.sizes) {
			t.Fatalf("batch.size %d: classes %v, want %v", c.batch, p.sizes, c.sizes)
		}
		for i, s := range c.sizes {
			if p.sizes[i] != s {
				t.Fatalf("batch.size %d: classes %v, want %v", c.batch, p.sizes, c.sizes)
			}
			for _, n := range []int{s - 1, s} {
				if n > 0 && (i == 0 || n > c.sizes[i-1]) && p.class(n) != i {
					t.Errorf("batch.size %d: class(%d) = %d, want %d", c.batch, n, p.class(n), i)
				}
			}
		}
		if p.class(c.batch+1) != -1 {
			t.Errorf("batch.size %d: class(%d) = %d, want -1 (over batch.size)", c.batch, c.batch+1, p.class(c.batch+1))
		}
	}
}

// TestBufPoolKeepsIdleWithinBudget: buffers given back are kept for reuse, and a buffer
// of a class none is idle in is made only after dropping idle ones (the largest first)
// until held and idle bytes fit in buffer.memory.
func TestBufPoolKeepsIdleWithinBudget(t *testing.T) {
	p := newBufPool(4<<10, NewBudget(8<<10)) // classes 1, 2 and 4 KiB
	check := func(step string, held, idle int64) {
		t.Helper()
		if p.held != held || p.idle != idle || p.held+p.idle > 8<<10 {
			t.Fatalf("%s: held %d idle %d, want %d and %d", step, p.held, p.idle, held, idle)
		}
	}
	var bufs [][]byte
	for range 4 {
		bufs = append(bufs, p.get(1))
	}
	for _, buf := range bufs {
		p.put(buf)
	}
	check("4 x 2 KiB back", 0, 8<<10)
	big := p.get(2) // none idle: two 2 KiB buffers go first
	check("a 4 KiB buffer made", 4<<10, 4<<10)
	small := p.get(1) // from the idle ones
	if cap(small) != 2<<10 || cap(big) != 4<<10 {
		t.Fatalf("got buffers of %d and %d bytes", cap(small), cap(big))
	}
	check("a 2 KiB buffer reused", 6<<10, 2<<10)
	own := p.own(1500) // no class: the 2 KiB idle goes, and it is not kept afterwards
	check("a buffer of its own", 6<<10+1500, 0)
	p.put(own)
	p.put(big)
	p.put(small)
	check("all back", 0, 6<<10)
}

// drainConcurrently completes every partition's head batch, as the sender would, in a
// loop until the returned stop is called; see is called for each partition looked at,
// with the batch completed (nil if none), before the batch is released.
func drainConcurrently(a *Accumulator, tp *Topic, see func(p *Partition, b *Batch)) (stop func()) {
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case <-done:
				return
			default:
			}
			for _, p := range tp.Partitions() {
				var b *Batch
				if h, ok := p.Peek(); ok && p.Pop(h.Batch) {
					b = h.Batch
				}
				see(p, b)
				if b != nil {
					a.Done(b)
				}
			}
		}
	}()
	return func() { close(done); <-stopped }
}
