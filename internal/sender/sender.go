// Package sender is the producer's background I/O: it drains ready batches from the
// accumulator, groups them per leader broker into Produce requests, pipelines up to
// max.in.flight requests per connection, and turns responses into completions, retries
// (with exponential backoff and jitter, KIP-580) or failures.
//
// One goroutine, the sender loop, owns all scheduling state, as Java's Sender thread
// does; connections' read loops only decode responses and hand them over. RunOnce is
// the single step a test can drive.
package sender

import (
	"cmp"
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kprod-io/kprod/internal/accumulator"
	"github.com/kprod-io/kprod/internal/compress"
	"github.com/kprod-io/kprod/internal/config"
	"github.com/kprod-io/kprod/internal/logsum"
	"github.com/kprod-io/kprod/internal/metrics"
	"github.com/kprod-io/kprod/internal/partition"
	"github.com/kprod-io/kprod/internal/pool"
	"github.com/kprod-io/kprod/internal/txn"
)

// Metadata is the cluster view the sender routes by.
type Metadata interface {
	// Leader returns the node leading topic/partition.
	Leader(topic string, partition int32) (node int32, ok bool)
	// PartitionCount returns the topic's partition count, 0 when unknown.
	PartitionCount(topic string) int32
	// Refresh asks for fresh metadata soon; it must not block.
	Refresh()
	// HintLeader records a partition's new leader named by a Produce response (KIP-951),
	// so the retry goes there without waiting for a metadata refresh.
	HintLeader(topic string, partition, leader, leaderEpoch int32)
	// MaxMessageBytes returns the topic's max.message.bytes, 0 when unknown, for the
	// error of a batch the broker refused as too large.
	MaxMessageBytes(topic string) int32
}

// Result is how a batch ended.
type Result struct {
	// BaseOffset is the first record's offset, -1 when unknown.
	BaseOffset int64
	// LogAppendTime is the broker's timestamp for the batch in ms, -1 for CreateTime.
	LogAppendTime int64
	// Err is nil on success.
	Err error
	// MaybeWritten applies when Err is set: the batch may be in the log.
	MaybeWritten bool
	// RecordErrors maps a record's index to the broker's complaint about it (KIP-467).
	RecordErrors map[int32]string
	// TxnKind classifies a transactional failure: txn.Abortable or txn.Fatal (Retriable,
	// the zero value, when not transactional).
	TxnKind txn.Kind
}

// Config wires a sender.
type Config struct {
	Settings config.Settings
	Acc      *accumulator.Accumulator
	Meta     Metadata
	// Complete receives every finished batch on the sender goroutine; it must hand the
	// batch to another goroutine quickly (user callbacks never run here).
	Complete func(b *accumulator.Batch, r Result)
	// Pool is the producer's connection pool: the sender takes its Produce connections
	// from it (one per broker) and closes them at Shutdown. Required.
	Pool *pool.Pool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives warnings, summarised (logsum); nil discards them.
	Logger *slog.Logger
	// Txn owns the producer id and epoch and the transaction state; required when
	// Settings.Idempotent.
	Txn *txn.Manager
	// PauseBound is the longest appenders are held on one P while every in-flight slot
	// is taken (pace.go); 0 means DefaultPauseBound.
	PauseBound time.Duration
	// Metrics receives the sender's accounting (Java's SenderMetrics), per request and
	// per batch retried or failed, never per record; nil records nothing.
	Metrics *metrics.Registry
}

// Sender is the background sender. Start it with Run.
type Sender struct {
	cfg  Config
	set  config.Settings
	acc  *accumulator.Accumulator
	comp *compress.Compressor
	now  func() time.Time
	log  *logsum.Logger // cfg.Logger, summarising repeated events: none per batch or retry
	txn  *txn.Manager
	// bumpWanted: an idempotent partition hit a sequence anomaly; nothing is drained
	// until every in-flight batch has completed, then the epoch is bumped (KIP-360).
	bumpWanted bool
	abortMu    sync.Mutex // guards aborts
	aborts     []abortReq // AbortQueued requests for the sender loop

	// shutdownCause, once set, fails every batch that comes back instead of retrying it;
	// shutdownFailed counts them.
	shutdownCause  error
	shutdownFailed int
	// lastPID and lastEpoch are the identity the partitions' sequence state refers to.
	lastPID   int64
	lastEpoch int16

	wakeCh chan struct{} // capacity 1: "look again"

	respMu sync.Mutex // guards resps
	resps  []*request // answered requests waiting for the sender loop

	// inflightReqs counts Produce requests written and not yet handled: Java's
	// requests-in-flight gauge.
	inflightReqs atomic.Int32

	pace pacer // holds appenders back on one P while nothing more can be written

	// Sender goroutine only.
	reqPool   []*request
	byNode    map[int32][]*accumulator.Partition
	nodeOrder []int32
	rnd       *rand.Rand
	load      partition.LoadStats
	latency   *partition.NodeLatency

	ctx    context.Context // lives until Shutdown; Produce requests use it
	cancel context.CancelFunc
}

