package kprod

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kprod-io/kprod/internal/accumulator"
	"github.com/kprod-io/kprod/internal/broker"
	"github.com/kprod-io/kprod/internal/cluster"
	"github.com/kprod-io/kprod/internal/config"
	"github.com/kprod-io/kprod/internal/logsum"
	"github.com/kprod-io/kprod/internal/metrics"
	"github.com/kprod-io/kprod/internal/pool"
	"github.com/kprod-io/kprod/internal/sender"
	"github.com/kprod-io/kprod/internal/txn"
)

// Producer sends records to Kafka: Java's KafkaProducer. It is safe for concurrent use;
// one producer per application is usually best, as in Java.
//
// Goroutines: the sender loop (sends batches), the completion goroutine (runs callbacks
// and interceptors' OnAcknowledgement in per-partition order, off the network path), the
// metadata refresher, the connection pool's idle reaper and dials, and two per broker
// connection (the pool keeps one per broker for Produce requests and one for metadata and
// coordinator requests). Close stops them all.
type Producer struct {
	set          config.Settings
	acc          *accumulator.Accumulator
	snd          *sender.Sender
	meta         *cluster.Cluster
	conns        *pool.Pool // every broker connection: sender, metadata, coordinators
	comp         *completer
	txn          *txn.Manager // producer id, epoch and transactions; nil unless idempotent
	hot          atomic.Pointer[hotTopic]
	interceptors []Interceptor
	partitioner  Partitioner
	hook         SendHook // nil unless WithSendHook
	log          *slog.Logger
	logs         *logsum.Logger    // log, summarising what may repeat per record
	spool        *spooler          // nil without spool.dir
	metrics      *metrics.Registry // Java's producer metrics; see Metrics

	closeCtx   context.Context // cancelled when Close starts: blocked Sends give up
	closeStart context.CancelFunc
	closing    <-chan struct{} // closeCtx.Done()
	closed     atomic.Bool
	closeOnce  sync.Once
	closeDone  chan struct{}
	closeErr   error
	stopSender context.CancelFunc
	senderDone chan struct{}
}

