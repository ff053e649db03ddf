package accumulator

import (
	"sync"
	"sync/atomic"
	"time"
)

// Partition is one topic-partition's queue of batches, oldest first.
type Partition struct {
	Topic string
	ID    int32

	mu      sync.Mutex // guards batches, hint, small and each open batch's contents
	batches []*Batch
	// hint is the buffer class the partition's recent batches needed (sealLocked): where
	// a new batch starts, within the partition's share (Accumulator.startClass).
	hint  int8
	small int8 // batches sealed in a row two classes or more below hint, memory short

	// buffered is the buffer.memory bytes this partition's batches hold, from their first
	// record to their completion; Accumulator.hold is its only writer.
	buffered atomic.Int64
	// room holds the Sends waiting for buffered to drop under buffer.memory.partition.max.
	room room
	// topicRoom is the topic's room for unkeyed Sends, woken with this one's.
	topicRoom *room
	// budget is buffer.memory: sealLocked lowers the hint only while Sends wait for it.
	budget *Budget

	// Sender goroutine only: ordering and idempotence state.

	// Ordered lists the batches drained and not yet handed to completion, in drain
	// (= send) order; a finished batch waits there behind unfinished earlier ones.
	Ordered []*Batch
	// InFlight lists this partition's batches awaiting a response, in send order.
	InFlight []*Batch
	// NextExpected is the sequence the broker expects next: the one after the last
	// acknowledged batch (KIP-98). A batch failing OUT_OF_ORDER_SEQUENCE_NUMBER whose
	// base sequence is not this one failed only because an earlier batch did.
	NextExpected int32
	// NextSequence is the base sequence of the next new batch (idempotence, KIP-98).
	NextSequence int32
	// SequenceEpoch and SequencePID are the producer identity NextSequence belongs to.
	SequencePID   int64
	SequenceEpoch int16
	// Unresolved is set when a batch that may have been written failed for good with
	// its sequence assigned (delivery.timeout.ms, retries exhausted, a refusal); nothing
	// new is drained until it is resolved: an acknowledgement reaches UnresolvedUpTo, or
	// the epoch is bumped (KIP-360, rule 8 of the idempotence reference).
	Unresolved bool
	// UnresolvedUpTo is the sequence after the last possibly written, failed batch.
	UnresolvedUpTo int32
	// LastAckedOffset is the last offset a broker acknowledged, -1 before any.
	LastAckedOffset int64
}

func newPartition(topic string, id int32, topicRoom *room, budget *Budget) *Partition {
	return &Partition{Topic: topic, ID: id, LastAckedOffset: -1, topicRoom: topicRoom, budget: budget}
}

// Buffered returns the bytes of buffer.memory the partition's batches hold (queued, in
// flight or awaiting completion): what buffer.memory.partition.max bounds (room.go).
func (p *Partition) Buffered() int64 { return p.buffered.Load() }

// AddInFlight records that b was sent.
func (p *Partition) AddInFlight(b *Batch) { p.InFlight = append(p.InFlight, b) }

// RemoveInFlight records that b's request ended.
func (p *Partition) RemoveInFlight(b *Batch) {
	for i, x := range p.InFlight {
		if x == b {
			p.InFlight = append(p.InFlight[:i], p.InFlight[i+1:]...)
			return
		}
	}
}

// Queued returns the batches waiting in the queue (for sequence adjustments), oldest
// first. Sender goroutine only; the slice must not be kept.
func (p *Partition) Queued() []*Batch {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*Batch(nil), p.batches...)
}

// Head describes the oldest batch of a partition, for the sender's readiness check.
type Head struct {
	Batch *Batch
	// Full is true when the head is sealed or more batches wait behind it.
	Full bool
	// Created is when the head's first record was appended.
	Created time.Time
	// Queued is the number of batches waiting.
	Queued int
}

// Peek returns the partition's head batch, or ok=false when the queue is empty.
func (p *Partition) Peek() (h Head, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.batches) == 0 {
		return Head{}, false
	}
	b := p.batches[0]
	return Head{Batch: b, Full: b.sealed || len(p.batches) > 1, Created: b.Created, Queued: len(p.batches)}, true
}

// Pop removes and seals the head batch if it is still b (appenders cannot add to it
// afterwards), for the sender to send it.
func (p *Partition) Pop(b *Batch) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.batches) == 0 || p.batches[0] != b {
		return false
	}
	if !b.sealed {
		p.sealLocked(b)
	}
	p.batches = PopFront(p.batches)
	return true
}

