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
	stop := make(chan struct{})
	var over atomic.Int64
	drainer := make(chan struct{})
	go func() {
		defer close(drainer)
		for {
			select {
			case <-stop:
				return
			default:
			}
			for _, p := range tp.Partitions() {
				if u := a.Budget.Used(); u > a.Budget.Max() {
					over.Store(u)
				}
				if h, ok := p.Peek(); ok && p.Pop(h.Batch) {
					drained.Add(int64(h.Batch.NumRecords()))
					a.Done(h.Batch)
				}
			}
		}
	}()
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
	close(stop)
	<-drainer
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

// TestBufPoolKeepsIdleWithinBudget: buffers given back are kept only while held and idle
// bytes fit in buffer.memory, and a new buffer drops idle ones of other classes first.
func TestBufPoolKeepsIdleWithinBudget(t *testing.T) {
	b := NewBudget(8 << 10)
	p := newBufPool(4<<10, b)
	var bufs [][]byte
	for range 4 { // 4 x 2 KiB held
		b.TryAcquire(2 << 10)
		bufs = append(bufs, p.get(1))
	}
	for _, buf := range bufs {
		b.Release(2 << 10)
		p.put(buf)
	}
	if p.Idle() != 8<<10 {
		t.Fatalf("idle %d, want the 4 buffers kept", p.Idle())
	}
	b.TryAcquire(4 << 10) // a 4 KiB buffer is not among them: 4 KiB of idle ones go
	if buf := p.get(2); cap(buf) != 4<<10 {
		t.Fatalf("got a %d-byte buffer", cap(buf))
	}
	if b.Used()+p.Idle() > b.Max() || p.Idle() != 4<<10 {
		t.Fatalf("used %d + idle %d, want within %d with 4 KiB idle", b.Used(), p.Idle(), b.Max())
	}
	b.TryAcquire(2 << 10) // a 2 KiB buffer comes from the idle ones
	if buf := p.get(1); cap(buf) != 2<<10 || p.Idle() != 2<<10 {
		t.Fatalf("got a %d-byte buffer, %d idle", cap(buf), p.Idle())
	}
	p.put(make([]byte, 0, 2<<10)) // no room: used 6 KiB + idle 2 KiB + 2 KiB > 8 KiB
	if p.Idle() != 2<<10 {
		t.Fatalf("idle %d after a put with no room, want 2 KiB", p.Idle())
	}
}
