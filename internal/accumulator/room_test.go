package accumulator

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kprod-io/kprod/internal/partition"
)

// Records of 600 bytes with batch.size 1 KiB: each record is a batch of its own, whose
// buffer is the smallest class (1 KiB), so a partition's bytes count its batches.
const (
	roomBatch  = 1 << 10
	roomRecord = 600
	roomMax    = 4 << 10 // four batches per partition
)

func newRoomAcc(partitionMax int64, abort chan struct{}) *Accumulator {
	return New(Config{BatchSize: roomBatch, BufferMemory: 64 << 10, PartitionMax: partitionMax, Abort: abort})
}

// appendTo appends one record to part and returns Append's results.
func appendTo(ctx context.Context, a *Accumulator, tp *Topic, part int32, deadline time.Time) (bool, error) {
	r := Rec{Timestamp: 1, Value: make([]byte, roomRecord)}
	_, ok, err := a.Append(ctx, deadline, tp, Target{Partition: part}, &r)
	return ok, err
}

// appendUnkeyed appends one record for the sticky partitioner over parts, willing to
// wait 20ms, and returns Append's results.
func appendUnkeyed(a *Accumulator, tp *Topic, parts partition.Partitions) (int32, bool, error) {
	r := Rec{Timestamp: 1, Value: make([]byte, roomRecord)}
	return a.Append(context.Background(), time.Now().Add(20*time.Millisecond), tp, Target{Partition: -1, Parts: parts}, &r)
}

// completeHead drains and completes part's oldest batch, as the sender does once its
// leader answers.
func completeHead(t *testing.T, a *Accumulator, p *Partition) {
	t.Helper()
	h, ok := p.Peek()
	if !ok || !p.Pop(h.Batch) {
		t.Fatal("no batch to complete")
	}
	a.Done(h.Batch)
}

// TestPartitionMaxBlocksOnlyItsPartition: a partition holding buffer.memory.partition.max
// blocks its own Sends, others append at once, and the blocked Send goes on when one of
// the partition's batches completes.
func TestPartitionMaxBlocksOnlyItsPartition(t *testing.T) {
	a := newRoomAcc(roomMax, nil)
	tp := a.Topic("t")
	appendN(t, a, tp, 0, 4, roomRecord)
	p0 := tp.Partition(0)
	if p0.Buffered() != roomMax {
		t.Fatalf("partition 0 holds %d, want %d", p0.Buffered(), roomMax)
	}
	done := make(chan error, 1)
	go func() {
		ok, err := appendTo(context.Background(), a, tp, 0, time.Now().Add(time.Hour))
		if ok {
			err = nil
		} else if err == nil {
			err = errors.New("deadline")
		}
		done <- err
	}()
	waitFor(t, "the fifth append to wait", p0.RoomWaiting)
	for part := int32(1); part < 8; part++ { // the others do not wait
		appendN(t, a, tp, part, 4, roomRecord)
	}
	select {
	case err := <-done:
		t.Fatalf("append to the full partition returned %v before any release", err)
	default:
	}
	if a.Budget.Waiting() != 0 {
		t.Fatal("the partition's waiter queued for buffer.memory: it must hold no budget while waiting")
	}
	completeHead(t, a, p0)
	if err := <-done; err != nil {
		t.Fatalf("append after a release: %v", err)
	}
	if p0.Buffered() != roomMax || p0.RoomWaiting() {
		t.Fatalf("partition 0 holds %d (waiting %v), want %d and no waiter", p0.Buffered(), p0.RoomWaiting(), roomMax)
	}
	checkCharges(t, a)
}

