package accumulator

import (
	"errors"
	"fmt"

	"github.com/kprod-io/kprod/internal/wire"
)

// Split breaks a batch the broker refused as too large (MESSAGE_TOO_LARGE) into two
// halves by record count, keeping record order, completions and, for an idempotent
// producer, consecutive sequence numbers from the original base sequence (as Java's
// splitAndReenqueue does, so the split batches fill exactly the sequences the refused
// one held). The halves are returned in order, sealed, never sent; the original batch is
// released without completing its records, whose completions moved to the halves. Its
// buffer.memory charge moves to the first half (the halves' buffers are their own, out of
// the pool, about the original's size together), so the partition's share is unchanged.
func (a *Accumulator) Split(b *Batch) ([]*Batch, error) {
	n := b.NumRecords()
	if n < 2 {
		return nil, errors.New("kprod: cannot split a batch of one record")
	}
	raw := b.builder.Finish(wire.BatchOptions{}) // the uncompressed records are still here
	var dec wire.BatchDecoder
	var halves []*Batch
	cut := n / 2
	err := dec.Decode(raw, func(rb *wire.RecordBatch) error {
		var cur *Batch
		for i, r := range rb.Records {
			if i == 0 || i == cut {
				cur = a.newBatch(b.part, -1, wire.BatchHeaderSize+len(raw)/2)
				cur.sealed = true
				cur.Created = b.Created             // delivery.timeout.ms still counts from the first send
				cur.createdMicros = b.createdMicros // the base of the records' Pending.Sent
				cur.Drained = b.Drained             // their accumulator wait ended at the first drain
				cur.MaxRecord = b.MaxRecord
				halves = append(halves, cur)
			}
			hdrs := make([]wire.Header, len(r.Headers))
			for j, h := range r.Headers {
				hdrs[j] = wire.Header{Key: h.Key, Value: h.Value}
			}
			cur.builder.Append(r.Timestamp, r.Key, r.Value, hdrs)
		}
		return nil
	})
	if err != nil || len(halves) != 2 {
		for _, h := range halves {
			a.forget(h)
		}
		if err == nil {
			err = fmt.Errorf("kprod: split found %d batches", len(halves))
		}
		return nil, err
	}
	// The halves count as the original for Flush and Close (KAFKA-9312), and its
	// buffer.memory moves to them.
	a.incMu.Lock()
	for _, h := range halves {
		h.id = b.id
		a.incomplete[h] = b.id
	}
	a.incMu.Unlock()
	// The half takes the charge before the original gives it up, so the partition's
	// bytes never dip and let a Send past buffer.memory.partition.max meanwhile.
	moved := b.charged
	a.hold(b.part, halves[0], moved)
	a.hold(b.part, b, -moved)
	for _, pd := range b.Pending {
		h, idx := halves[0], pd.Index
		if int(idx) >= cut {
			h, idx = halves[1], idx-int32(cut)
		}
		pd.Index = idx
		h.Pending = append(h.Pending, pd)
	}
	if b.HasSequence {
		seq := b.BaseSequence
		for _, h := range halves {
			h.ProducerID, h.Epoch, h.BaseSequence, h.HasSequence = b.ProducerID, b.Epoch, seq, true
			seq = int32(uint32(seq)+uint32(h.NumRecords())) & 0x7fffffff
		}
	}
	b.Pending = nil
	a.Done(b)
	return halves, nil
}

// forget drops a batch that never held budget (a failed split).
func (a *Accumulator) forget(b *Batch) {
	b.holds.Store(1)
	a.Done(b)
}
