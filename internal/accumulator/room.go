package accumulator

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kprod-io/kprod/internal/partition"
)

// Fair buffering, buffer.memory.partition.max (kprod's own, issue 15): a partition may
// hold at most Config.PartitionMax bytes of buffer.memory. Java has no such bound: one
// partition whose leader stopped answering keeps taking buffer.memory until every Send,
// to any partition, blocks on BufferPool.allocate. With the bound, only Sends to that
// partition block, and the rest of buffer.memory stays for partitions that make progress.
//
// The bound is checked where a partition's charge grows (a new batch, a batch moving to
// a larger buffer) under the partition's lock, against Partition.buffered, which hold
// keeps exact. A partition holding nothing may always open a batch, so a record larger
// than the bound is still sent, alone. The bound is at least batch.size (config checks
// it), so a lone batch can always grow to batch.size.

// ErrPartitionFull is returned by Append when max.block.ms passed while the record's
// partition held buffer.memory.partition.max bytes.
var ErrPartitionFull = errors.New("kprod: the partition holds buffer.memory.partition.max")

// ErrTopicFull is ErrPartitionFull for a record the sticky partitioner places (unkeyed,
// or any under partitioner.ignore.keys): every partition it may go to held
// buffer.memory.partition.max until max.block.ms passed.
var ErrTopicFull = fmt.Errorf("%w, as does every other partition the record may go to", ErrPartitionFull)

// room is a partition's waiting list for buffer.memory.partition.max: the Sends blocked
// until the partition's batches release bytes.
//
// Waking uses the store-then-load handshake of two atomics, which Go orders
// sequentially: a waiter counts itself in waiting and then reads buffered; a release
// lowers buffered and then reads waiting. One of the two sees the other, so a release
// never slips between a waiter's check and its wait.
type room struct {
	waiting atomic.Int32 // Sends in waitRoom, read without the lock by released

	mu sync.Mutex    // guards ch
	ch chan struct{} // closed by the next release while someone waits; nil before the first wait
}

// released wakes the partition's waiters after its buffered bytes went down (hold).
func (r *room) released() {
	if r.waiting.Load() == 0 {
		return
	}
	r.mu.Lock()
	if r.ch != nil {
		close(r.ch)
		r.ch = nil
	}
	r.mu.Unlock()
}

// fits reports whether partition p may charge n more bytes: the bound is off, p holds
// nothing, or the bytes stay within the bound. When the bound is off this is one branch.
func (a *Accumulator) fits(p *Partition, n int64) bool {
	if a.cfg.PartitionMax == 0 {
		return true
	}
	held := p.buffered.Load()
	return held == 0 || held+n <= a.cfg.PartitionMax
}

// roomLeft is what partition p may still charge, or -1 when the bound is off.
func (a *Accumulator) roomLeft(p *Partition) int64 {
	if a.cfg.PartitionMax == 0 {
		return -1
	}
	return max(a.cfg.PartitionMax-p.buffered.Load(), 0)
}

// waitRoom blocks until partition p may charge n bytes, ctx ends (its error), the
// producer closes (ErrAborted) or deadline passes (ErrPartitionFull). It takes nothing:
// the caller retries its append, which checks the bound again under p's lock.
func (a *Accumulator) waitRoom(ctx context.Context, p *Partition, n int64, deadline time.Time) error {
	return a.waitOn(ctx, &p.room, func() bool { return a.fits(p, n) }, deadline)
}

// waitOn blocks until fits holds, woken by r's releases; see waitRoom.
func (a *Accumulator) waitOn(ctx context.Context, r *room, fits func() bool, deadline time.Time) error {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		r.mu.Lock()
		if r.ch == nil {
			r.ch = make(chan struct{})
		}
		ch := r.ch
		r.waiting.Add(1)
		r.mu.Unlock()
		if fits() { // after counting ourselves: a release from here on closes ch
			r.waiting.Add(-1)
			return nil
		}
		if timer == nil {
			timer = time.NewTimer(time.Until(deadline))
		}
		var err error
		select {
		case <-ch:
		case <-ctx.Done():
			err = ctx.Err()
		case <-a.cfg.Abort:
			err = ErrAborted
		case <-timer.C:
			err = ErrPartitionFull
		}
		r.waiting.Add(-1)
		if err != nil {
			return err
		}
	}
}

