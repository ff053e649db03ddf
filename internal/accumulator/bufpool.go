package accumulator

import (
	"math/bits"
	"sync"
)

// Batch buffers come in size classes and grow with their batch (issue 14): a batch holds,
// and is charged to buffer.memory for, only the buffer its records need, not batch.size
// from its first record as Java's BufferPool charges. With 1,000 keyed partitions and
// batch.size 1 MB, reserving batch.size let only 32 partitions hold a batch at once, and
// batches of about one record each collapsed throughput 17x.
//
// Classes double from minClass up to batch.size, which is the largest class whatever its
// value, so no buffer is larger than batch.size. A batch starts in the class its partition's
// recent batches needed (Partition.hint, see sealLocked) and moves to the next class up
// when a record does not fit; the copy is at most the batch's size once more, amortised, against a
// memmove of 20 GB/s or more. A record larger than batch.size gets a batch and a buffer of
// exactly its size (no class), as Java allocates such a batch outside its pool.

// minClass is the smallest buffer: a few records of a partition that receives little.
const (
	minClassShift = 10
	minClass      = 1 << minClassShift
	maxClasses    = 64 - minClassShift
)

// bufPool keeps the buffers of completed batches by class for reuse (performance.md:
// writing never-touched memory costs a page fault per 4 KiB; recycled buffers are warm).
//
// It counts the buffers it has handed out and not got back (held) and bounds them with
// the idle ones by buffer.memory: put keeps a buffer only while held and idle bytes fit,
// and a new buffer is made only after dropping idle ones until it fits too. So the memory
// of batch buffers stays within buffer.memory at all times, as Java's BufferPool bounds
// its free list and its non-pooled memory together. (Held counts buffers, not the budget:
// bytes granted to an appender that has not yet taken its buffer are no memory yet, and
// counting them dropped idle buffers that appender was about to reuse.) Split halves'
// buffers, which hold no budget of their own, are the one way past it.
type bufPool struct {
	sizes  []int   // class sizes, ascending; the last is batch.size
	budget *Budget // its Max bounds held and idle buffers together

	mu   sync.Mutex           // guards free, idle and held
	free [maxClasses][][]byte // idle buffers per class, len 0, cap the class's size
	idle int64                // bytes in free
	held int64                // bytes of buffers handed out and not put back
	slab slab                 // where new buffers come from (huge pages)
}

func newBufPool(batchSize int, budget *Budget) *bufPool {
	p := &bufPool{budget: budget}
	for s := minClass; s < batchSize && len(p.sizes) < maxClasses-1; s *= 2 {
		p.sizes = append(p.sizes, s)
	}
	if batchSize > 0 {
		p.sizes = append(p.sizes, batchSize)
	}
	return p
}

// doublingClass is the class that holds n bytes when classes double from minClass without
// end; bufPool.class caps it at batch.size.
func doublingClass(n int) int {
	if n <= minClass {
		return 0
	}
	return bits.Len(uint(n-1)) - minClassShift
}

// class returns the smallest class that holds n bytes, or -1 when n is over batch.size.
func (p *bufPool) class(n int) int {
	last := len(p.sizes) - 1
	c := doublingClass(n)
	if c >= last {
		if last >= 0 && n <= p.sizes[last] {
			return last
		}
		return -1
	}
	return c
}

// size returns class c's buffer size.
func (p *bufPool) size(c int) int { return p.sizes[c] }

// get returns an empty buffer of class c, whose bytes the caller has already charged to
// the budget.
func (p *bufPool) get(c int) []byte {
	size := p.sizes[c]
	p.mu.Lock()
	p.held += int64(size)
	if n := len(p.free[c]); n > 0 {
		b := p.free[c][n-1]
		p.free[c][n-1] = nil
		p.free[c] = p.free[c][:n-1]
		p.idle -= int64(size)
		p.mu.Unlock()
		return b
	}
	p.trimLocked()
	p.mu.Unlock()
	return p.slab.newBuf(size, p.budget.Max())
}

// own returns an empty buffer of exactly n bytes that is not kept for reuse (a record
// over batch.size, a split half), counted with the others.
func (p *bufPool) own(n int) []byte {
	p.mu.Lock()
	p.held += int64(n)
	p.trimLocked()
	p.mu.Unlock()
	return make([]byte, 0, n)
}

// trimLocked drops idle buffers, the largest classes first, until held and idle bytes fit
// in buffer.memory again: a new buffer is about to be made.
func (p *bufPool) trimLocked() {
	for c := len(p.sizes) - 1; c >= 0 && p.idle > 0 && p.held+p.idle > p.budget.Max(); c-- {
		for len(p.free[c]) > 0 && p.held+p.idle > p.budget.Max() {
			n := len(p.free[c])
			p.idle -= int64(cap(p.free[c][n-1]))
			p.free[c][n-1] = nil
			p.free[c] = p.free[c][:n-1]
		}
	}
}

// put takes back a buffer from get or own, and keeps it for a later get when it is a class
// buffer and held plus idle bytes stay within buffer.memory; otherwise the garbage
// collector takes it.
func (p *bufPool) put(buf []byte) {
	c := p.class(cap(buf))
	p.mu.Lock()
	p.held -= int64(cap(buf))
	if c >= 0 && cap(buf) == p.sizes[c] && p.held+p.idle+int64(cap(buf)) <= p.budget.Max() {
		p.free[c] = append(p.free[c], buf[:0])
		p.idle += int64(cap(buf))
	}
	p.mu.Unlock()
}

// Idle returns the bytes of idle buffers kept for reuse.
func (p *bufPool) Idle() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.idle
}