// NewProducer validates cfg, as Java's KafkaProducer constructor does, and starts the
// producer. An invalid config is a *ConfigError naming the property. NewProducer does
// not wait for the cluster: the first Send waits for metadata up to max.block.ms.
func NewProducer(cfg Config, opts ...Option) (*Producer, error) {
	set, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	o := options{logger: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler) // WithLogger(nil): silence
	}
	p := &Producer{set: set, interceptors: o.interceptors, partitioner: o.partitioner, hook: o.hook,
		log: o.logger.With("client.id", set.ClientID), closeDone: make(chan struct{}), senderDone: make(chan struct{})}
	p.logs = logsum.New(p.log, 0, nil)
	p.metrics = p.newMetrics()
	p.closeCtx, p.closeStart = context.WithCancel(context.Background())
	p.closing = p.closeCtx.Done()
	if set.SpoolDir != "" {
		// First: a directory another producer holds fails construction before anything
		// starts.
		if err := p.openSpool(o.spoolRecovered); err != nil {
			return nil, err
		}
	}

	connOpts := broker.Options{
		ClientID:               set.ClientID,
		ConnectionSetupTimeout: set.SocketConnectionSetupTimeout,
		RequestTimeout:         set.RequestTimeout,
		MaxInFlight:            set.MaxInFlight,
		SendBufferBytes:        set.SendBufferBytes,
		ReceiveBufferBytes:     set.ReceiveBufferBytes,
		Dialer:                 o.dialer,
		TLS:                    set.TLS,
		SASL:                   set.SASL,
		Features:               &broker.Features{}, // every connection's view: decides transactions v2
	}
	for _, note := range set.TLSNotes {
		p.log.Warn("kprod: " + note)
	}
	var snd *sender.Sender
	var sndPtr atomic.Pointer[sender.Sender]
	wake := func() {
		if s := sndPtr.Load(); s != nil {
			s.Wake()
		}
	}
	pause := func() { // on one P, while the sender can write nothing more (sender/pace.go)
		if s := sndPtr.Load(); s != nil {
			s.Pause()
		}
	}
	var metaPtr atomic.Pointer[cluster.Cluster]
	p.conns = pool.New(pool.Config{Conn: connOpts, SetupTimeoutMax: set.SocketConnectionSetupTimeoutMax,
		ReconnectBackoff: set.ReconnectBackoff, ReconnectBackoffMax: set.ReconnectBackoffMax,
		MaxIdle: max(set.ConnectionsMaxIdle, 1), Logger: p.log, OnReady: wake, // 0: idle connections close at once
		Resolve: func(node int32) (string, bool) {
			if m := metaPtr.Load(); m != nil {
				return m.BrokerAddr(node)
			}
			return "", false
		},
		Metrics: p.metrics,
		OnFailure: func() {
			if m := metaPtr.Load(); m != nil {
				m.Refresh()
			}
		}})
	p.acc = accumulator.New(accumulator.Config{BatchSize: set.BatchSize, BufferMemory: set.BufferMemory, PartitionMax: set.BufferMemoryPartitionMax,
		Wake: wake, Pause: pause, Abort: p.closing, MaxBlock: set.MaxBlock, Compressed: set.Codec != config.CodecNone, Metrics: p.metrics})
	p.meta = cluster.New(cluster.Config{Bootstrap: set.BootstrapServers, Pool: p.conns,
		MaxAge: set.MetadataMaxAge, MaxIdle: set.MetadataMaxIdle,
		RetryBackoff: set.RetryBackoff, RetryBackoffMax: set.RetryBackoffMax,
		OnUpdate: wake, Logger: p.log})
	metaPtr.Store(p.meta)
	p.comp = newCompleter(p)
	if set.Idempotent {
		p.txn = txn.New(txn.Config{TransactionalID: set.TransactionalID, TransactionTimeout: set.TransactionTimeout,
			Pool: p.conns, Features: connOpts.Features, Meta: p.meta, RetryBackoff: set.RetryBackoff, RetryBackoffMax: set.RetryBackoffMax,
			MaxBlock: set.MaxBlock, ErrClosed: ErrClosed, Wake: wake, Logger: p.log})
	}
	snd, err = sender.New(sender.Config{Settings: set, Acc: p.acc, Meta: p.meta,
		Complete: p.comp.enqueue, Pool: p.conns, Logger: p.log, Txn: p.txn, Metrics: p.metrics,
		PauseBound: o.pauseBound})
	if err != nil {
		p.meta.Close()
		p.comp.stop()
		if p.txn != nil {
			p.txn.Close()
		}
		p.conns.Close()
		if p.spool != nil {
			p.spool.sp.Close()
		}
		return nil, fmt.Errorf("kprod: %w", err)
	}
	p.snd = snd
	sndPtr.Store(snd)
	ctx, cancel := context.WithCancel(context.Background())
	p.stopSender = cancel
	go func() {
		defer close(p.senderDone)
		snd.Run(ctx)
	}()
	if p.spool != nil {
		p.spool.start()
	}
	return p, nil
}

// Flush sends every buffered record at once, ignoring linger.ms, and waits until every
// record sent before the call has completed (its callback ran), or until ctx ends.
func (p *Producer) Flush(ctx context.Context) error {
	if ctx == nil {
		return nilContext("Flush")
	}
	if p.closed.Load() {
		return ErrClosed
	}
	defer p.timed(&p.metrics.FlushNs, time.Now())
	if p.spool != nil {
		// Spooled records count once handed to the accumulator: wait for those spooled
		// before the call (with the cluster unreachable, until ctx ends).
		if err := p.spool.sp.WaitHanded(ctx, p.spool.sp.NextSeq()); err != nil {
			return fmt.Errorf("kprod: flush: spooled records not yet handed over: %w", err)
		}
	}
	p.acc.BeginFlush()
	defer p.acc.EndFlush()
	if err := p.acc.AwaitIncomplete(ctx); err != nil {
		return fmt.Errorf("kprod: flush: %w", err)
	}
	return p.comp.drained(ctx)
}