// maxSkips bounds the partitions one sticky-partitioned record is moved to because its
// sticky partition holds buffer.memory.partition.max: maxSkips draws of the partitioner,
// then maxSkips partitions found with room (another appender may fill one first), before
// it waits for any partition to have room (waitAnyRoom).
const maxSkips = 8

// skipFull moves the sticky-partitioned records of the stint sp off its partition, which
// holds buffer.memory.partition.max, and reports whether the record should try again. It
// draws again first, as the sticky partitioner would, so that the partitioner's weights
// still hold; but draws alone can keep landing on full partitions (when one of three
// brokers stalls, a third of the draws do, and one stint in 6561 that starts on a full
// partition would wait after eight more: with a few hundred stints a second, the one
// unkeyed sender stalled every minute or two in TestFairPause), so after maxSkips draws
// it takes a partition with room, and the record waits only when there is none.
func (a *Accumulator) skipFull(t *Topic, sp *partition.StickyPartition, parts partition.Partitions, need int64, skips *int) bool {
	*skips++
	switch {
	case *skips <= maxSkips:
		t.Sticky.Skip(sp, parts)
		return true
	case *skips <= 2*maxSkips:
		next, ok := a.withRoom(t, parts, sp.Partition(), need)
		if ok {
			t.Sticky.SkipTo(sp, next)
		}
		return ok
	}
	return false
}

// withRoom returns a partition that may charge need more bytes, other than full: one the
// partitioner may draw (Sticky.Drawable), searched from the one after full on, so that
// records leaving a full partition do not all crowd onto the lowest id. A partition
// holding nothing (or never used) always has room.
func (a *Accumulator) withRoom(t *Topic, parts partition.Partitions, full int32, need int64) (int32, bool) {
	var arr [64]int32 // the usual topic needs no allocation
	ids := t.Sticky.Drawable(arr[:0], parts)
	start := 0
	for i, id := range ids {
		if id == full {
			start = i + 1
			break
		}
	}
	for i := range ids {
		id := ids[(start+i)%len(ids)]
		if id == full {
			continue
		}
		if p := t.existing(id); p == nil || a.fits(p, need) {
			return id, true
		}
	}
	return -1, false
}

// waitAnyRoom blocks a sticky-partitioned record that found no partition of t with room
// until one of them releases bytes and has room, with waitRoom's errors. Waiting on its
// own partition instead would hold it for max.block.ms behind a stalled leader while the
// healthy partitions free room in milliseconds.
func (a *Accumulator) waitAnyRoom(ctx context.Context, t *Topic, parts partition.Partitions, need int64, deadline time.Time) error {
	err := a.waitOn(ctx, &t.room, func() bool {
		_, ok := a.withRoom(t, parts, -1, need)
		return ok
	}, deadline)
	if err == ErrPartitionFull {
		return ErrTopicFull
	}
	return err
}

// WakeRoom wakes the sticky-partitioned Sends waiting for room on any partition of t, to
// look again: the sender calls it after publishing the adaptive partitioner's table,
// which can make a partition with room drawable without any release. One atomic load when
// none waits.
func (t *Topic) WakeRoom() { t.room.released() }

// RoomWaiting reports whether Sends wait for this partition, or for any partition of its
// topic (sticky-partitioned records), to release bytes (buffer.memory.partition.max): the
// sender then treats its batches as ready, as it treats every batch while anyone waits
// for buffer.memory (Java's RecordAccumulator.ready).
func (p *Partition) RoomWaiting() bool {
	return p.room.waiting.Load() > 0 || p.topicRoom.waiting.Load() > 0
}
