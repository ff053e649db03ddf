package kprod

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"sync"
	"time"

	"github.com/kprod-io/kprod/internal/accumulator"
	"github.com/kprod-io/kprod/internal/cluster"
	"github.com/kprod-io/kprod/internal/config"
	"github.com/kprod-io/kprod/internal/partition"
	"github.com/kprod-io/kprod/internal/wallclock"
)

// Send hands a record to the producer and returns once it is buffered: the asynchronous
// send with a callback (Java's send(record, callback)). cb runs exactly once, later, with
// the record's metadata or a *DeliveryError, on the producer's completion goroutine, in
// send order per partition; it must not block for long. A nil cb is fire-and-forget.
//
// Send blocks only for metadata of a topic it has not seen and for buffer space, both
// bounded by max.block.ms and ctx; and with GOMAXPROCS=1, after sealing a batch, while
// every in-flight request slot is taken and a whole request (max.request.size) already
// waits behind them, so that the runtime reads the answers instead of records piling up
// (internal/sender/pace.go). That hold ends at the sender's next pass after an answer,
// at most 10 ms (Go's own preemption quantum) from when it began, whatever ctx. When it returns an error the record was not accepted,
// cb is not called, and the record was certainly not written: ErrClosed,
// ErrInvalidTopic, ErrInvalidPartition (also for a custom partitioner's number out of
// range), ErrRecordTooLarge (over max.request.size, buffer.memory or the topic's
// max.message.bytes, see sizelimit.go), ErrMetadataTimeout, ErrBufferExhausted, ErrNilRecord,
// ErrNilContext, or ctx's error.
//
// With spool.dir, Send returns once the record is appended to the spool (and fsynced
// under spool.sync=always); it waits for spool space (spool.max.bytes, up to
// max.block.ms: ErrBufferExhausted), never for metadata, and partitions the record when
// it is delivered, so ErrMetadataTimeout and a partition beyond the topic's count come
// through cb instead. A write or fsync failure of the spool is an error too.
func (p *Producer) Send(ctx context.Context, r *Record, cb func(RecordMetadata, error)) error {
	var done any
	if cb != nil {
		done = cb
	}
	return p.send(ctx, r, done)
}

// SendSync sends a record and waits for its outcome: the synchronous send (Java's
// send(record).get()). If ctx ends first it returns a *DeliveryError wrapping ctx's
// error with MaybeWritten set: the record stays in flight and may still be written.
func (p *Producer) SendSync(ctx context.Context, r *Record) (RecordMetadata, error) {
	w := syncWaiters.Get().(*syncWaiter)
	if err := p.send(ctx, r, w); err != nil {
		syncWaiters.Put(w)
		return RecordMetadata{}, err
	}
	select {
	case res := <-w.ch:
		syncWaiters.Put(w)
		return res.md, res.err
	case <-ctx.Done():
		// The completion will still arrive on w.ch (buffered); w is not reused.
		part, ok := r.Partition.Get()
		if !ok {
			part = -1
		}
		return RecordMetadata{}, &DeliveryError{Topic: r.Topic, Partition: part, Err: ctx.Err(), MaybeWritten: true}
	}
}

type syncResult struct {
	md  RecordMetadata
	err error
}

type syncWaiter struct{ ch chan syncResult }

var syncWaiters = sync.Pool{New: func() any { return &syncWaiter{ch: make(chan syncResult, 1)} }}

// interceptedOnly marks records that no caller waits for but interceptors must see.
type interceptedOnly struct{}

// send runs the interceptors around sendRecord. A Send racing Close needs no tracking
// here: it appends before Close's barrier (accumulator.SetClosing) or fails with
// ErrClosed.
func (p *Producer) send(ctx context.Context, r *Record, done any) error {
	if ctx == nil || r == nil { // Java throws NullPointerException; an error is kinder
		if r == nil {
			return ErrNilRecord
		}
		return nilContext("Send")
	}
	if len(p.interceptors) == 0 && p.hook == nil {
		if p.spool != nil {
			return p.spoolAppend(ctx, r, done)
		}
		return p.sendRecord(ctx, r, done)
	}
	return p.sendObserved(ctx, *r, done)
}

