// Package chaos is kprod's crash test on a real three-node Kafka cluster: an idempotent
// and a transactional producer write unique values through TCP proxies while a seeded
// random schedule kills, restarts and pauses brokers (partition leaders, the transaction
// coordinator, the KRaft controller), resets, blackholes and delays connections, and
// crashes the transactional producer; then everything is read back with franz-go
// (read_committed and read_uncommitted) and checked against the invariants of
// idempotent and transactional producing: nothing acknowledged lost, nothing twice,
// order kept, offsets right, nothing aborted visible, transactions whole, nothing
// "not written" present, every send resolved in time.
//
// scripts/chaos runs it (cmd/kprod-chaos); chaos_test.go runs a short one.
package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kprod-io/kprod"
)

// Options configure a run. Bootstrap and Nodes are required.
type Options struct {
	// Bootstrap lists the brokers' own addresses (the producers reach them through the
	// proxies, the checker directly).
	Bootstrap []string
	// Nodes injects process faults; node ids are 1..NodeCount.
	Nodes Nodes
	// NodeCount is the number of brokers. Default 3.
	NodeCount int
	// Duration is how long faults are injected. Default 3m.
	Duration time.Duration
	// Warmup is how long the producers run before the first fault. Default 5s.
	Warmup time.Duration
	// Seed seeds the fault schedule and the transactions' shapes.
	Seed int64
	// Topic is the topic written; default "chaos-<seed>-<unix time>" (created, 12
	// partitions, RF 3, min.insync.replicas 2).
	Topic string
	// Partitions of the topic. Default 12.
	Partitions int32
	// Transactional adds the transactional producer.
	Transactional bool
	// TransactionalID is its transactional.id. Default "kprod-chaos-<seed>-<unix time>".
	TransactionalID string
	// Rate is the records per second each producer aims at. Default 1000.
	Rate int
	// RequestTimeout and DeliveryTimeout are the producers' request.timeout.ms and
	// delivery.timeout.ms. Defaults 3s and 15s: short, so faults bite.
	RequestTimeout, DeliveryTimeout time.Duration
	// Margin is how much later than DeliveryTimeout a send may resolve. Default 5s.
	Margin time.Duration
	// CloseTimeout bounds each producer's final Close. Default 30s.
	CloseTimeout time.Duration
	// Calm is how long the producers keep sending once the faults are over and the
	// cluster is whole again; every send of that period must succeed. Default 10s.
	Calm time.Duration
	// TxnCompleteTimeout bounds how long, in the calm period, a transaction waits for the
	// coordinator to finish the previous one before it begins. Default 30s.
	TxnCompleteTimeout time.Duration
	// Kinds restricts the fault kinds (FaultKinds' names); nil means all.
	Kinds []string
	// Log receives progress lines. Default io.Discard.
	Log io.Writer
	// ProducerLog receives kprod's own log (WithLogger), at debug level. Default none.
	ProducerLog io.Writer
	// Ledger, if set, receives every send at the end, one line each (see WriteLedger),
	// to diagnose anomalies.
	Ledger io.Writer
}