// New builds a sender; Run starts it.
func New(cfg Config) (*Sender, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Sender{cfg: cfg, set: cfg.Settings, acc: cfg.Acc, now: cfg.Now, log: logsum.New(cfg.Logger, 0, cfg.Now),
		wakeCh: make(chan struct{}, 1), byNode: map[int32][]*accumulator.Partition{},
		rnd: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x6b70726f64))}
	if cfg.Settings.Codec != config.CodecNone {
		level := 0
		switch cfg.Settings.Codec {
		case config.CodecGzip:
			level = cfg.Settings.GzipLevel
		case config.CodecLZ4:
			level = cfg.Settings.LZ4Level
		case config.CodecZstd:
			level = cfg.Settings.ZstdLevel
		}
		c, err := compress.NewCompressor(compress.Codec(cfg.Settings.Codec), level)
		if err != nil {
			return nil, err
		}
		s.comp = c
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.pace.cond.L = &s.pace.mu
	s.pace.bound = cmp.Or(cfg.PauseBound, DefaultPauseBound)
	s.txn = cfg.Txn
	s.latency = partition.NewNodeLatency(cfg.Settings.PartitionerAvailabilityTimeout, cfg.Now())
	return s, nil
}

// Wake makes the sender loop look at the accumulator again. It never blocks.
func (s *Sender) Wake() {
	select {
	case s.wakeCh <- struct{}{}:
	default:
	}
}

// Run is the sender loop; it returns when ctx ends, after which Shutdown cleans up.
func (s *Sender) Run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next := s.RunOnce()
		d := time.Hour
		if !next.IsZero() {
			d = max(next.Sub(s.now()), 0)
		}
		timer.Reset(d)
		select {
		case <-ctx.Done():
			return
		case <-s.wakeCh:
		case <-timer.C:
		}
	}
}

// Shutdown stops connections and background goroutines and fails every batch still held
// (queued or in flight) with cause. Call it after Run returned. It returns how many
// batches it failed.
func (s *Sender) Shutdown(cause error) int {
	s.shutdownCause = cause
	s.cancel()
	s.release(true)
	s.cfg.Pool.CloseAll(pool.Produce) // waits for dying connections to fail what they held
	s.handleResponses()               // answers that raced with the close fail with cause (see retryOrFail)
	s.abortQueued()
	n := s.shutdownFailed
	for _, b := range s.acc.TakeAll() {
		n++
		s.complete(b, Result{BaseOffset: -1, LogAppendTime: -1, Err: cause, MaybeWritten: b.Attempts > 0 && b.MaybeWritten})
	}
	// Everything has finished now; hand over what still waits for an earlier batch.
	for _, t := range s.acc.Topics() {
		for _, p := range t.Partitions() {
			for _, b := range p.Ordered {
				r, ok := b.Outcome.(Result)
				if !ok {
					r = Result{BaseOffset: -1, LogAppendTime: -1, Err: cause, MaybeWritten: b.MaybeWritten}
				}
				s.cfg.Complete(b, r)
			}
			p.Ordered = nil
		}
	}
	return n
}

// RunOnce is one step of the sender loop: handle answered requests, expire batches past
// delivery.timeout.ms, send what is ready. It returns when it next needs to run
// (zero: only when woken).
func (s *Sender) RunOnce() time.Time {
	s.handleResponses()
	s.abortQueued()
	now := s.now()
	drain := true
	if s.set.Idempotent {
		pid, epoch, ok := s.txn.Identity()
		if ok && (pid != s.lastPID || epoch != s.lastEpoch) {
			// A new identity restarts every partition's sequences: nothing is in doubt,
			// and whatever asked for a bump is settled. This must come before acting on
			// bumpWanted, or a partition still marked unresolved asks for bump after bump
			// (found by scripts/chaos: producer ids burnt in a loop, nothing sent).
			s.lastPID, s.lastEpoch = pid, epoch
			s.clearUnresolved()
			s.bumpWanted = false
		}
		if ok && s.bumpWanted && s.inFlight() == 0 {
			s.bumpWanted = false
			s.txn.BumpEpoch()
			ok = false
		}
		if !ok {
			if err := s.txn.TakeDenied(); err != nil {
				// InitProducerId was refused for authorization: the queued records fail
				// (not written) and the id is asked for again (KAFKA-13668).
				for _, b := range s.acc.TakeAll() {
					s.complete(b, Result{BaseOffset: -1, LogAppendTime: -1, Err: err, MaybeWritten: b.MaybeWritten})
				}
			}
			s.txn.EnsureIdentity() // a transactional producer gets its id from InitTransactions
			// Nothing can be sent without an id; a fatal error fails the queued batches.
			drain = s.txn.State() == txn.FatalError
		}
		drain = drain && !s.bumpWanted
	}
	return s.sendReady(now, drain)
}