// PopFront removes q's first batch and returns the rest in the same array. Popping with
// q[1:] gives up the array's front, so a queue that empties and refills one batch at a
// time (each partition's, with many partitions) allocated a new array per batch; a short
// queue is shifted down instead. A long one (a backlog) is resliced: moving it would cost
// more than the rare growth; its array is let go when it is short again.
func PopFront(q []*Batch) []*Batch {
	n := len(q)
	if n > popShiftMax {
		q[0] = nil
		if n == popShiftMax+1 && cap(q) > 8*popShiftMax {
			// A backlog is down to a short queue: move it to an array of its own so the
			// backlog's is not kept for good (once per backlog; a queue hovering at this
			// length in a small array keeps it).
			short := make([]*Batch, popShiftMax, 2*popShiftMax)
			copy(short, q[1:])
			return short
		}
		return q[1:]
	}
	copy(q, q[1:])
	q[n-1] = nil
	return q[:n-1]
}

// popShiftMax is the longest queue PopFront shifts rather than reslices.
const popShiftMax = 16

// Requeue puts a batch that must be sent again (or a half of a split one) back in the
// queue, ahead of every batch never drained and, among retried ones, in base sequence order so an idempotent partition
// resends its batches in the order the broker expects (KIP-98).
func (p *Partition) Requeue(b *Batch) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b.sealed = true
	i := 0
	for i < len(p.batches) && (p.batches[i].Attempts > 0 || p.batches[i].HasSequence) &&
		(!b.HasSequence || !p.batches[i].HasSequence || seqBefore(p.batches[i].BaseSequence, b.BaseSequence)) {
		i++
	}
	p.batches = append(p.batches, nil)
	copy(p.batches[i+1:], p.batches[i:])
	p.batches[i] = b
}

// seqBefore reports whether sequence a comes before b; sequences are 31-bit and wrap from
// MaxInt32 to 0 (rule 1), so the distance is taken modulo 2^31.
func seqBefore(a, b int32) bool { return a != b && (b-a)&0x7fffffff < 1<<30 }

// Len returns the number of queued batches.
func (p *Partition) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.batches)
}

// QueuedCharged returns the buffer.memory bytes of the batches waiting in the queue (not
// drained, or put back for a retry), the open one included.
func (p *Partition) QueuedCharged() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var n int64
	for _, b := range p.batches {
		n += b.charged
	}
	return n
}

// takeAll empties the queue (abort on close or fatal error).
func (p *Partition) takeAll() []*Batch {
	p.mu.Lock()
	defer p.mu.Unlock()
	bs := p.batches
	for _, b := range bs {
		b.sealed = true
	}
	p.batches = nil
	return bs
}

// SealHead seals b if it is still the head batch, so appenders open a new batch.
func (p *Partition) SealHead(b *Batch) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.batches) == 0 || p.batches[0] != b {
		return false
	}
	if !b.sealed {
		p.sealLocked(b)
	}
	return true
}

// sealLocked closes an open batch to appends and moves the partition's hint, where its
// next batch starts (see startClass, which bounds it by the partition's share of
// buffer.memory), toward the class b's records needed. Up at once, so a busy partition
// does not copy its way up every batch. Down one class after four batches in a row
// sealed two classes or more below it (a quarter of its buffer or less, for doubling
// classes) while Sends waited for buffer.memory; so it rests at 2 KiB at the lowest. A
// hint that only rose kept 1,000 keyed partitions at 16 KiB buffers holding about 500
// bytes each once the broker fell behind: buffer.memory was spent on empty space, and
// every batch left at a few records (0.54x franz-go's records/s in the matrix). With
// memory to spare the empty space costs nothing; and lowering it at every small batch
// made busy partitions whose batches the sender takes early (8 goroutines, 16
// partitions, on the sink) trade buffers between classes, 12% more CPU per record. A
// batch whose start was capped by the partition's share, and sealed full when it could
// not grow, counts as small too: the hint then drifts to what memory allows.
func (p *Partition) sealLocked(b *Batch) {
	b.sealed = true
	if b.class < 0 { // a buffer of its own: says nothing of the partition's batches
		return
	}
	c := int8(min(doublingClass(b.builder.Len()), int(b.class))) // the batch's class holds its bytes
	switch {
	case c > p.hint:
		p.hint, p.small = c, 0
	case c < p.hint-1 && p.budget.Exhausted():
		if p.small++; p.small >= 4 {
			p.hint, p.small = p.hint-1, 0
		}
	default:
		p.small = 0
	}
}