// sendObserved sends a record that interceptors or a SendHook watch: they see it before
// it is buffered and learn its outcome, also when Send refuses it.
func (p *Producer) sendObserved(ctx context.Context, rec Record, done any) error {
	if len(p.interceptors) > 0 {
		rec = p.onSend(rec)
		if done == nil {
			done = interceptedOnly{}
		}
	}
	observed := false
	if p.hook != nil {
		done, observed = p.hookSend(ctx, &rec, done)
	}
	var err error
	if p.spool != nil { // spooled: delivered, and completed, later
		err = p.spoolAppend(ctx, &rec, done)
	} else {
		err = p.sendRecord(ctx, &rec, done)
	}
	if err != nil { // Java's onSendError: interceptors see refused records too
		part, ok := rec.Partition.Get()
		if !ok {
			part = -1
		}
		md := RecordMetadata{Topic: rec.Topic, Partition: part, Offset: -1}
		if observed {
			p.hookOnDone(done.(*hooked), md, err)
		}
		if len(p.interceptors) > 0 {
			p.onAck(md, err)
		}
	}
	return err
}

// sendRecord validates, partitions and appends one record. It must not modify *rec.
func (p *Producer) sendRecord(ctx context.Context, rec *Record, done any) (err error) {
	if p.closed.Load() {
		return ErrClosed
	}
	return p.sendAccepted(ctx, rec, done)
}

