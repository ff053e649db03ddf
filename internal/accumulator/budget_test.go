package accumulator

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"
)

func TestBudgetBlocksThenTimesOut(t *testing.T) {
	b := NewBudget(100)
	if !b.TryAcquire(80) {
		t.Fatal("first acquire failed")
	}
	start := time.Now()
	ok, err := b.Acquire(context.Background(), 30, time.Now().Add(50*time.Millisecond), nil)
	if ok || err != nil {
		t.Fatalf("ok=%v err=%v, want a deadline failure", ok, err)
	}
	if waited := time.Since(start); waited < 40*time.Millisecond {
		t.Fatalf("gave up after %v, before the deadline", waited)
	}
	if b.Used() != 80 {
		t.Fatalf("used = %d after a failed wait, want 80 (no leaked bytes)", b.Used())
	}
}

func TestBudgetCancelAndAbortLeakNothing(t *testing.T) {
	b := NewBudget(100)
	b.TryAcquire(100)
	ctx, cancel := context.WithCancel(context.Background())
	abort := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, c := range []struct {
		ctx   context.Context
		abort chan struct{}
	}{{ctx, nil}, {context.Background(), abort}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := b.Acquire(c.ctx, 10, time.Now().Add(time.Hour), c.abort)
			if ok {
				err = nil
			}
			errs <- err
		}()
	}
	for b.nwait.Load() < 2 { // both wait before they are ended
		time.Sleep(time.Millisecond)
	}
	cancel()
	close(abort)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != context.Canceled && err != ErrAborted {
			t.Fatalf("err = %v, want context.Canceled or ErrAborted", err)
		}
	}
	b.Release(100)
	if b.Used() != 0 || b.nwait.Load() != 0 {
		t.Fatalf("used=%d waiters=%d after everything was released", b.Used(), b.nwait.Load())
	}
}

func TestBudgetFIFO(t *testing.T) {
	b := NewBudget(100)
	b.TryAcquire(100)
	granted := make(chan int64, 2)
	var wg sync.WaitGroup
	for _, n := range []int64{90, 10} { // the big waiter queues first
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, _ := b.Acquire(context.Background(), n, time.Now().Add(5*time.Second), nil); ok {
				granted <- n
			}
		}()
		for b.nwait.Load() == 0 || (n == 10 && b.nwait.Load() < 2) {
			time.Sleep(time.Millisecond)
		}
	}
	b.Release(15) // enough for the small waiter, not for the big one ahead of it
	// Release grants synchronously: a waiter that jumped the queue would already hold
	// its bytes.
	if len(granted) != 0 || b.Used() != 85 || b.nwait.Load() != 2 {
		t.Fatalf("granted %d waiter(s), used %d: the small waiter jumped the queue", len(granted), b.Used())
	}
	if b.TryAcquire(1) {
		t.Fatal("TryAcquire jumped the queue")
	}
	b.Release(85)
	wg.Wait()
	if b.Used() != 100 || len(granted) != 2 {
		t.Fatalf("used %d, granted %d; want 100 and both waiters", b.Used(), len(granted))
	}
}

func TestBudgetConcurrentBalance(t *testing.T) {
	b := NewBudget(1000)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				if ok, _ := b.Acquire(context.Background(), 60, time.Now().Add(time.Second), nil); ok {
					if u := b.Used(); u > b.Max() {
						t.Errorf("used %d > max %d", u, b.Max())
						return
					}
					b.Release(60)
				}
			}
		}()
	}
	wg.Wait()
	if b.Used() != 0 {
		t.Fatalf("used = %d at the end", b.Used())
	}
}

// A wait that ends in a grant allocates nothing once a waiter exists: 32 goroutines
// sending into a full buffer.memory paid a waiter, a channel and a timer per wait.
func TestBudgetWaitAllocatesNothing(t *testing.T) {
	b := NewBudget(100)
	b.TryAcquire(100)
	release := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range release {
			for b.Waiting() == 0 { // release only once the Acquire below queued
				runtime.Gosched()
			}
			b.Release(10)
		}
	}()
	defer func() { close(release); <-done }()
	deadline := time.Now().Add(time.Hour)
	wait := func() {
		release <- struct{}{}
		if ok, err := b.Acquire(context.Background(), 10, deadline, nil); !ok {
			t.Fatalf("Acquire failed: %v", err)
		}
	}
	if allocs := testing.AllocsPerRun(200, wait); allocs != 0 {
		t.Fatalf("%v allocations per wait, want 0", allocs)
	}
	if b.Used() != 100 {
		t.Fatalf("used = %d, want 100", b.Used())
	}
}

// A waiter reused after its timer fired waits its full new deadline: the old expiry must
// not end the next wait.
func TestBudgetReusedWaiterIgnoresOldTimer(t *testing.T) {
	b := NewBudget(100)
	b.TryAcquire(100)
	if ok, _ := b.Acquire(context.Background(), 10, time.Now().Add(time.Millisecond), nil); ok {
		t.Fatal("granted with the budget full")
	}
	if len(b.spare) != 1 {
		t.Fatalf("%d spare waiters after a timed-out wait, want 1", len(b.spare))
	}
	got := make(chan bool)
	go func() {
		ok, _ := b.Acquire(context.Background(), 10, time.Now().Add(time.Hour), nil)
		got <- ok
	}()
	for b.Waiting() == 0 {
		time.Sleep(time.Millisecond)
	}
	select {
	case ok := <-got:
		t.Fatalf("second wait ended (ok=%v) before any release", ok)
	case <-time.After(20 * time.Millisecond):
	}
	b.Release(10)
	if !<-got {
		t.Fatal("second wait not granted after the release")
	}
}