func (o *Options) defaults() error {
	if len(o.Bootstrap) == 0 || o.Nodes == nil {
		return errors.New("chaos: Options.Bootstrap and Options.Nodes are required")
	}
	stamp := time.Now().Unix()
	set := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if o.NodeCount == 0 {
		o.NodeCount = 3
	}
	set(&o.Duration, 3*time.Minute)
	set(&o.Warmup, 5*time.Second)
	set(&o.RequestTimeout, 3*time.Second)
	set(&o.DeliveryTimeout, 15*time.Second)
	set(&o.Margin, 5*time.Second)
	set(&o.CloseTimeout, 30*time.Second)
	set(&o.Calm, 10*time.Second)
	set(&o.TxnCompleteTimeout, 30*time.Second)
	if o.Topic == "" {
		o.Topic = fmt.Sprintf("chaos-%d-%d", o.Seed, stamp)
	}
	if o.Partitions == 0 {
		o.Partitions = 12
	}
	if o.TransactionalID == "" {
		o.TransactionalID = fmt.Sprintf("kprod-chaos-%d-%d", o.Seed, stamp)
	}
	if o.Rate == 0 {
		o.Rate = 1000
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return nil
}

// run is the state of one Run.
type run struct {
	o       Options
	start   time.Time
	led     *Ledger
	admin   *admin
	proxies map[int32]*Proxy
	dials   map[string]string
	logMu   sync.Mutex
	report  *Report
	closeMu sync.Mutex
	calm    time.Time // when the faults were over and the cluster whole again
	txnCalm time.Time // when the transactional producer's recovery check begins
	watch   *txnWatch // the coordinator's view of the transactional id; nil without one

	unproxied atomic.Int64 // producer dials to addresses without a proxy
}

func (r *run) logf(format string, args ...any) {
	r.logMu.Lock()
	defer r.logMu.Unlock()
	fmt.Fprintf(r.o.Log, "%7.1fs %s\n", time.Since(r.start).Seconds(), fmt.Sprintf(format, args...))
}

// closeLog records a Close: it must return by its deadline (+2s for scheduling).
func (r *run) closeLog(what string, took, deadline time.Duration, err error) {
	r.closeMu.Lock()
	defer r.closeMu.Unlock()
	line := fmt.Sprintf("%s: Close took %s (deadline %s): %v", what, took.Round(time.Millisecond), deadline, err)
	if took > deadline+2*time.Second {
		r.report.CloseLate++
		line += " LATE"
	}
	r.report.Closes = append(r.report.Closes, line)
}

// Run runs one chaos test: see the package comment. The error reports a run that could
// not complete (cluster unreachable, read-back failed); anomalies are in the Report
// (Report.OK).
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	r := &run{o: o, start: time.Now(), led: NewLedger()}
	r.report = &Report{Seed: o.Seed, Started: r.start, FaultPeriod: Millis(o.Duration), Topic: o.Topic,
		Partitions: o.Partitions, Bootstrap: o.Bootstrap, Transactional: o.Transactional}
	if o.Transactional {
		r.report.TransactionalID = o.TransactionalID
	}
	err := r.run(ctx)
	r.report.Elapsed = Millis(time.Since(r.start))
	if err != nil {
		r.report.Error = err.Error()
	}
	return r.report, err
}

func (r *run) run(ctx context.Context) error {
	if err := r.setup(ctx); err != nil {
		return err
	}
	defer r.teardown()
	ps, err := r.startProducers(ctx)
	if err != nil {
		return err
	}
	r.chaos(ctx, ps)
	if ctx.Err() != nil {
		closeNow(ps.idemP)
		if ps.txn != nil && ps.txn.producer() != nil {
			closeNow(ps.txn.producer())
		}
		return ctx.Err()
	}
	r.finishProducers(ps)
	if ps.txn != nil {
		// The transactional producer's recovery is checked from its first transaction that
		// began after the coordinator finished the one before; if none did (the gate gave
		// up, reported as txn_not_complete), none of its sends is in the window.
		if r.txnCalm = ps.txn.firstGated(); r.txnCalm.IsZero() {
			r.txnCalm = time.Now()
		}
	}
	err = r.verify(ctx)
	r.summarize(ps)
	return err
}

// setup waits for the cluster, creates the topic and starts the proxies.
func (r *run) setup(ctx context.Context) error {
	o := r.o
	var err error
	if r.admin, err = newAdmin(o.Bootstrap); err != nil {
		return err
	}
	r.logf("waiting for the %d-node cluster at %s", o.NodeCount, strings.Join(o.Bootstrap, ","))
	if err := r.admin.waitHealthy(ctx, 2*time.Minute, o.NodeCount); err != nil {
		return err
	}
	if err := r.admin.createTopic(ctx, o.Topic, o.Partitions, int16(o.NodeCount), 2); err != nil {
		return err
	}
	if err := r.admin.waitHealthy(ctx, 2*time.Minute, o.NodeCount, o.Topic); err != nil {
		return err
	}
	if err := r.startProxies(ctx); err != nil {
		return err
	}
	r.logf("topic %s: %d partitions, RF %d, min.insync.replicas 2; proxies %v", o.Topic, o.Partitions, o.NodeCount, r.dials)
	return nil
}