// sendAccepted is sendRecord without the closed check: the spool's feeder hands over
// records while Close waits for it, before the accumulator's closing barrier.
func (p *Producer) sendAccepted(ctx context.Context, rec *Record, done any) (err error) {
	if h := p.hot.Load(); h == nil || h.name != rec.Topic { // the hot topic was validated already
		if err := validateTopic(rec.Topic); err != nil {
			return err
		}
	}
	if p.txn != nil && p.txn.Transactional() {
		if err := p.txn.CheckSend(); err != nil {
			return refused(txnError(err))
		}
	}
	explicit, hasExplicit := rec.Partition.Get()
	if hasExplicit && explicit < 0 {
		return fmt.Errorf("%w: %d", ErrInvalidPartition, explicit)
	}
	// The exact bound needs varint sizes; a headerless record far below both limits (the
	// common case) cannot exceed them: its overhead is at most 61+21 bytes.
	small := len(rec.Headers) == 0 && int64(len(rec.Key)+len(rec.Value)+128) <= min(int64(p.set.MaxRequestSize), p.set.BufferMemory)
	if !small {
		size := accumulator.MaxRecordSize(rec.Key, rec.Value, wireHeaders(rec.Headers))
		if size > p.set.MaxRequestSize {
			return fmt.Errorf("%w: the record is %d bytes when serialized, more than the producer's max.request.size=%d (a producer setting, not the topic's max.message.bytes); not sent, not written",
				ErrRecordTooLarge, size, p.set.MaxRequestSize)
		}
		if int64(size) > p.set.BufferMemory {
			return fmt.Errorf("%w: the record is %d bytes when serialized, more than the producer's buffer.memory=%d; not sent, not written",
				ErrRecordTooLarge, size, p.set.BufferMemory)
		}
	}
	var deadline time.Time // max.block.ms; the clock is read only if Send has to wait

	need := int32(1)
	if hasExplicit {
		// Saturated: partition MaxInt32 cannot exist (a count is an int32), so it
		// waits for max.block.ms like any partition beyond the count.
		need = explicit + min(1, math.MaxInt32-explicit)
	}
	t, at := p.topics(rec.Topic)
	if t == nil || t.ErrorCode != 0 || t.Parts.Count < need {
		waitStart := time.Now()
		deadline = waitStart.Add(p.set.MaxBlock)
		t, err = p.waitTopic(ctx, rec.Topic, need, deadline)
		// Java's metadata-wait-time-ns-total: sends that waited and got their metadata.
		if p.timedOK(&p.metrics.MetadataWaitNs, waitStart, err) != nil {
			return refused(err)
		}
	}
	if p.nearTopicLimit(rec, t.MaxMessageBytes) { // sizelimit.go
		if err := topicLimitError(rec, t.MaxMessageBytes); err != nil {
			return err
		}
	}

	tg := accumulator.Target{Partition: -1, Parts: t.Parts}
	switch {
	case hasExplicit:
		if explicit >= t.Parts.Count { // only MaxInt32 gets here: see need
			return fmt.Errorf("%w: partition %d of topic %s with partition count %d",
				ErrMetadataTimeout, explicit, rec.Topic, t.Parts.Count)
		}
		tg.Partition = explicit
	case p.partitioner != nil:
		if tg.Partition, err = p.customPartition(t, at, rec); err != nil {
			return err
		}
	default:
		tg.Partition = p.choosePartition(t, at, rec)
	}

	// The wall clock, read once as Java's send reads System.currentTimeMillis once: the
	// same milliseconds as time.Now, at half its cost where the platform allows. It is
	// the record's timestamp when it has none, and the send time its Timing counts from.
	sent := wallclock.NowMicros()
	ts := sent / 1000
	if !rec.Timestamp.IsZero() {
		ts = rec.Timestamp.UnixMilli()
	}
	ar := accumulator.Rec{Timestamp: ts, SentMicros: sent, Key: rec.Key, Value: rec.Value, Headers: wireHeaders(rec.Headers), Done: done}
	var ok2 bool
	var used int32
	used, ok2, err = p.acc.Append(ctx, deadline, at, tg, &ar)
	if ok2 && p.txn != nil {
		p.txn.AddPartition(rec.Topic, used) // transactions v1 register it before it is sent
	}
	if !ok2 {
		switch {
		case errors.Is(err, accumulator.ErrAborted):
			return ErrClosed
		case errors.Is(err, accumulator.ErrTopicFull):
			which := "an unkeyed record" // the sticky partitioner places it
			if rec.Key != nil {
				which = "this keyed record (spread by the sticky partitioner, partitioner.ignore.keys=true)"
			}
			return fmt.Errorf("%w: every partition of topic %s %s may go to held buffer.memory.partition.max=%d bytes for max.block.ms=%d ms (their leaders have not acknowledged their batches)",
				ErrBufferExhausted, rec.Topic, which, p.set.BufferMemoryPartitionMax, p.set.MaxBlock.Milliseconds())
		case errors.Is(err, accumulator.ErrPartitionFull):
			return fmt.Errorf("%w: partition %d of topic %s held buffer.memory.partition.max=%d bytes for max.block.ms=%d ms (its leader has not acknowledged its batches); sends to other partitions are not held back",
				ErrBufferExhausted, used, rec.Topic, p.set.BufferMemoryPartitionMax, p.set.MaxBlock.Milliseconds())
		case err != nil:
			return refused(fmt.Errorf("kprod: no buffer space when the caller's ctx ended: %w", ctxEnd(ctx)))
		}
		return fmt.Errorf("%w: failed to allocate memory within the configured max blocking time %d ms (max.block.ms expired)",
			ErrBufferExhausted, p.set.MaxBlock.Milliseconds())
	}
	return nil
}

// refusedError marks an error Send returned before accepting the record, whatever its
// cause (a ctx that ended while waiting for metadata or buffer space): the record was
// certainly not written.
type refusedError struct{ err error }

func (e *refusedError) Error() string { return e.err.Error() }
func (e *refusedError) Unwrap() error { return e.err }

func refused(err error) error { return &refusedError{err} }

