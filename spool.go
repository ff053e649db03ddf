package kprod

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kprod-io/kprod/internal/accumulator"
	"github.com/kprod-io/kprod/internal/spool"
	"github.com/kprod-io/kprod/internal/wallclock"
)

// ErrSpoolLocked: NewProducer found spool.dir held by another producer, in this
// process or another. One producer per spool directory at a time.
var ErrSpoolLocked = errors.New("kprod: spool.dir is in use by another producer")

// ErrSpooled marks a record that the producer did not deliver but left in spool.dir for
// the next producer on that directory: a record Close could not deliver (inside a
// *DeliveryError that also wraps ErrClosed), and Close's error when such records remain.
var ErrSpooled = errors.New("kprod: left in spool.dir for the next producer")

// SpoolStats is what a producer's spool did, from SpoolStats.
type SpoolStats struct {
	// Recovered counts the records found in spool.dir when the producer started, left by
	// an earlier producer; RecoveredDelivered and RecoveredFailed how many of them the
	// broker acknowledged or definitively refused (they have no caller: see
	// WithSpoolRecovered).
	Recovered, RecoveredDelivered, RecoveredFailed int64
	// TornBytes were dropped from segment tails at start (a frame cut by a crash), and
	// Corrupt counts damaged regions skipped in the middle of segments (their records are
	// lost; each is logged), at start or while reading.
	TornBytes int64
	Corrupt   int64
	// Records are in the spool, not yet acknowledged; Bytes is the spool files' size.
	Records int64
	Bytes   int64
}

// WithSpoolRecovered sets a function called with the outcome of each record recovered
// from spool.dir (left by an earlier producer), which has no caller waiting for it. It
// runs on the completion goroutine, like callbacks. Default none: the outcomes are
// only counted (SpoolStats) and failures logged.
func WithSpoolRecovered(fn func(RecordMetadata, error)) Option {
	return func(o *options) { o.spoolRecovered = fn }
}

// spooler runs spool.dir for a producer: Send appends to the spool, and the feeder
// goroutine hands spooled records, in spool order, to the accumulator.
type spooler struct {
	p         *Producer
	sp        *spool.Spool
	dir       string
	firstSeq  uint64 // records below it were recovered from an earlier producer
	recovered func(RecordMetadata, error)

	ctx      context.Context // the feeder's; cancelled by stop
	cancel   context.CancelFunc
	done     chan struct{} // closed when the feeder returns
	draining atomic.Bool   // Close: give up feeding when metadata does not come within max.block.ms

	nRecovered, nRecDelivered, nRecFailed atomic.Int64
	torn, corrupt                         atomic.Int64
	hdrs                                  []Header // feeder only
}

// The conversion compiles only while Header and spool.Header have one layout, which
// spoolHeaders relies on.
var _ = spool.Header(Header{})

func spoolHeaders(h []Header) []spool.Header {
	return unsafe.Slice((*spool.Header)(unsafe.Pointer(unsafe.SliceData(h))), len(h))
}

// openSpool opens and recovers spool.dir; the feeder starts with start.
func (p *Producer) openSpool(recovered func(RecordMetadata, error)) error {
	set := &p.set
	sp, rec, err := spool.Open(spool.Options{Dir: set.SpoolDir, MaxBytes: set.SpoolMaxBytes,
		Sync: spool.SyncPolicy(set.SpoolSync), SyncInterval: set.SpoolSyncInterval})
	if err != nil {
		if errors.Is(err, spool.ErrLocked) {
			return fmt.Errorf("%w: spool.dir=%s: %w", ErrSpoolLocked, set.SpoolDir, err)
		}
		return fmt.Errorf("kprod: spool.dir=%s: %w", set.SpoolDir, err)
	}
	s := &spooler{p: p, sp: sp, dir: set.SpoolDir, firstSeq: sp.NextSeq(), recovered: recovered, done: make(chan struct{})}
	s.nRecovered.Store(int64(rec.Records))
	s.torn.Store(rec.TornBytes)
	s.corrupt.Store(int64(rec.Corrupt))
	switch {
	case rec.Corrupt > 0 || len(rec.BadFiles) > 0:
		p.log.Error("kprod: spool.dir had damaged segments: their damaged records are lost", "dir", s.dir,
			"recovered", rec.Records, "damaged_regions", rec.Corrupt, "damaged_bytes", rec.CorruptBytes,
			"torn_bytes", rec.TornBytes, "bad_files", rec.BadFiles)
	case rec.Records > 0 || rec.TornBytes > 0:
		p.log.Info("kprod: spool.dir holds records of an earlier producer: delivering them", "dir", s.dir,
			"recovered", rec.Records, "segments", rec.Segments, "torn_bytes", rec.TornBytes)
	}
	p.spool = s
	return nil
}

