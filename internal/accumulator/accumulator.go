// Package accumulator buffers records into per-partition batches, the producer's
// RecordAccumulator: records are encoded into their batch as they are appended (their
// size is known then, so batch.size and buffer.memory are checked exactly), batches are
// sealed when full or when the sender drains them after linger.ms, and buffer.memory is a
// hard budget that blocks appenders up to max.block.ms.
package accumulator

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/kprod-io/kprod/internal/metrics"
	"github.com/kprod-io/kprod/internal/partition"
	"github.com/kprod-io/kprod/internal/wire"
)

// Config holds the accumulator's settings.
type Config struct {
	// BatchSize is batch.size.
	BatchSize int
	// BufferMemory is buffer.memory.
	BufferMemory int64
	// PartitionMax is buffer.memory.partition.max (kprod's own, see room.go): the most
	// bytes of BufferMemory one partition may hold; 0 means no bound, as in Java.
	PartitionMax int64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Wake tells the sender that a batch became ready or a queue got its first batch.
	// It must not block.
	Wake func()
	// Pause, on one P, holds an append that sealed a batch while the sender cannot write
	// anything more (sender.Pause); nil never holds.
	Pause func()
	// Abort, when closed, ends every wait for buffer space (the producer is closing).
	Abort <-chan struct{}
	// MaxBlock is max.block.ms: how long Append waits for memory when given no deadline.
	MaxBlock time.Duration
	// Compressed says batches will be compressed when sealed; if not, they checksum
	// their records while appending (wire.BatchBuilder.TrackCRC).
	Compressed bool
	// Metrics, when set, records waits for buffer.memory (bufferpool-wait-*,
	// buffer-exhausted-*): only appends that block, never the common path.
	Metrics *metrics.Registry
}

// Accumulator holds every topic's partition queues.
type Accumulator struct {
	cfg    Config
	Budget *Budget

	topicsMu sync.Mutex                        // serialises writers of topics
	topics   atomic.Pointer[map[string]*Topic] // copy on write: lock-free lookups

	// pool keeps the buffers of completed batches by size class, within buffer.memory.
	pool *bufPool

	// free keeps released Batch structs with their completion list and compression
	// buffer (a sync.Pool would lose them at every GC), their lists and buffers together
	// under freeCap bytes (freeExtra counts them); bare keeps structs released past
	// freeCap, without them; the two hold at most maxFree structs. The lists and buffers
	// are heap outside buffer.memory, as Java's callbacks and compression streams are.
	// newBatch takes from free first. One stack for both would hand out the bare struct
	// released last, again and again, while the ones with buffers sat under it (a 1 KiB
	// snappy run allocated a fresh 1 MB compression buffer per batch that way, with 16
	// MiB of them idle).
	freeMu    sync.Mutex
	free      []*Batch
	bare      []*Batch
	freeExtra int64
	maxFree   int
	freeCap   int64

	incMu      sync.Mutex // guards incomplete, nextID and doneCh
	incomplete map[*Batch]uint64
	nextID     uint64
	doneCh     chan struct{} // closed and replaced whenever a batch completes while watched
	watched    bool

	// active counts the partitions holding buffer.memory (Partition.Buffered > 0), for
	// startClass's fair share.
	active atomic.Int64

	flushing atomic.Int32
	closing  atomic.Bool
}

// New returns an empty accumulator.
func New(cfg Config) *Accumulator {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Wake == nil {
		cfg.Wake = func() {}
	}
	if cfg.Pause == nil {
		cfg.Pause = func() {}
	}
	if int64(cfg.BatchSize) > cfg.BufferMemory {
		// A batch's buffer grows up to batch.size bytes of buffer.memory; a batch larger
		// than all of it could never be held (Java then fails every send), so batches are
		// capped at buffer.memory.
		cfg.BatchSize = int(cfg.BufferMemory)
	}
	budget := NewBudget(cfg.BufferMemory)
	a := &Accumulator{cfg: cfg, Budget: budget, pool: newBufPool(cfg.BatchSize, budget), incomplete: map[*Batch]uint64{},
		doneCh: make(chan struct{}), maxFree: int(min(cfg.BufferMemory/minClass, maxFreeBatches)), freeCap: cfg.BufferMemory / 2}
	m := map[string]*Topic{}
	a.topics.Store(&m)
	return a
}

