package accumulator

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestAppendRacingSetClosing checks the barrier the producer's Close relies on: when
// SetClosing returns, every Append that succeeded is counted by Incomplete (what Close
// waits for), and no Append succeeds afterwards; the others fail with ErrAborted.
// batch.size 0 makes every record its own batch, so batches count records. Appenders
// spread over partitions and topics that are created while SetClosing runs.
func TestAppendRacingSetClosing(t *testing.T) {
	rounds := 300
	if testing.Short() {
		rounds = 50
	}
	for round := range rounds {
		a := New(Config{BatchSize: 0, BufferMemory: 1 << 30})
		var ok atomic.Int64
		var wg sync.WaitGroup
		start := make(chan struct{})
		for g := range 6 {
			wg.Go(func() {
				tp := a.Topic(fmt.Sprintf("t%d", g%3))
				<-start
				for i := range 1 << 20 {
					r := Rec{Timestamp: 1, Value: []byte("v")}
					part := int32((g + i) % 8)
					if g%2 == 1 && i%16 == 0 { // a topic created during the race
						tp = a.Topic(fmt.Sprintf("t%d-%d", g, i))
					}
					_, done, err := a.Append(context.Background(), time.Now().Add(time.Second), tp, Target{Partition: part}, &r)
					if !done {
						if !errors.Is(err, ErrAborted) {
							t.Errorf("append failed with %v, want ErrAborted", err)
						}
						return
					}
					ok.Add(1)
				}
				t.Errorf("goroutine %d: Append never refused", g)
			})
		}
		close(start)
		// Varies how far the appenders got when SetClosing runs; every interleaving must
		// satisfy the assertions below.
		time.Sleep(time.Duration(round%7) * 50 * time.Microsecond)
		a.SetClosing()
		counted := a.Incomplete()
		wg.Wait()
		if got := ok.Load(); int64(counted) != got {
			t.Fatalf("round %d: %d appends succeeded but %d batches were counted when SetClosing returned",
				round, got, counted)
		}
		if n := a.Incomplete(); n != counted {
			t.Fatalf("round %d: %d batches after the appenders stopped, %d when SetClosing returned", round, n, counted)
		}
		// Refused appends gave back any memory they had taken for a new batch.
		var reserved int64
		a.incMu.Lock()
		for b := range a.incomplete {
			reserved += b.charged
		}
		a.incMu.Unlock()
		if used := a.Budget.Used(); used != reserved {
			t.Fatalf("round %d: buffer.memory in use %d, the %d queued batches reserve %d", round, used, counted, reserved)
		}
	}
}

// TestAppendAfterSetClosing checks that a closed accumulator refuses at once, into an
// open batch or a new one, and takes no memory. (Memory taken before the refusal is given
// back: TestAppendRacingSetClosing checks the budget.)
func TestAppendAfterSetClosing(t *testing.T) {
	a := newTestAcc(1024, 1<<20)
	tp := a.Topic("t")
	appendN(t, a, tp, 0, 1, 10)
	used := a.Budget.Used()
	a.SetClosing()
	for _, part := range []int32{0, 1} { // an open batch, and a partition never used
		r := Rec{Timestamp: 1, Value: []byte("v")}
		if _, ok, err := a.Append(context.Background(), time.Now().Add(time.Second), tp, Target{Partition: part}, &r); ok || !errors.Is(err, ErrAborted) {
			t.Fatalf("partition %d: Append after SetClosing: ok=%v err=%v, want ErrAborted", part, ok, err)
		}
	}
	if got := a.Budget.Used(); got != used {
		t.Fatalf("budget used %d after refused appends, want %d", got, used)
	}
	if got := tp.Partition(0).Len(); got != 1 {
		t.Fatalf("%d batches queued, want the 1 from before SetClosing", got)
	}
}