// Close delivers what it can of the buffered records until ctx ends, then fails the rest
// with ErrClosed (in flight ones marked as possibly written), stops every goroutine and
// closes every connection. Calls on a closed producer return ErrClosed. Close waits for the
// callbacks of all records to have run. A ctx without deadline waits as long as delivery
// takes (Java's close()); an expired ctx closes at once (close(Duration.ZERO)). It returns
// ctx's error when records had to be failed. A nil ctx is an error (ErrNilContext) and
// closes nothing.
//
// With spool.dir, Close first hands the spooled records to delivery while ctx lasts and
// the cluster answers within max.block.ms; the records it could not deliver stay in the
// spool for the next producer on the directory (their callbacks get a *DeliveryError
// wrapping ErrClosed and ErrSpooled) and Close returns an error wrapping ErrSpooled.
//
// Transactions, as Java's graceful close: a transaction call (InitTransactions,
// SendOffsetsToTransaction, CommitTransaction, AbortTransaction) blocked when Close
// starts continues until it completes or ctx ends; then it returns ErrClosed, and Close
// waits for it to return, so nothing of it outlives Close. Then, unless ctx ended, an open
// transaction (begun, or doomed by an error, or an abort a timed-out AbortTransaction
// left) is aborted within ctx: its unsent records fail with ErrTransactionAborted and
// read_committed consumers are not held up by it; Close returns the abort's error if it
// fails. A commit left by a timed-out CommitTransaction is left to the coordinator, as is
// everything when ctx ended first: it aborts an open transaction after
// transaction.timeout.ms or when a producer with the same transactional.id initializes.
func (p *Producer) Close(ctx context.Context) error {
	if ctx == nil {
		return nilContext("Close")
	}
	if goroutineID() == p.comp.gid.Load() {
		// Called from a callback: waiting would wait for this very goroutine. As Java
		// does, close at once (close(0)) without waiting for the outcome.
		p.log.Warn("kprod: Close called from a send callback: closing without waiting, undelivered records fail")
		expired, cancel := context.WithCancel(context.Background())
		cancel()
		go p.Close(expired)
		return nil
	}
	p.closeOnce.Do(func() {
		p.closed.Store(true)
		deliverCtx := ctx
		if p.spool != nil && !p.spool.drain(ctx) {
			// Spooled records remain (ctx ended, or the cluster did not answer within
			// max.block.ms): the ones already buffered stay in the spool too, rather
			// than wait for delivery.timeout.ms and leave it as failures.
			expired, cancel := context.WithCancel(context.Background())
			cancel()
			deliverCtx = expired
		}
		p.closeStart()
		// Sends that passed their closed check either appended already, and are waited
		// for below, or fail with ErrClosed: SetClosing is a barrier.
		p.acc.SetClosing()
		if p.txn != nil {
			// A transactional call still running may finish until ctx ends; then it
			// returns ErrClosed, and Close waits for it: none keeps retrying or dialing
			// behind Close. Then an open transaction is aborted (Java's Sender.run on a
			// graceful close), unless ctx ended.
			p.txn.StopCalls(ctx)
			failQueued := func() { p.snd.AbortQueued(ErrTransactionAborted) }
			if err := p.txn.AbortOpen(ctx, failQueued, p.flushAll); err != nil {
				p.closeErr = fmt.Errorf("kprod: close: aborting the open transaction: %w", txnError(err))
			}
		}
		if err := p.acc.AwaitIncomplete(deliverCtx); err != nil && p.closeErr == nil && deliverCtx == ctx {
			p.closeErr = fmt.Errorf("kprod: close: %w: undelivered records failed with ErrClosed", err)
		}
		p.stopSender()
		<-p.senderDone
		if failed := p.snd.Shutdown(fmt.Errorf("%w before the record was delivered", ErrClosed)); failed > 0 && p.closeErr == nil {
			p.closeErr = fmt.Errorf("%w: %d batch(es) undelivered at close failed with ErrClosed", ErrClosed, failed)
		}
		if p.txn != nil {
			p.txn.Close()
		}
		p.meta.Close()
		p.conns.Close() // last: nothing asks for a connection any more
		if p.spool != nil {
			p.spool.failLeft()
		}
		p.comp.stop()
		if p.spool != nil {
			if err := p.spool.close(); err != nil && p.closeErr == nil {
				p.closeErr = err
			}
		}
		close(p.closeDone)
	})
	<-p.closeDone
	return p.closeErr
}

// PartitionsFor returns the partitions of topic, waiting for its metadata up to
// max.block.ms or ctx.
func (p *Producer) PartitionsFor(ctx context.Context, topic string) ([]PartitionInfo, error) {
	if ctx == nil {
		return nil, nilContext("PartitionsFor")
	}
	if p.closed.Load() {
		return nil, ErrClosed
	}
	if err := validateTopic(topic); err != nil {
		return nil, err
	}
	t, err := p.waitTopic(ctx, topic, 1, time.Now().Add(p.set.MaxBlock))
	if err != nil {
		return nil, err
	}
	out := make([]PartitionInfo, len(t.Partitions))
	for i, tp := range t.Partitions {
		out[i] = PartitionInfo{Topic: topic, Partition: tp.ID, Leader: tp.Leader, LeaderEpoch: tp.LeaderEpoch,
			Replicas: tp.Replicas, InSyncReplicas: tp.ISR, OfflineReplicas: tp.Offline}
	}
	return out, nil
}