// Topic is one topic's partitions and its sticky partitioner.
type Topic struct {
	Name   string
	Sticky *partition.Sticky
	RR     *partition.RoundRobin

	mu    sync.Mutex // serialises growth of parts
	parts atomic.Pointer[[]*Partition]
	// room holds the sticky-partitioned Sends (unkeyed, or any under
	// partitioner.ignore.keys) that found every partition they may go to at
	// buffer.memory.partition.max; any partition's release wakes them (room.go).
	room room
	// budget is the accumulator's buffer.memory, for its partitions' hints.
	budget *Budget
}

// existing returns partition id's state, or nil if it was never used (it holds nothing).
func (t *Topic) existing(id int32) *Partition {
	if ps := *t.parts.Load(); int(id) < len(ps) {
		return ps[id]
	}
	return nil
}

// Topic returns the topic's state, creating it on first use.
func (a *Accumulator) Topic(name string) *Topic {
	if t, ok := (*a.topics.Load())[name]; ok {
		return t
	}
	a.topicsMu.Lock()
	defer a.topicsMu.Unlock()
	old := *a.topics.Load()
	if t, ok := old[name]; ok {
		return t
	}
	t := &Topic{Name: name, Sticky: partition.NewSticky(a.cfg.BatchSize, nil), RR: &partition.RoundRobin{}, budget: a.Budget}
	empty := []*Partition{}
	t.parts.Store(&empty)
	m := make(map[string]*Topic, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[name] = t
	a.topics.Store(&m)
	return t
}

// Topics returns every topic seen so far.
func (a *Accumulator) Topics() map[string]*Topic { return *a.topics.Load() }

// Partition returns partition id's queue, creating queues up to id on first use.
func (t *Topic) Partition(id int32) *Partition {
	ps := *t.parts.Load()
	if int(id) < len(ps) {
		return ps[id]
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	ps = *t.parts.Load()
	if int(id) < len(ps) {
		return ps[id]
	}
	grown := make([]*Partition, id+1)
	copy(grown, ps)
	for i := len(ps); i <= int(id); i++ {
		grown[i] = newPartition(t.Name, int32(i), &t.room, t.budget)
	}
	t.parts.Store(&grown)
	return grown[id]
}

// Partitions returns the queues created so far, indexed by partition id.
func (t *Topic) Partitions() []*Partition { return *t.parts.Load() }

// Rec is one serialized record to append.
type Rec struct {
	Timestamp int64
	// SentMicros is the wall clock in microseconds when Send took the record: its
	// delivery timing counts from here (see Pending.Sent).
	SentMicros int64
	Key, Value []byte
	Headers    []wire.Header
	// Done is the record's completion, nil when nobody waits for it.
	Done any
}

// MaxRecordSize returns an upper bound of the bytes one record adds to a new batch,
// header included: what Java's estimateSizeInBytesUpperBound checks against
// max.request.size and buffer.memory.
func MaxRecordSize(key, value []byte, headers []wire.Header) int {
	// Offset and timestamp deltas at their largest varint sizes.
	n := wire.RecordSize(1<<30, 1<<62, key, value, headers)
	for v := 1; v <= 5; v++ {
		if wire.SizeVarint(int32(n-v)) == v {
			return wire.BatchHeaderSize + 5 + n - v // Java counts the length varint as 5 bytes
		}
	}
	return wire.BatchHeaderSize + n
}

// Target says where Append puts a record: an explicit or keyed partition, or the
// topic's sticky partitioner over parts.
type Target struct {
	Partition int32 // >= 0: this partition; -1: sticky
	Parts     partition.Partitions
}

// Append encodes r into its partition's open batch, opening a new one when it would
// overflow batch.size. A zero deadline means max.block.ms from when it would block.
// buffer.memory is charged by the bytes batches hold (see bufpool.go): a new batch takes
// its first buffer, and a batch that outgrows its buffer moves to a larger one, taking the
// difference. A new batch waits up to deadline or ctx when the budget is spent (then
// Append returns ok=false and err: ctx's error, ErrAborted, or nil for the deadline), as
// Java's BufferPool.allocate waits up to max.block.ms; a batch that cannot grow without
// waiting is sealed instead, for the sender to send what it holds. A partition holding
// buffer.memory.partition.max waits the same way, for its own bytes only (room.go), and
// fails with ErrPartitionFull at the deadline. It returns the partition used (tried, on
// ErrPartitionFull). Once SetClosing has begun, Append refuses with ErrAborted.
func (a *Accumulator) Append(ctx context.Context, deadline time.Time, t *Topic, tg Target, r *Rec) (int32, bool, error) {
	var grant int64 // budget taken for a new batch and not yet handed to one (no defer: hot path)
	var skips int   // sticky partitions passed over for buffer.memory.partition.max
	// wake outlives the retry: the append that seals a full batch is the one that needs
	// memory for the next batch, and the sender must hear of the full batch at once (Java
	// wakes it when append reports batchIsFull), not at linger.ms.
	var wake bool
	// yield: this append sealed a batch. On one P the sender woken for it would
	// otherwise wait for this goroutine to block (yieldToSender).
	var yield bool
	for {
		var sp *partition.StickyPartition
		pid := tg.Partition
		if pid < 0 {
			sp = t.Sticky.Peek(tg.Parts)
			pid = sp.Partition()
		}
		p := t.Partition(pid)
		p.mu.Lock()
		if a.closing.Load() { // Java's tryAppend: "Producer closed while send in progress"
			p.mu.Unlock()
			if grant > 0 {
				a.Budget.Release(grant)
			}
			return -1, false, ErrAborted
		}
		if t.Sticky.Changed(sp) {
			p.mu.Unlock()
			continue
		}
		used, w, full, need := a.appendLocked(p, r, &grant)
		wake = wake || w != wakeNone
		yield = yield || w == wakeSealed
		if need > 0 {
			// A new batch is needed: take its memory outside the lock (it may block),
			// then try again (another appender may have opened a batch meanwhile).
			capped := !a.fits(p, need)
			p.mu.Unlock()
			if grant > 0 { // taken for a smaller buffer than now needed: take it anew
				a.Budget.Release(grant)
				grant = 0
			}
			if wake {
				a.cfg.Wake() // a sealed batch frees memory once sent
				wake = false
			}
			if capped {
				// The partition holds buffer.memory.partition.max: a record the sticky
				// partitioner placed moves on to another partition, as it does from a
				// full batch; one with a hashed key or an explicit partition waits for
				// this partition alone, holding no budget meanwhile (room.go).
				if sp != nil && a.skipFull(t, sp, tg.Parts, need, &skips) {
					continue
				}
				if deadline.IsZero() {
					deadline = time.Now().Add(a.cfg.MaxBlock)
				}
				a.cfg.Wake() // its batches count as ready while Sends wait for them
				start := time.Now()
				var err error
				if sp != nil {
					// No partition it may go to has room: wait for any of them, then
					// move straight to one with room.
					err = a.waitAnyRoom(ctx, t, tg.Parts, need, deadline)
					skips = maxSkips
				} else {
					err = a.waitRoom(ctx, p, need, deadline)
				}
				if m := a.cfg.Metrics; m != nil {
					end := time.Now()
					m.BufferWait(end.Sub(start).Nanoseconds(), errors.Is(err, ErrPartitionFull), end.UnixMilli())
				}
				if err != nil {
					return pid, false, err
				}
				continue
			}
			if !a.Budget.TryAcquire(need) {
				a.cfg.Wake()           // lingering batches count as ready while memory is short
				if deadline.IsZero() { // read the clock only when about to block
					deadline = time.Now().Add(a.cfg.MaxBlock)
				}
				start := time.Now()
				ok, err := a.Budget.Acquire(ctx, need, deadline, a.cfg.Abort)
				if m := a.cfg.Metrics; m != nil {
					// buffer-exhausted counts sends that max.block.ms gave up on, as
					// Java's BufferPool does on its timeout.
					end := time.Now()
					m.BufferWait(end.Sub(start).Nanoseconds(), !ok && err == nil, end.UnixMilli())
				}
				if !ok {
					return -1, false, err
				}
			}
			grant = need
			continue
		}
		if sp != nil {
			t.Sticky.OnAppend(sp, used, full, tg.Parts)
		}
		p.mu.Unlock()
		if grant > 0 { // another appender opened a batch we could use
			a.Budget.Release(grant)
		}
		if wake {
			a.cfg.Wake()
		}
		if yield {
			a.yieldToSender()
		}
		return pid, true, nil
	}
}

// appendLocked appends r to p's last open batch when it fits, growing its buffer when
// needed, or to a new batch. It returns the bytes the record added, why the sender should
// look (wakeNone: it need not), whether the partition's last batch is now full (the
// sticky partitioner may switch), and need > 0 when a new batch's buffer of need bytes
// could not be charged without waiting (nothing was appended then). Memory comes from
// *grant, taken by the caller while unlocked, or from the budget when it is free at once.
func (a *Accumulator) appendLocked(p *Partition, r *Rec, grant *int64) (used int, wake wakeReason, full bool, need int64) {
	var b *Batch
	if n := len(p.batches); n > 0 && !p.batches[n-1].sealed {
		b = p.batches[n-1]
		end := b.builder.Len() + b.builder.RecordSize(r.Timestamp, r.Key, r.Value, r.Headers)
		switch {
		case end > a.cfg.BatchSize && b.builder.NumRecords() > 0:
			p.sealLocked(b) // full: the sender may take it at once
			wake = wakeSealed
			b = nil
		case end > cap(b.buf) && !a.grow(p, b, end, grant):
			// No memory to grow without waiting (or others wait first): the batch goes
			// as it is, full to its buffer, and the record opens the next batch.
			p.sealLocked(b)
			wake = wakeSealed
			b = nil
		}
	}
	if b == nil {
		size := wire.BatchHeaderSize + wire.RecordSize(0, 0, r.Key, r.Value, r.Headers)
		c, n := a.pool.class(size), size // c < 0: over batch.size, a buffer of its own
		if c >= 0 {
			c = a.startClass(p, c, *grant)
			n = a.pool.size(c)
		}
		if !a.fits(p, int64(n)) || !a.charge(int64(n), grant) {
			return 0, wake, false, int64(n)
		}
		b = a.newBatch(p, c, n)
		a.hold(p, b, int64(n))
		used = wire.BatchHeaderSize
		if len(p.batches) == 0 {
			wake = max(wake, wakeLinger) // the sender starts this partition's linger clock
		}
		p.batches = append(p.batches, b)
	}
	before := b.builder.Len()
	idx := int32(b.builder.NumRecords())
	b.builder.Append(r.Timestamp, r.Key, r.Value, r.Headers)
	rsize := b.builder.Len() - before
	used += rsize
	if rsize > b.maxEnc { // one comparison per record; the bound only for a new largest
		b.maxEnc, b.MaxRecord = rsize, MaxRecordSize(r.Key, r.Value, r.Headers)
	}
	if r.Done != nil {
		if cap(b.Pending) == 0 {
			b.Pending = make([]Pending, 0, pendingCap(cap(b.buf), rsize))
		}
		ks, vs := int32(len(r.Key)), int32(len(r.Value))
		if r.Key == nil {
			ks = -1
		}
		if r.Value == nil {
			vs = -1
		}
		b.Pending = append(b.Pending, Pending{Index: idx, KeySize: ks, ValueSize: vs, Sent: sentOffset(r.SentMicros, b.createdMicros),
			Timestamp: r.Timestamp, Done: r.Done})
	}
	full = b.builder.Len() >= a.cfg.BatchSize
	return used, wake, full, 0
}

// startClass picks a new batch's buffer class: the smallest that holds its first record
// (c), raised to the class the partition's batches need (its hint, see sealLocked, so a
// busy partition does not copy its way up every batch), but no larger than the
// partition's fair share: half of buffer.memory split among the partitions holding memory
// (the other half for batches in flight). A partition with the budget to itself starts
// at batch.size as Java's batches do; 1,000 partitions start small and grow while memory
// is free. With memory already granted, no larger than the grant, so a retry after a wait
// does not ask for more again.
func (a *Accumulator) startClass(p *Partition, c int, grant int64) int {
	h := int(p.hint)
	if h <= c {
		return c
	}
	share := a.Budget.Max() / (2 * max(a.active.Load(), 1))
	if grant > 0 {
		share = min(share, grant)
	}
	if left := a.roomLeft(p); left >= 0 { // within buffer.memory.partition.max
		share = min(share, left)
	}
	for h > c && int64(a.pool.size(h)) > share {
		h--
	}
	return h
}

// charge takes n bytes of buffer.memory from *grant, or from the budget when free without
// waiting. Under the partition's lock: it never blocks.
func (a *Accumulator) charge(n int64, grant *int64) bool {
	if *grant >= n {
		*grant -= n
		return true
	}
	return a.Budget.TryAcquire(n)
}

// grow moves open batch b to a buffer of the class that holds end bytes, when that
// memory is free without waiting, and returns its old buffer to the pool.
func (a *Accumulator) grow(p *Partition, b *Batch, end int, grant *int64) bool {
	c := a.pool.class(end)
	if c < 0 { // cannot happen: end <= batch.size; never grow past it
		return false
	}
	n := int64(a.pool.size(c))
	if !a.fits(p, n-b.charged) || !a.charge(n, grant) {
		return false
	}
	old, oldCharge := b.buf, b.charged
	buf := a.pool.get(c)
	b.builder.Move(buf)
	b.buf, b.class = buf[:0], int8(c)
	if k := len(b.Pending); k > 0 {
		// The completion list grows with the buffer, sized for the records seen so far,
		// so filling the new buffer with records like them does not grow it again.
		if want := pendingCap(cap(buf), (b.builder.Len()-wire.BatchHeaderSize)/b.builder.NumRecords()); cap(b.Pending) < want {
			b.Pending = append(make([]Pending, 0, want), b.Pending...)
		}
	}
	a.hold(p, b, n-oldCharge)
	a.Budget.Release(oldCharge)
	a.pool.put(old)
	return true
}

// hold changes by n the buffer.memory bytes batch b of partition p holds. Every change of
// a batch's charge goes through here, so Partition.Buffered is exact, and a release wakes
// the Sends waiting for the partition's buffer.memory.partition.max (room.go). The budget
// itself is taken and given back by the callers.
func (a *Accumulator) hold(p *Partition, b *Batch, n int64) {
	b.charged += n
	switch v := p.buffered.Add(n); {
	case v == n && n > 0:
		a.active.Add(1)
	case v == 0 && n < 0:
		a.active.Add(-1)
	}
	if n < 0 && a.cfg.PartitionMax != 0 {
		p.room.released()
		p.topicRoom.released()
	}
}

// sentOffset is a record's send time as an offset in microseconds from its batch's
// creation, saturated to int32 (+-35 minutes). It is negative when Send read the clock
// before another appender created the batch, or waited for buffer space in between.
func sentOffset(sent, created int64) int32 {
	return int32(min(max(sent-created, math.MinInt32), math.MaxInt32))
}

// pendingCap sizes a new batch's completion list for the bufSize / record size records
// its first record suggests will fill its buffer. Grown by doubling, each new batch's list
// left its smaller copies behind as garbage and fresh pages; recycled batches keep their
// list's capacity, so this is paid once per batch the producer makes. It stays within
// bufSize bytes: a tiny first record must not reserve more than the buffer it describes.
func pendingCap(bufSize, recordSize int) int {
	return min(bufSize/max(recordSize, 1)+1, bufSize/int(unsafe.Sizeof(Pending{})))
}

// maxFreeBatches bounds the Batch structs kept for reuse.
const maxFreeBatches = 4096

// newBatch opens a batch for p with a buffer of class c, or of its own of n bytes when c
// is -1. The caller charges the buffer (hold).
func (a *Accumulator) newBatch(p *Partition, c, n int) *Batch {
	var b *Batch
	a.freeMu.Lock()
	if len(a.free) > 0 {
		b = popBatch(&a.free)
		a.freeExtra -= freeExtra(b)
	} else if len(a.bare) > 0 {
		b = popBatch(&a.bare)
	}
	a.freeMu.Unlock()
	if b == nil {
		b = &Batch{}
	}
	if c >= 0 {
		// Buffers are recycled (performance.md: writing never-touched memory costs page
		// faults; a fresh 16 KiB buffer per batch showed up as a third of the allocation
		// volume).
		b.buf = a.pool.get(c)
	} else {
		b.buf = a.pool.own(n) // a record larger than batch.size gets its own batch
	}
	b.class = int8(c)
	b.Topic, b.Partition, b.part, b.Created = p.Topic, p.ID, p, a.cfg.Now()
	b.createdMicros = b.Created.UnixMicro()
	b.holds.Store(1)
	b.builder.TrackCRC(!a.cfg.Compressed)
	b.builder.Reset(b.buf)
	a.incMu.Lock()
	a.nextID++
	b.id = a.nextID
	a.incomplete[b] = b.id
	a.incMu.Unlock()
	return b
}

// Done releases a completed batch: its buffer.memory bytes, its place in Flush's
// accounting and its buffers, once every holder (see Hold) has called it. The batch must
// not be used afterwards.
func (a *Accumulator) Done(b *Batch) {
	if b.holds.Add(-1) > 0 {
		return
	}
	charged := b.charged
	a.hold(b.part, b, -charged)
	a.Budget.Release(charged)
	a.pool.put(b.buf)
	a.incMu.Lock()
	delete(a.incomplete, b)
	if a.watched {
		close(a.doneCh)
		a.doneCh = make(chan struct{})
		a.watched = false
	}
	a.incMu.Unlock()
	a.recycle(b)
}

// popBatch takes the last struct off a non-empty stack, clearing its slot.
func popBatch(s *[]*Batch) *Batch {
	k := len(*s) - 1
	b := (*s)[k]
	(*s)[k] = nil
	*s = (*s)[:k]
	return b
}

// freeExtra is the heap a free Batch struct keeps: its completion list and compression
// buffer.
func freeExtra(b *Batch) int64 {
	return int64(cap(b.compBuf)) + int64(cap(b.Pending))*int64(unsafe.Sizeof(Pending{}))
}

// recycle returns a released batch's struct to free, keeping the capacity of its
// Pending list and compression buffer while they fit under freeCap, or else to bare
// without them; everything else is reset.
func (a *Accumulator) recycle(b *Batch) {
	comp, pending := b.compBuf, b.Pending
	clear(pending) // drop the completions' references
	*b = Batch{}
	a.freeMu.Lock()
	if len(a.free)+len(a.bare) < a.maxFree {
		b.compBuf, b.Pending = comp[:0], pending[:0]
		if x := freeExtra(b); a.freeExtra+x <= a.freeCap {
			a.freeExtra += x
			a.free = append(a.free, b)
		} else {
			b.compBuf, b.Pending = nil, nil
			a.bare = append(a.bare, b)
		}
	}
	a.freeMu.Unlock()
}