// hotTopic caches the last topic sent to, so the common case of one busy topic costs no
// map lookups (they were a tenth of Send's CPU).
type hotTopic struct {
	name string
	gen  uint64 // the metadata snapshot meta belongs to
	meta *cluster.Topic
	acc  *accumulator.Topic
}

// topics returns the topic's metadata (nil when unknown) and its accumulator state.
func (p *Producer) topics(name string) (*cluster.Topic, *accumulator.Topic) {
	gen := p.meta.Generation()
	if h := p.hot.Load(); h != nil && h.name == name && h.gen == gen {
		h.meta.Touch()
		return h.meta, h.acc
	}
	at := p.acc.Topic(name)
	t, ok := p.meta.Lookup(name)
	if !ok {
		return nil, at
	}
	p.hot.Store(&hotTopic{name: name, gen: gen, meta: t, acc: at})
	return t, at
}

// customPartition asks the custom partitioner for a record without an explicit
// partition. -1 hands the record to the built-in partitioners; any other number
// outside [0, count) is the partitioner's bug and fails Send before anything is
// buffered, as Java's KafkaProducer.partition throws IllegalArgumentException for a
// negative one (beyond the count Java would wait for a partition that never comes).
func (p *Producer) customPartition(t *cluster.Topic, at *accumulator.Topic, r *Record) (int32, error) {
	n := p.partitioner.Partition(t.Name, r.Key, r.Value, t.Parts.Count)
	switch {
	case n >= 0 && n < t.Parts.Count:
		return n, nil
	case n == -1:
		return p.choosePartition(t, at, r), nil
	}
	return 0, fmt.Errorf("%w: partitioner %T returned partition %d for topic %s, which has %d partitions (want 0 to %d, or -1 for the built-in choice)",
		ErrInvalidPartition, p.partitioner, n, t.Name, t.Parts.Count, t.Parts.Count-1)
}

// choosePartition applies the built-in partitioners to a record without an explicit
// partition: murmur2 of the key, then round robin or the uniform sticky partitioner
// (-1).
func (p *Producer) choosePartition(t *cluster.Topic, at *accumulator.Topic, r *Record) int32 {
	if r.Key != nil && !p.set.PartitionerIgnoreKeys {
		return partition.KeyPartition(r.Key, t.Parts.Count)
	}
	if p.set.Partitioner == config.PartitionerRoundRobin {
		return at.RR.Partition(t.Name, t.Parts)
	}
	return -1
}

// onSend runs the interceptors' OnSend; a failing one is logged (summarised: an
// interceptor failing every record is not a line per record) and skipped.
func (p *Producer) onSend(r Record) Record {
	for _, ic := range p.interceptors {
		func() {
			defer func() {
				if v := recover(); v != nil {
					p.logs.Error(fmt.Sprintf("onsend panic %T", ic), "kprod: interceptor OnSend panicked; record sent unchanged by it",
						"interceptor", fmt.Sprintf("%T", ic), "panic", v, "stack", string(debug.Stack()))
				}
			}()
			nr, err := ic.OnSend(r)
			if err != nil {
				p.logs.Warn(fmt.Sprintf("onsend %T", ic), "kprod: interceptor OnSend failed; record sent unchanged by it",
					"interceptor", fmt.Sprintf("%T", ic), "err", err)
				return
			}
			r = nr
		}()
	}
	return r
}

// onAck runs the interceptors' OnAcknowledgement; failures are logged.
func (p *Producer) onAck(md RecordMetadata, err error) {
	for _, ic := range p.interceptors {
		func() {
			defer func() {
				if v := recover(); v != nil {
					p.logs.Error(fmt.Sprintf("onack panic %T", ic), "kprod: interceptor OnAcknowledgement panicked",
						"interceptor", fmt.Sprintf("%T", ic), "panic", v)
				}
			}()
			ic.OnAcknowledgement(md, err)
		}()
	}
}