func (s *spooler) start() {
	s.ctx, s.cancel = context.WithCancel(context.Background())
	go s.run()
}

// spoolAppend checks what can be checked without metadata and appends the record to
// the spool. Partitioning waits for delivery.
func (p *Producer) spoolAppend(ctx context.Context, rec *Record, done any) error {
	if p.closed.Load() {
		return ErrClosed
	}
	if err := validateTopic(rec.Topic); err != nil {
		return err
	}
	part := int32(-1)
	if n, ok := rec.Partition.Get(); ok {
		if n < 0 {
			return fmt.Errorf("%w: %d", ErrInvalidPartition, n)
		}
		part = n
	}
	size := accumulator.MaxRecordSize(rec.Key, rec.Value, wireHeaders(rec.Headers))
	if size > p.set.MaxRequestSize || int64(size) > p.set.BufferMemory {
		return fmt.Errorf("%w: the record is %d bytes when serialized, more than max.request.size=%d or buffer.memory=%d",
			ErrRecordTooLarge, size, p.set.MaxRequestSize, p.set.BufferMemory)
	}
	ts := rec.Timestamp.UnixMilli()
	if rec.Timestamp.IsZero() {
		ts = wallclock.NowMillis() // the time of Send, not of delivery
	}
	sr := spool.Record{Timestamp: ts, Partition: part, Topic: rec.Topic, Key: rec.Key, Value: rec.Value,
		Headers: spoolHeaders(rec.Headers)}
	_, err := p.spool.sp.Append(ctx, time.Now().Add(p.set.MaxBlock), &sr, done)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, spool.ErrFull):
		return fmt.Errorf("%w: spool.max.bytes=%d stayed full for max.block.ms=%d ms (the broker has not acknowledged enough spooled records to free a segment)",
			ErrBufferExhausted, p.set.SpoolMaxBytes, p.set.MaxBlock.Milliseconds())
	case errors.Is(err, spool.ErrTooLarge):
		return fmt.Errorf("%w: %v: more than spool.max.bytes=%d", ErrRecordTooLarge, err, p.set.SpoolMaxBytes)
	case errors.Is(err, spool.ErrClosed):
		return ErrClosed
	case ctx.Err() != nil:
		return refused(fmt.Errorf("kprod: no spool space when the caller's ctx ended: %w", ctxEnd(ctx)))
	case errors.Is(err, spool.ErrSync):
		return fmt.Errorf("kprod: spool.dir=%s: %w (the record was written and may still be delivered, but may not survive power loss)", p.set.SpoolDir, err)
	}
	return fmt.Errorf("kprod: spool.dir=%s: the record was not spooled: %w", p.set.SpoolDir, err)
}

// run is the feeder: it hands spooled records to the accumulator in spool order.
func (s *spooler) run() {
	defer close(s.done)
	for {
		r, done, err := s.sp.Next(s.ctx)
		if err != nil {
			if s.ctx.Err() != nil {
				return
			}
			s.p.logs.Error("spool read", "kprod: reading spool.dir failed; retrying", "dir", s.dir, "err", err)
			if !s.sleep(s.p.set.RetryBackoffMax) {
				return
			}
			continue
		}
		if !s.feed(r, done) {
			return
		}
	}
}