func (s *Sender) clearUnresolved() {
	for _, t := range s.acc.Topics() {
		for _, p := range t.Partitions() {
			p.Unresolved = false
		}
	}
}

// complete hands a finished batch to the producer in its partition's send order: a batch
// finishing before an earlier one of the same partition (a retried batch whose first
// attempt was in fact written, acknowledged as a duplicate after the next one) waits for
// it, so callbacks always run in send order per partition.
func (s *Sender) complete(b *accumulator.Batch, r Result) {
	b.DoneAt = s.now()                        // once per batch: its records' Timing.Latency ends here
	if r.Err != nil && s.cfg.Metrics != nil { // Java's failBatch: record-error
		s.cfg.Metrics.Failed(b.Topic, b.NumRecords(), b.DoneAt.UnixMilli())
	}
	p := b.PartitionQueue()
	if !b.Ordered {
		if len(p.Ordered) == 0 {
			s.cfg.Complete(b, r)
			return
		}
		b.Ordered = true // never drained: it comes after everything drained
		p.Ordered = append(p.Ordered, b)
	}
	if len(p.Ordered) == 0 || p.Ordered[0] != b {
		// An earlier batch has not finished: b's result waits for it. Only this rare case
		// stores the result, as storing it in the any field allocates.
		b.Finished, b.Outcome = true, r
		return
	}
	p.Ordered = accumulator.PopFront(p.Ordered)
	s.cfg.Complete(b, r)
	for len(p.Ordered) > 0 && p.Ordered[0].Finished {
		x := p.Ordered[0]
		p.Ordered = accumulator.PopFront(p.Ordered)
		s.cfg.Complete(x, x.Outcome.(Result))
	}
}

// InFlightRequests returns the Produce requests written and not yet answered.
func (s *Sender) InFlightRequests() int { return int(s.inflightReqs.Load()) }

// AbortQueued fails every batch not yet sent with err (AbortTransaction) and returns once
// that is done. The work runs on the sender goroutine, so completions keep their
// per-partition order; waiting for it keeps a stale request from failing the records of
// the next transaction.
func (s *Sender) AbortQueued(err error) {
	done := make(chan struct{})
	s.abortMu.Lock()
	s.aborts = append(s.aborts, abortReq{err, done})
	s.abortMu.Unlock()
	s.Wake()
	select {
	case <-done:
	case <-s.ctx.Done(): // shutting down: Shutdown fails everything anyway
	}
}

type abortReq struct {
	err  error
	done chan struct{}
}

func (s *Sender) abortQueued() {
	s.abortMu.Lock()
	reqs := s.aborts
	s.aborts = nil
	s.abortMu.Unlock()
	for _, r := range reqs {
		for _, b := range s.acc.TakeAll() {
			s.complete(b, Result{BaseOffset: -1, LogAppendTime: -1, Err: r.err, MaybeWritten: b.MaybeWritten})
		}
		close(r.done)
	}
}

// inFlight counts batches awaiting a response, over all partitions.
func (s *Sender) inFlight() int {
	n := 0
	for _, t := range s.acc.Topics() {
		for _, p := range t.Partitions() {
			n += len(p.InFlight)
		}
	}
	return n
}

// backoff returns the wait before a batch's attempt-th retry: retry.backoff.ms doubled
// per attempt up to retry.backoff.max.ms, with +-20% jitter (KIP-580).
func (s *Sender) backoff(attempt int) time.Duration {
	d := s.set.RetryBackoff
	for i := 1; i < attempt && d < s.set.RetryBackoffMax; i++ {
		d *= 2
	}
	jitter := 0.8 + 0.4*s.rnd.Float64()
	// The cap applies after the jitter, as Java's ExponentialBackoff does.
	return min(time.Duration(float64(d)*jitter), s.set.RetryBackoffMax)
}