// waitTopic waits until topic has at least minPartitions partitions in metadata, up to
// deadline (max.block.ms), ctx or Close. A wait that runs out names the limit that
// ended it (max.block.ms: ErrMetadataTimeout, as Java's TimeoutException "Topic X not
// present in metadata after N ms."; the caller's ctx: its error) and why the topic is
// missing: the cluster said it does not exist, or the last metadata failure (an
// unreachable cluster's connection error).
func (p *Producer) waitTopic(ctx context.Context, topic string, minPartitions int32, deadline time.Time) (*cluster.Topic, error) {
	ctx, cancel := context.WithDeadlineCause(ctx, deadline, errMaxBlock)
	defer cancel()
	stop := context.AfterFunc(p.closeCtx, cancel) // Close ends the wait
	defer stop()
	t, err := p.meta.Wait(ctx, topic, minPartitions)
	if err == nil {
		return t, nil
	}
	select {
	case <-p.closing:
		return nil, ErrClosed
	default:
	}
	if errors.Is(err, ErrAuthentication) {
		// Java's Metadata.maybeThrowAnyException: the waiting send fails with the
		// authentication error as soon as a metadata request fails on it, not after
		// max.block.ms.
		return nil, err
	}
	if ctx.Err() != nil {
		what := fmt.Sprintf("topic %s not present in metadata", topic)
		if t != nil && t.ErrorCode == 0 && t.Parts.Count > 0 {
			what = fmt.Sprintf("partition %d of topic %s with partition count %d is not present in metadata",
				minPartitions-1, topic, t.Parts.Count)
		}
		why := missingCause(topic, t, p.meta.LastError())
		if context.Cause(ctx) == errMaxBlock {
			return nil, fmt.Errorf("%w: %s after %d ms (max.block.ms expired)%s", ErrMetadataTimeout, what, p.set.MaxBlock.Milliseconds(), why)
		}
		return nil, fmt.Errorf("kprod: %s when the caller's ctx ended: %w%s", what, ctxEnd(ctx), why)
	}
	var ke *kerr.Error
	if errors.As(err, &ke) { // a topic error waiting cannot cure (TOPIC_AUTHORIZATION_FAILED, ...)
		pe := kafkaError(ke.Code, "").(*KafkaError)
		pe.metadata = true
		return nil, fmt.Errorf("kprod: metadata of topic %s: %w", topic, withResource(pe, topic))
	}
	return nil, fmt.Errorf("kprod: topic %s: %w", topic, err)
}

// errMaxBlock is the cause of a wait's ctx that max.block.ms ended, telling it from the
// caller's ctx ending.
var errMaxBlock = errors.New("kprod: max.block.ms expired")

// ctxEnd is how the caller's ctx ended, for the error of a wait it ended: ctx.Err(), and
// the caller's cause if it gave one. Only such errors wrap the context errors; the
// producer's own limits (max.block.ms) never do, as the transaction calls' (txn.ended).
func ctxEnd(ctx context.Context) error {
	if cause := context.Cause(ctx); cause != nil && cause != ctx.Err() {
		return fmt.Errorf("%w: %w", ctx.Err(), cause)
	}
	return ctx.Err()
}

// missingCause says why a topic is not in metadata, as far as the producer knows: the
// cluster's answer for it, the last metadata failure, both or nothing ("").
func missingCause(topic string, t *cluster.Topic, last error) string {
	var why string
	switch {
	case t == nil:
	case t.ErrorCode == kerr.UnknownTopicOrPartition.Code:
		why = fmt.Sprintf("; topic %s does not exist (the cluster answered %s and did not create it)",
			topic, kerr.UnknownTopicOrPartition.Message)
	case t.ErrorCode != 0:
		why = fmt.Sprintf("; the cluster's last answer for topic %s: %s", topic, kerr.ErrorForCode(t.ErrorCode).(*kerr.Error).Message)
	}
	if last != nil {
		why += fmt.Sprintf("; last error: %v", last)
	}
	return why
}

// txnManagerCtx is txnManager for the transaction calls that take a ctx: a nil ctx is
// an error before anything starts.
func (p *Producer) txnManagerCtx(ctx context.Context, call string) (*txn.Manager, error) {
	if ctx == nil {
		return nil, nilContext(call)
	}
	return p.txnManager()
}