// sleep waits d or until the feeder stops; false when it stopped.
func (s *spooler) sleep(d time.Duration) bool {
	t := time.NewTimer(max(d, time.Millisecond))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// feed hands one record to the accumulator, waiting as long as it takes for its topic's
// metadata and buffer space (the spool holds it meanwhile), and fails it only for what
// is wrong with the record itself. false: the feeder stops, the record stays spooled.
func (s *spooler) feed(r *spool.Record, done any) bool {
	p := s.p
	d := spoolDones.Get().(*spoolDone)
	*d = spoolDone{s: s, seq: r.Seq, inner: done}
	s.hdrs = s.hdrs[:0]
	for _, h := range r.Headers {
		s.hdrs = append(s.hdrs, Header(h))
	}
	rec := Record{Topic: r.Topic, Key: r.Key, Value: r.Value, Headers: s.hdrs, Timestamp: time.UnixMilli(r.Timestamp)}
	if r.Partition >= 0 {
		rec.Partition = InPartition(r.Partition)
	}
	defer s.sp.Handed(r.Seq)
	var missingSince time.Time // when the cluster first said the topic does not exist
	for {
		err := p.sendAccepted(s.ctx, &rec, d)
		if err == nil {
			return true
		}
		if s.ctx.Err() != nil {
			d.leave()
			return false
		}
		if t, ok := p.meta.Lookup(rec.Topic); ok && t.ErrorCode == kerr.UnknownTopicOrPartition.Code {
			// The cluster answers and has no such topic: wait (it may be created) up to
			// delivery.timeout.ms, then fail the record rather than hold back the ones
			// behind it for ever.
			if missingSince.IsZero() {
				missingSince = time.Now()
			} else if time.Since(missingSince) > p.set.DeliveryTimeout {
				err = fmt.Errorf("%w: the cluster has answered for delivery.timeout.ms=%d ms that it has no topic %s",
					ErrMetadataTimeout, p.set.DeliveryTimeout.Milliseconds(), rec.Topic)
				s.fail(d, &rec, r.Partition, err)
				return true
			}
		} else {
			missingSince = time.Time{}
		}
		if s.recordError(&rec, err) {
			s.fail(d, &rec, r.Partition, err)
			return true
		}
		if s.draining.Load() && errors.Is(err, ErrMetadataTimeout) {
			d.leave() // closing while the cluster does not answer: leave the rest spooled
			return false
		}
		p.logs.Warn("spool feed "+rec.Topic, "kprod: a spooled record waits for its topic (it stays in spool.dir meanwhile)",
			"topic", rec.Topic, "err", err)
		if !s.sleep(p.set.RetryBackoff) {
			d.leave()
			return false
		}
	}
}

// fail completes a spooled record the cluster cannot take (it leaves the spool), as the
// completion goroutine completes a failed batch's: interceptors, then the done.
func (s *spooler) fail(d *spoolDone, rec *Record, part int32, err error) {
	md := RecordMetadata{Topic: rec.Topic, Partition: part, Offset: -1}
	de := &DeliveryError{Topic: rec.Topic, Partition: part, Err: err}
	if len(s.p.interceptors) > 0 {
		s.p.onAck(md, de)
	}
	d.complete(md, de)
}

// recordError says whether err, from handing rec to the accumulator, is about the
// record itself (it fails and leaves the spool) rather than about the cluster's
// availability (it waits in the spool).
func (s *spooler) recordError(rec *Record, err error) bool {
	switch {
	case errors.Is(err, ErrInvalidPartition), errors.Is(err, ErrRecordTooLarge), errors.Is(err, ErrInvalidTopic):
		return true
	case errors.Is(err, ErrMetadataTimeout):
		// A known topic with fewer partitions than the record's explicit one. Only that:
		// metadata that arrives just after the wait timed out makes the topic known too,
		// and the record then waits for another try, not fails.
		n, set := rec.Partition.Get()
		t, ok := s.p.meta.Lookup(rec.Topic)
		return set && ok && t.ErrorCode == 0 && t.Parts.Count > 0 && n >= t.Parts.Count
	case errors.Is(err, ErrBufferExhausted), errors.Is(err, ErrAuthentication):
		return false
	}
	var ke *KafkaError
	return errors.As(err, &ke) // a topic error waiting cannot cure (TOPIC_AUTHORIZATION_FAILED)
}

// spoolDone is a spooled record's completion: it acknowledges the record in the spool,
// then completes the caller's done.
type spoolDone struct {
	s     *spooler
	seq   uint64
	inner any
}

// leave gives back a record the feeder stopped before handing over: it stays in the
// spool, and Close completes it on the completion goroutine (failLeft), where a
// callback that calls Close is recognised.
func (d *spoolDone) leave() {
	d.s.sp.GiveBack(d.inner)
	*d = spoolDone{}
	spoolDones.Put(d)
}

func leftErr(cause error) error { return fmt.Errorf("%w: %w", cause, ErrSpooled) }

// complete is the record's outcome from the completion goroutine. A failure from Close
// (ErrClosed) leaves the record in the spool; every other outcome removes it.
func (d *spoolDone) complete(md RecordMetadata, err error) {
	if err != nil && errors.Is(err, ErrClosed) {
		var de *DeliveryError
		if errors.As(err, &de) {
			c := *de
			c.Err = leftErr(de.Err)
			err = &c
		}
		d.finish(md, err, false)
		return
	}
	d.finish(md, err, true)
}

func (d *spoolDone) finish(md RecordMetadata, err error, ack bool) {
	s := d.s
	if ack {
		s.sp.Ack(d.seq)
	}
	if d.seq < s.firstSeq {
		switch {
		case err == nil:
			s.nRecDelivered.Add(1)
		case ack:
			s.nRecFailed.Add(1)
			s.p.logs.Warn("spool recovered failed", "kprod: a record recovered from spool.dir failed", "topic", md.Topic, "err", err)
		}
		if s.recovered != nil {
			s.recovered(md, err)
		}
	}
	inner := d.inner
	*d = spoolDone{}
	spoolDones.Put(d)
	s.p.completeSpooled(inner, md, err)
}

// completeSpooled completes the done a spooled record carries: the SendHook's, then the
// caller's. Interceptors have seen the outcome already.
func (p *Producer) completeSpooled(done any, md RecordMetadata, err error) {
	if h, ok := done.(*hooked); ok {
		p.hookOnDone(h, md, err)
		done = h.done
	}
	switch c := done.(type) {
	case func(RecordMetadata, error):
		c(md, err)
	case *syncWaiter:
		c.ch <- syncResult{md, err}
	}
}

// spoolDones recycles spoolDone: the spool path allocates nothing per record either
// in steady state.
var spoolDones = sync.Pool{New: func() any { return new(spoolDone) }}

// drain runs at the start of Close: Sends fail from now on; the feeder hands over the
// records spooled so far while ctx lasts and the cluster answers within max.block.ms,
// then stops. It reports whether everything was handed over.
func (s *spooler) drain(ctx context.Context) bool {
	s.sp.BeginClose()
	s.draining.Store(true)
	target := s.sp.NextSeq()
	wctx, cancel := context.WithCancel(ctx)
	go func() { // ends with the wait: cancel runs below
		select {
		case <-s.done:
			cancel()
		case <-wctx.Done():
		}
	}()
	err := s.sp.WaitHanded(wctx, target)
	cancel()
	s.cancel()
	<-s.done
	return err == nil
}

// failLeft completes, on the completion goroutine, the records never handed over: they
// stay in the spool. Close calls it once the feeder stopped, before the completion
// goroutine stops.
func (s *spooler) failLeft() {
	for _, done := range s.sp.TakeWaiting() {
		err := &DeliveryError{Partition: -1, Err: leftErr(ErrClosed)}
		s.p.comp.enqueueFunc(func() {
			md := RecordMetadata{Partition: -1, Offset: -1}
			if len(s.p.interceptors) > 0 { // as completeFrom: interceptors first
				s.p.onAck(md, err)
			}
			s.p.completeSpooled(done, md, err)
		})
	}
}

// close closes the spool after the completion goroutine stopped. It returns Close's
// error when records remain.
func (s *spooler) close() error {
	left, err := s.sp.Close()
	if err != nil {
		return fmt.Errorf("kprod: close: spool.dir=%s: %w", s.dir, err)
	}
	if left > 0 {
		s.p.log.Info("kprod: records left in spool.dir for the next producer", "dir", s.dir, "records", left)
		return fmt.Errorf("kprod: close: %w: %d record(s) in %s", ErrSpooled, left, s.dir)
	}
	return nil
}

// SpoolStats returns what the spool did; the zero value without spool.dir.
func (p *Producer) SpoolStats() SpoolStats {
	s := p.spool
	if s == nil {
		return SpoolStats{}
	}
	st := s.sp.Stats()
	return SpoolStats{Recovered: s.nRecovered.Load(), RecoveredDelivered: s.nRecDelivered.Load(),
		RecoveredFailed: s.nRecFailed.Load(), TornBytes: s.torn.Load(), Corrupt: s.corrupt.Load() + int64(st.ReadCorrupt),
		Records: int64(st.Records), Bytes: st.Bytes}
}