func (r *run) teardown() {
	for _, p := range r.proxies {
		p.Close()
	}
	if r.admin != nil {
		r.admin.close()
	}
}

// producers are the run's workloads.
type producers struct {
	idemP *kprod.Producer
	idem  *idemWorker
	txn   *txnWorker // nil unless Options.Transactional
}

func (r *run) startProducers(ctx context.Context) (*producers, error) {
	o := r.o
	base := r.producerConfig()
	r.report.Settings = fmt.Sprintf("acks=all enable.idempotence=true request.timeout.ms=%d delivery.timeout.ms=%d max.block.ms=%d retry.backoff.max.ms=%d",
		o.RequestTimeout.Milliseconds(), o.DeliveryTimeout.Milliseconds(), base.MaxBlock.Milliseconds(), base.RetryBackoffMax.Milliseconds())
	p, err := kprod.NewProducer(base, r.producerOptions(newConnSet(r.dials, &r.unproxied))...)
	if err != nil {
		return nil, err
	}
	ps := &producers{idemP: p, idem: &idemWorker{p: p, led: r.led, topic: o.Topic, partitions: o.Partitions,
		rate: o.Rate, slots: make(chan struct{}, 20000)}}
	if o.Transactional {
		ps.txn = r.newTxnWorker(base, rand.New(rand.NewPCG(uint64(o.Seed), 0x74786e))) // "txn"
		r.logf("transactional producer %s: InitTransactions", o.TransactionalID)
		if err := ps.txn.start(ctx, time.Minute); err != nil {
			closeNow(p)
			return nil, err
		}
	}
	return ps, nil
}

// chaos runs the producers through the warm-up, the faults and the calm period that
// follows them, then stops the workloads.
func (r *run) chaos(ctx context.Context, ps *producers) {
	o := r.o
	stopLoad, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); ps.idem.run(stopLoad) }()
	if ps.txn != nil {
		wg.Add(1)
		go func() { defer wg.Done(); ps.txn.run(ctx, stopLoad) }()
	}
	defer func() { // the transaction in progress finishes first
		stop()
		wg.Wait()
	}()

	in := &injector{rng: rand.New(rand.NewPCG(uint64(o.Seed), 0x6b70726f64)), // "kprod"
		admin: r.admin, nodes: o.Nodes, nodeCount: o.NodeCount, proxies: r.proxies,
		topic: o.Topic, partitions: o.Partitions, txnID: o.TransactionalID, kinds: o.Kinds,
		heal: 3 * time.Minute, start: r.start, logf: r.logf}
	topics := []string{o.Topic}
	if ps.txn != nil {
		in.crash = ps.txn.crash
		topics = append(topics, "__transaction_state")
		r.watch = &txnWatch{admin: r.admin, id: o.TransactionalID, logf: r.logf}
		wctx, wstop := context.WithCancel(ctx)
		var wwg sync.WaitGroup
		wwg.Add(1)
		go func() { defer wwg.Done(); r.watch.run(wctx) }()
		defer func() { wstop(); wwg.Wait() }()
	}
	r.logf("producing for %s before faults", o.Warmup)
	if sleep(ctx, o.Warmup) == nil {
		r.logf("faults for %s (seed %d)", o.Duration, o.Seed)
		in.run(ctx, time.Now().Add(o.Duration))
	}
	rctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	if err := in.restore(rctx); err != nil {
		r.report.Notes = append(r.report.Notes, err.Error())
	}
	cancel()
	r.report.FaultLog = in.events
	r.report.Faults, r.report.FaultKinds, r.report.FaultsFailed = in.counts()
	for _, ev := range in.events {
		if ev.Err != "" {
			r.report.Notes = append(r.report.Notes, fmt.Sprintf("%s at %.1fs: %s", ev.Kind, time.Duration(ev.At).Seconds(), ev.Err))
		}
	}
	r.logf("faults over (%d); waiting for the cluster to be whole", r.report.Faults)
	if err := r.admin.waitHealthy(ctx, 3*time.Minute, o.NodeCount, topics...); err != nil {
		r.report.Notes = append(r.report.Notes, err.Error())
		return
	}
	if ps.txn != nil {
		// Every transaction from now on begins only once the coordinator has finished the
		// previous one. With transactions v2 (KIP-890) a broker answers a transactional
		// Produce CONCURRENT_TRANSACTIONS until the previous transaction's markers are all
		// written; a marker backlog the faults left would fail the sends of a healthy
		// producer at delivery.timeout.ms and measure the broker, not the producer's
		// recovery. The wait is bounded: a transaction the coordinator never finishes is a
		// failure of its own (Report.TxnNotComplete), naming the state it was left in.
		ps.txn.setGate(func(ctx context.Context) error {
			start := time.Now()
			v, err := r.admin.waitTxnComplete(ctx, o.TransactionalID, o.TxnCompleteTimeout)
			if d := time.Since(start); err == nil && d > time.Second {
				r.logf("calm: waited %.1fs for the coordinator to finish the previous transaction (now %s)", d.Seconds(), v.State)
			}
			return err
		})
	}
	// The producers must recover: what they send from now on must succeed.
	r.calm = time.Now()
	r.logf("cluster whole; producing %s more, every send of which must succeed", o.Calm)
	sleep(ctx, o.Calm)
}

