package kprod

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kprod-io/kprod/internal/accumulator"
	"github.com/kprod-io/kprod/internal/sender"
	"github.com/kprod-io/kprod/internal/txn"
)

// completer runs record completions (interceptors' OnAcknowledgement, callbacks, sync
// waiters) on one goroutine, in the order the sender finished batches, so callbacks see
// each partition's records in order and never run on a network goroutine.
type completer struct {
	p *Producer

	mu      sync.Mutex // guards queue, funcs, busy, stopped
	queue   []finished
	funcs   []func() // completions of records no batch holds (spool.dir's leftovers at Close)
	spare   []finished
	busy    bool
	stopped bool
	wake    chan struct{} // capacity 1
	idle    chan struct{} // closed and replaced when the queue drains while watched
	watched bool
	done    chan struct{}
	gid     atomic.Uint64 // the completion goroutine's id: Close called from a callback must not wait for it
}

type finished struct {
	b *accumulator.Batch
	r sender.Result
}

func newCompleter(p *Producer) *completer {
	c := &completer{p: p, wake: make(chan struct{}, 1), idle: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

// enqueue hands a finished batch over; called on the sender goroutine, never blocks.
func (c *completer) enqueue(b *accumulator.Batch, r sender.Result) {
	c.mu.Lock()
	c.queue = append(c.queue, finished{b, r})
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *completer) run() {
	defer close(c.done)
	c.gid.Store(goroutineID())
	for {
		c.mu.Lock()
		for len(c.queue) == 0 && len(c.funcs) == 0 {
			if c.watched {
				close(c.idle)
				c.idle = make(chan struct{})
				c.watched = false
			}
			if c.stopped {
				c.mu.Unlock()
				return
			}
			c.mu.Unlock()
			<-c.wake
			c.mu.Lock()
		}
		batch, funcs := c.queue, c.funcs
		c.queue, c.funcs = c.spare[:0], nil
		c.busy = true
		c.mu.Unlock()
		for _, fn := range funcs {
			c.runFunc(fn)
		}
		for i := range batch {
			c.complete(batch[i].b, batch[i].r)
			batch[i] = finished{}
		}
		c.mu.Lock()
		c.spare = batch[:0]
		c.busy = false
		c.mu.Unlock()
	}
}

// enqueueFunc runs fn on the completion goroutine, after what was enqueued before it.
func (c *completer) enqueueFunc(fn func()) {
	c.mu.Lock()
	c.funcs = append(c.funcs, fn)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// runFunc runs fn, logging a panic as completeFrom does for callbacks.
func (c *completer) runFunc(fn func()) {
	defer func() {
		if v := recover(); v != nil {
			c.p.logs.Error("callback panic", "kprod: send callback panicked", "panic", v, "stack", string(debug.Stack()))
		}
	}()
	fn()
}

// drained waits until every completion handed over so far has run.
func (c *completer) drained(ctx context.Context) error {
	c.mu.Lock()
	if len(c.queue) == 0 && len(c.funcs) == 0 && !c.busy {
		c.mu.Unlock()
		return nil
	}
	c.watched = true
	ch := c.idle
	c.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop runs what is queued and ends the goroutine.
func (c *completer) stop() {
	c.mu.Lock()
	c.stopped = true
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	<-c.done
}

// complete delivers a batch's outcome to each of its waiting records.
func (c *completer) complete(b *accumulator.Batch, r sender.Result) {
	p := c.p
	var cause error
	if r.Err != nil {
		cause = batchCause(r.Err, b.Topic)
		switch r.TxnKind {
		case txn.Abortable:
			cause = &AbortableError{Err: cause}
		case txn.Fatal:
			cause = &FatalError{Err: cause}
		}
	}
	t := timingOf(b)
	for i := 0; i < len(b.Pending); {
		i = c.completeFrom(b, r, cause, &t, i)
	}
	p.acc.Done(b)
}

// completeFrom completes b's records from index i on and returns len(b.Pending), or the
// index after a callback that panicked (logged; the others still run). One deferred
// recover per batch rather than per record: at millions of records a second the
// per-callback defer showed in profiles.
//
// With its Timing, RecordMetadata has more fields than Go's register ABI passes in
// registers (nine), so each callback's metadata is copied to the stack: about 5 ns per
// record in BenchmarkComplete. Filling it one record ahead, padding it to a multiple of
// 16 bytes and filling it through a pointer were measured: none gained, the last lost
// 8 ns more (a second copy).
func (c *completer) completeFrom(b *accumulator.Batch, r sender.Result, cause error, t *batchTiming, i int) (next int) {
	p := c.p
	defer func() {
		if v := recover(); v != nil {
			p.logs.Error("callback panic", "kprod: send callback panicked", "panic", v, "stack", string(debug.Stack()))
			next = i + 1
		}
	}()
	for ; i < len(b.Pending); i++ {
		pd := &b.Pending[i]
		md := RecordMetadata{Topic: b.Topic, Partition: b.Partition, Offset: -1,
			SerializedKeySize: int(pd.KeySize), SerializedValueSize: int(pd.ValueSize), Timing: t.of(pd.Sent)}
		var err error
		if cause != nil {
			// Each record's error of its own, for its own Timing: an allocation per
			// failed record, none per successful one.
			err = &DeliveryError{Topic: b.Topic, Partition: b.Partition, Err: cause, MaybeWritten: r.MaybeWritten, Timing: md.Timing}
		} else {
			if r.BaseOffset >= 0 {
				md.Offset = r.BaseOffset + int64(pd.Index)
			}
			if r.LogAppendTime >= 0 {
				md.Timestamp = time.UnixMilli(r.LogAppendTime)
			} else {
				md.Timestamp = time.UnixMilli(pd.Timestamp)
			}
		}
		done := pd.Done
		if p.hook != nil {
			if h, ok := done.(*hooked); ok {
				p.hookOnDone(h, md, err)
				done = h.done
			}
		}
		if len(p.interceptors) > 0 {
			p.onAck(md, err)
		}
		switch d := done.(type) {
		case func(RecordMetadata, error):
			d(md, err)
		case *syncWaiter:
			d.ch <- syncResult{md, err}
		case *spoolDone:
			d.complete(md, err)
		}
	}
	return i
}

// publicError turns the sender's internal errors into the public ones.
// batchCause is the public cause of a batch's failure. Only the batch's own Produce
// answer (a BrokerError) names the batch's topic in TOPIC_AUTHORIZATION_FAILED: a
// StateError (the unsent batches of a transaction another topic's denial doomed) or a
// CodeError (an idempotent InitProducerId refused, CLUSTER_AUTHORIZATION_FAILED) is
// about something else, and naming the topic would send the administrator to the
// wrong ACL.
func batchCause(err error, topic string) error {
	var se *txn.StateError
	var ce *txn.CodeError
	var be *sender.BrokerError
	if errors.As(err, &se) || errors.As(err, &ce) || !errors.As(err, &be) {
		return publicError(err)
	}
	return withResource(publicError(err), topic)
}

func publicError(err error) error {
	var se *txn.StateError
	var ce *txn.CodeError
	if errors.As(err, &se) || errors.As(err, &ce) { // unsent records of a doomed transaction; a refused InitProducerId
		return txnError(err)
	}
	var be *sender.BrokerError
	if errors.As(err, &be) {
		msg := be.Message
		if len(be.RecordErrors) > 0 {
			idx := make([]int, 0, len(be.RecordErrors))
			for i := range be.RecordErrors {
				idx = append(idx, int(i))
			}
			sort.Ints(idx)
			var sb strings.Builder
			for _, i := range idx {
				fmt.Fprintf(&sb, "; record %d: %s", i, be.RecordErrors[int32(i)])
			}
			msg += sb.String()
		}
		ke := kafkaError(be.Code, msg)
		if be.Code == 90 { // PRODUCER_FENCED
			return fmt.Errorf("%w: %w", ErrProducerFenced, ke)
		}
		if errors.Is(err, sender.ErrDeliveryTimeout) {
			return fmt.Errorf("%w (last error: %w)", ErrDeliveryTimeout, ke)
		}
		return ke
	}
	return err
}