// TestPartitionMaxEndsWaits: the wait ends at the deadline with ErrPartitionFull, with
// ctx's error, and with ErrAborted when the producer closes; none leaves budget or a
// waiter behind.
func TestPartitionMaxEndsWaits(t *testing.T) {
	abort := make(chan struct{})
	a := newRoomAcc(roomMax, abort)
	tp := a.Topic("t")
	appendN(t, a, tp, 0, 4, roomRecord)
	used := a.Budget.Used()

	if ok, err := appendTo(context.Background(), a, tp, 0, time.Now().Add(20*time.Millisecond)); ok || !errors.Is(err, ErrPartitionFull) {
		t.Fatalf("at the deadline: ok=%v err=%v, want ErrPartitionFull", ok, err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, c := range []context.Context{ctx, context.Background()} {
		wg.Go(func() {
			_, err := appendTo(c, a, tp, 0, time.Now().Add(time.Hour))
			errs <- err
		})
	}
	p0 := tp.Partition(0)
	waitFor(t, "two waiters", func() bool { return p0.room.waiting.Load() == 2 })
	cancel()
	waitFor(t, "the cancelled waiter to leave", func() bool { return p0.room.waiting.Load() == 1 })
	close(abort)
	wg.Wait()
	close(errs)
	var canceled, aborted int
	for err := range errs {
		switch {
		case errors.Is(err, context.Canceled):
			canceled++
		case errors.Is(err, ErrAborted):
			aborted++
		default:
			t.Fatalf("a wait ended with %v, want context.Canceled or ErrAborted", err)
		}
	}
	if canceled != 1 || aborted != 1 {
		t.Fatalf("%d cancelled and %d aborted waits, want one each", canceled, aborted)
	}
	if a.Budget.Used() != used || p0.RoomWaiting() {
		t.Fatalf("budget used %d (want %d), waiting %v: a wait that ended left something", a.Budget.Used(), used, p0.RoomWaiting())
	}
}

// TestPartitionMaxOffLetsOnePartitionTakeAll is Java's behaviour, the default: one
// partition takes the whole buffer.memory, and then a Send to any other partition waits.
func TestPartitionMaxOffLetsOnePartitionTakeAll(t *testing.T) {
	a := newRoomAcc(0, nil)
	tp := a.Topic("t")
	appendN(t, a, tp, 0, 64, roomRecord)
	if ok, err := appendTo(context.Background(), a, tp, 1, time.Now().Add(20*time.Millisecond)); ok || err != nil {
		t.Fatalf("append to another partition: ok=%v err=%v, want it to wait for buffer.memory and time out", ok, err)
	}
}

// TestPartitionMaxAdmitsLargeRecordAlone: a record larger than the bound still goes, in a
// batch of its own, once its partition holds nothing; it waits while the partition holds
// something.
func TestPartitionMaxAdmitsLargeRecordAlone(t *testing.T) {
	a := newRoomAcc(roomMax, nil)
	tp := a.Topic("t")
	big := Rec{Timestamp: 1, Value: make([]byte, 2*roomMax)}
	if _, ok, err := a.Append(context.Background(), time.Now().Add(time.Second), tp, Target{Partition: 0}, &big); !ok {
		t.Fatalf("a large record to an empty partition: %v", err)
	}
	big2 := Rec{Timestamp: 1, Value: make([]byte, 2*roomMax)}
	if _, ok, err := a.Append(context.Background(), time.Now().Add(20*time.Millisecond), tp, Target{Partition: 0}, &big2); ok || !errors.Is(err, ErrPartitionFull) {
		t.Fatalf("a second large record: ok=%v err=%v, want ErrPartitionFull", ok, err)
	}
}

// TestPartitionMaxMovesStickyRecords: an unkeyed record whose sticky partition is full
// moves to another partition instead of waiting.
func TestPartitionMaxMovesStickyRecords(t *testing.T) {
	a := newRoomAcc(roomMax, nil)
	tp := a.Topic("t")
	var n atomic.Uint32
	tp.Sticky = partition.NewSticky(roomBatch, func() uint32 { return n.Add(1) - 1 }) // 0, 1, 2...
	parts := partition.Partitions{Count: 2, Available: []int32{0, 1}}
	appendN(t, a, tp, 0, 4, roomRecord) // partition 0 full; the sticky choice is 0
	pid, ok, err := appendUnkeyed(a, tp, parts)
	if !ok || pid != 1 {
		t.Fatalf("unkeyed append went to %d (ok=%v err=%v), want partition 1", pid, ok, err)
	}
}

// TestPartitionMaxMovesStickyRecordsPastFullDraws: an unkeyed record whose partitioner
// keeps drawing the full partition still moves to one with room instead of waiting.
func TestPartitionMaxMovesStickyRecordsPastFullDraws(t *testing.T) {
	a := newRoomAcc(roomMax, nil)
	tp := a.Topic("t")
	tp.Sticky = partition.NewSticky(roomBatch, func() uint32 { return 3 }) // partition 0 of 3, always
	parts := partition.Partitions{Count: 3, Available: []int32{0, 1, 2}}
	appendN(t, a, tp, 0, 4, roomRecord) // partition 0 full
	pid, ok, err := appendUnkeyed(a, tp, parts)
	if !ok || pid != 1 {
		t.Fatalf("unkeyed append went to %d (ok=%v err=%v), want partition 1, the one after the full one", pid, ok, err)
	}
}

// TestPartitionMaxUnderConcurrentAppendAndDrain: appenders to a few partitions race a
// drainer; no partition ever holds more than the bound, every append succeeds, and every
// byte comes back. Run with -race.
func TestPartitionMaxUnderConcurrentAppendAndDrain(t *testing.T) {
	const appenders, perAppender, parts = 4, 2000, 3
	a := newRoomAcc(roomMax, nil)
	tp := a.Topic("t")
	var over atomic.Int64
	stopDrain := drainConcurrently(a, tp, func(p *Partition, _ *Batch) {
		if b := p.Buffered(); b > roomMax {
			over.Store(b)
		}
	})
	var wg sync.WaitGroup
	for g := range appenders {
		wg.Go(func() {
			for i := range perAppender {
				r := Rec{Timestamp: 1, Value: make([]byte, 10+(i*7919+g)%900)}
				if _, ok, err := a.Append(context.Background(), time.Now().Add(time.Minute), tp, Target{Partition: int32((i + g) % parts)}, &r); !ok {
					t.Errorf("append: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	stopDrain()
	if b := over.Load(); b != 0 {
		t.Fatalf("a partition held %d bytes, over buffer.memory.partition.max %d", b, roomMax)
	}
	for _, b := range a.TakeAll() {
		a.Done(b)
	}
	if u := a.Budget.Used(); u != 0 {
		t.Fatalf("%d bytes still charged", u)
	}
}

// TestPartitionMaxMoveKeepsAdaptiveExclusions: a record moved off a full partition goes
// only where the partitioner may draw. The adaptive partitioner leaves out partition 1
// (its leader is past partitioner.availability.timeout.ms) and 0 and 2 are full: the
// record waits for room on 0 or 2 and fails naming them all, instead of going to 1.
func TestPartitionMaxMoveKeepsAdaptiveExclusions(t *testing.T) {
	a := newRoomAcc(roomMax, nil)
	tp := a.Topic("t")
	var n atomic.Uint32
	tp.Sticky = partition.NewSticky(roomBatch, func() uint32 { return n.Add(1) })
	parts := partition.Partitions{Count: 3, Available: []int32{0, 1, 2}}
	appendN(t, a, tp, 0, 4, roomRecord) // full
	appendN(t, a, tp, 2, 4, roomRecord) // full
	appendN(t, a, tp, 1, 1, roomRecord) // room, but its leader is unavailable
	var ls partition.LoadStats
	ls.Reset(true, 3, 3)
	ls.Add(0, 4, false)
	ls.Add(1, 1, true) // left out of the table
	ls.Add(2, 4, false)
	tp.Sticky.UpdateLoadStats(&ls)
	pid, ok, err := appendUnkeyed(a, tp, parts)
	if ok || pid == 1 || !errors.Is(err, ErrTopicFull) || !errors.Is(err, ErrPartitionFull) {
		t.Fatalf("unkeyed append: partition %d, ok=%v, err=%v; want a wait on 0 or 2 ending in ErrTopicFull", pid, ok, err)
	}
}

// TestWithRoomStartsAfterFull: the search for a partition with room starts after the
// full one among those the partitioner may draw, so moved records spread.
func TestWithRoomStartsAfterFull(t *testing.T) {
	a := newRoomAcc(roomMax, nil)
	tp := a.Topic("t")
	parts := partition.Partitions{Count: 8, Available: []int32{0, 2, 4, 6}}
	for full, want := range map[int32]int32{2: 4, 6: 0, 0: 2} {
		if got, ok := a.withRoom(tp, parts, full, roomBatch); !ok || got != want {
			t.Errorf("withRoom after full partition %d over %v = %d, %v; want %d", full, parts.Available, got, ok, want)
		}
	}
}

// TestPartitionMaxUnkeyedWaitsForAnyPartition: unkeyed appenders with two partitions
// never drained (stalled leaders) and one without a leader all get through while the
// others drain: a record that finds no room waits for any partition, not for the stalled
// one it was drawn to (which held it for max.block.ms). No partition goes over the
// bound, none is given a record without a leader, and every record is found.
func TestPartitionMaxUnkeyedWaitsForAnyPartition(t *testing.T) {
	for _, adaptive := range []bool{false, true} {
		t.Run(fmt.Sprint("adaptive=", adaptive), func(t *testing.T) { stalledRun(t, adaptive) })
	}
}

func stalledRun(t *testing.T, adaptive bool) {
	t.Helper()
	const appenders, perAppender = 8, 3000
	a := newRoomAcc(roomMax, nil)
	tp := a.Topic("t")
	parts := partition.Partitions{Count: 7, Available: []int32{0, 1, 2, 3, 4, 5}} // 6 has no leader
	for i := range int32(7) {
		tp.Partition(i)
	}
	stalled := map[int32]bool{0: true, 3: true}
	var over atomic.Int64
	var drained atomic.Int64
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		var ls partition.LoadStats
		for {
			select {
			case <-done:
				return
			default:
			}
			ls.Reset(true, 7, 7)
			for _, p := range tp.Partitions() {
				if b := p.Buffered(); b > roomMax {
					over.Store(b)
				}
				h, ok := p.Peek()
				if p.ID != 6 {
					ls.Add(p.ID, h.Queued, stalled[p.ID] && h.Queued > 0)
				}
				if stalled[p.ID] || !ok || !p.Pop(h.Batch) {
					continue
				}
				drained.Add(int64(h.Batch.NumRecords()))
				a.Done(h.Batch)
			}
			if adaptive {
				tp.Sticky.UpdateLoadStats(&ls)
			}
			runtime.Gosched()
		}
	}()
	var wg sync.WaitGroup
	var appended atomic.Int64
	var bad atomic.Int32
	bad.Store(-1)
	start := time.Now()
	for g := range appenders {
		wg.Go(func() {
			for i := range perAppender {
				r := Rec{Timestamp: 1, Value: make([]byte, 10+(i*7919+g)%900)}
				pid, ok, err := a.Append(context.Background(), time.Now().Add(10*time.Second), tp, Target{Partition: -1, Parts: parts}, &r)
				if !ok {
					t.Errorf("append to %d: %v (held %d)", pid, err, tp.Partition(pid).Buffered())
					return
				}
				if pid == 6 {
					bad.Store(pid)
				}
				appended.Add(1)
			}
		})
	}
	wg.Wait()
	close(done)
	<-stopped
	t.Logf("%d appends in %v", appended.Load(), time.Since(start))
	if b := over.Load(); b != 0 {
		t.Fatalf("a partition held %d bytes, over %d", b, roomMax)
	}
	if bad.Load() >= 0 {
		t.Fatalf("record placed on leaderless partition %d", bad.Load())
	}
	left := int64(0)
	for _, b := range a.TakeAll() {
		left += int64(b.NumRecords())
		a.Done(b)
	}
	if got := drained.Load() + left; got != appended.Load() {
		t.Fatalf("%d records appended, %d found", appended.Load(), got)
	}
	if u := a.Budget.Used(); u != 0 {
		t.Fatalf("%d bytes still charged", u)
	}
}

// TestPartitionMaxTableChangeWakesWaiters: an unkeyed record waits because the only
// partition with room is left out of the adaptive table; the sender then publishes a table
// that includes it, with no bytes released anywhere, and wakes the topic's waiters as
// sendReady does: the record goes there instead of sleeping until max.block.ms.
func TestPartitionMaxTableChangeWakesWaiters(t *testing.T) {
	a := newRoomAcc(roomMax, nil)
	tp := a.Topic("t")
	parts := partition.Partitions{Count: 3, Available: []int32{0, 1, 2}}
	appendN(t, a, tp, 0, 4, roomRecord) // full
	appendN(t, a, tp, 2, 4, roomRecord) // full
	appendN(t, a, tp, 1, 1, roomRecord) // room, but its leader is unavailable
	publish := func(exclude1 bool) {
		var ls partition.LoadStats
		ls.Reset(true, 3, 3)
		ls.Add(0, 4, false)
		ls.Add(1, 1, exclude1)
		ls.Add(2, 4, false)
		tp.Sticky.UpdateLoadStats(&ls)
	}
	publish(true)
	type result struct {
		pid int32
		ok  bool
		err error
	}
	done := make(chan result, 1)
	go func() {
		r := Rec{Timestamp: 1, Value: make([]byte, roomRecord)}
		pid, ok, err := a.Append(context.Background(), time.Now().Add(10*time.Second), tp, Target{Partition: -1, Parts: parts}, &r)
		done <- result{pid, ok, err}
	}()
	waitFor(t, "the unkeyed record waiting for room", func() bool { return tp.room.waiting.Load() > 0 })
	publish(false) // partition 1's leader is back
	tp.WakeRoom()
	if r := <-done; !r.ok || r.pid != 1 { // not woken, it fails after its 10 s
		t.Fatalf("unkeyed append after the table let partition 1 in: partition %d ok=%v err=%v; want partition 1", r.pid, r.ok, r.err)
	}
}