// finishProducers flushes and closes the producers (every send must resolve, Close must
// honour its deadline) and checks that no kprod goroutine outlives them.
func (r *run) finishProducers(ps *producers) {
	r.finish("idempotent producer", ps.idemP)
	if ps.txn != nil {
		if p := ps.txn.producer(); p != nil {
			r.finish("transactional producer", p)
		}
		if ps.txn.notComplete != nil {
			r.report.TxnNotComplete = 1
			r.report.Notes = append(r.report.Notes, "transactional producer stopped in the calm period: "+ps.txn.notComplete.Error())
		}
		if ps.txn.fatal != nil {
			r.report.TxnStopped = 1
			r.report.Notes = append(r.report.Notes, "transactional producer stopped early: "+ps.txn.fatal.Error())
		}
	}
	r.report.LeakedGoroutines = waitGoroutines(10 * time.Second)
}

// summarize fills the report's per-producer figures.
func (r *run) summarize(ps *producers) {
	entries, txns := r.led.Snapshot()
	if r.o.Ledger != nil {
		if err := WriteLedger(r.o.Ledger, r.start, entries, txns); err != nil {
			r.report.Notes = append(r.report.Notes, "writing the ledger: "+err.Error())
		}
	}
	r.report.Producers = producerStats(entries)
	r.report.DoubleCallbacks = ps.idem.doubles.Load()
	r.report.UnproxiedDials = r.unproxied.Load()
	if s := r.report.Producers[producerIdem]; s != nil {
		s.Errors = ps.idem.errs.snapshot()
	}
	if ps.txn != nil {
		st := ps.txn.stats
		r.report.Txn = &st
		if r.watch != nil {
			d, what := r.watch.Longest()
			r.report.TxnUnfinished, r.report.TxnUnfinishedWhat = Millis(d), what
		}
		r.report.DoubleCallbacks += ps.txn.doubles.Load()
		if s := r.report.Producers[producerTxn]; s != nil {
			s.Errors = ps.txn.errs.snapshot()
		}
	}
}

// producerConfig is the configuration both producers share.
func (r *run) producerConfig() kprod.Config {
	return kprod.Config{
		BootstrapServers: r.o.Bootstrap,
		Acks:             kprod.AcksAll,
		Idempotence:      kprod.ToggleOn,
		RequestTimeout:   r.o.RequestTimeout,
		DeliveryTimeout:  r.o.DeliveryTimeout,
		MaxBlock:         20 * time.Second,
		RetryBackoffMax:  500 * time.Millisecond,
	}
}

func (r *run) producerOptions(cs *connSet) []kprod.Option {
	opts := []kprod.Option{kprod.WithDialer(cs.dial)}
	if r.o.ProducerLog != nil {
		opts = append(opts, kprod.WithLogger(slog.New(slog.NewTextHandler(r.o.ProducerLog, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	} else {
		opts = append(opts, kprod.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	}
	return opts
}

func (r *run) newTxnWorker(base kprod.Config, rng *rand.Rand) *txnWorker {
	w := &txnWorker{led: r.led, topic: r.o.Topic, partitions: r.o.Partitions, rate: r.o.Rate, rng: rng,
		crash: make(chan crashRequest, 1), logf: r.logf, closeLog: r.closeLog, opTimeout: 30 * time.Second}
	cfg := base
	cfg.TransactionalID = r.o.TransactionalID
	cfg.TransactionTimeout = 30 * time.Second
	w.newProducer = func() (*kprod.Producer, *connSet, error) {
		cs := newConnSet(r.dials, &r.unproxied)
		p, err := kprod.NewProducer(cfg, r.producerOptions(cs)...)
		return p, cs, err
	}
	return w
}

// startProxies puts a proxy in front of every broker the cluster registers.
func (r *run) startProxies(ctx context.Context) error {
	qctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	brokers, err := r.admin.brokers(qctx)
	if err != nil {
		return err
	}
	r.proxies, r.dials = map[int32]*Proxy{}, map[string]string{}
	for id, addr := range brokers {
		p, err := NewProxy(addr)
		if err != nil {
			return err
		}
		r.proxies[id], r.dials[addr] = p, p.Addr()
	}
	for _, b := range r.o.Bootstrap {
		if _, ok := r.dials[b]; !ok {
			return fmt.Errorf("chaos: bootstrap server %s is not a registered broker address (%v)", b, brokers)
		}
	}
	return nil
}

// finish flushes and closes a producer, checking Close's deadline.
func (r *run) finish(what string, p *kprod.Producer) {
	fctx, cancel := context.WithTimeout(context.Background(), r.o.DeliveryTimeout+r.o.Margin)
	start := time.Now()
	if err := p.Flush(fctx); err != nil {
		r.report.Notes = append(r.report.Notes, fmt.Sprintf("%s: Flush after %s: %v", what, time.Since(start).Round(time.Millisecond), err))
	}
	cancel()
	cctx, cancel := context.WithTimeout(context.Background(), r.o.CloseTimeout)
	start = time.Now()
	err := p.Close(cctx)
	cancel()
	r.closeLog(what, time.Since(start), r.o.CloseTimeout, err)
	r.logf("%s closed in %s", what, time.Since(start).Round(time.Millisecond))
}

// closeNow closes a producer at once, for runs that stop early.
func closeNow(p *kprod.Producer) {
	ctx, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	p.Close(ctx)
}

// verify reads the topic back and runs the checker.
func (r *run) verify(ctx context.Context) error {
	o := r.o
	r.logf("waiting for every transaction to end (last stable offset = high watermark)")
	ends, err := r.admin.waitStable(ctx, o.Topic, o.Partitions, time.Minute+30*time.Second)
	if err != nil {
		return err
	}
	ru, err := readBack(ctx, o.Bootstrap, o.Topic, ends, false, 5*time.Minute)
	if err != nil {
		return err
	}
	rc, err := readBack(ctx, o.Bootstrap, o.Topic, ends, true, 5*time.Minute)
	if err != nil {
		return err
	}
	r.report.ReadUncommitted, r.report.ReadCommitted = len(ru), len(rc)
	r.logf("read back %d records (read_uncommitted), %d (read_committed)", len(ru), len(rc))
	entries, txns := r.led.Snapshot()
	r.report.Counts, r.report.Examples = Check(entries, txns, ru, rc,
		CheckConfig{Bound: o.DeliveryTimeout + o.Margin, CalmFrom: r.calm, TxnCalmFrom: r.txnCalm})
	return nil
}

// waitGoroutines waits up to d for every kprod goroutine (sender, completion, metadata,
// connection loops) to end after the producers closed, and returns how many remain.
func waitGoroutines(d time.Duration) int {
	deadline := time.Now().Add(d)
	for {
		n := kprodGoroutines()
		if n == 0 || time.Now().After(deadline) {
			return n
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func kprodGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, line := range strings.Split(g, "\n") {
			if (strings.HasPrefix(line, "github.com/kprod-io/kprod.") || strings.HasPrefix(line, "github.com/kprod-io/kprod/")) &&
				!strings.HasPrefix(line, "github.com/kprod-io/kprod/internal/chaos.") {
				count++
				break
			}
		}
	}
	return count
}
