package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kprod-io/kprod"
)

// crashRequest asks the transactional worker to crash its producer at a point of its
// next transaction; done receives what happened.
type crashRequest struct{ done chan string }

// TxnStats counts what the transactional producer did.
type TxnStats struct {
	Committed  int `json:"committed"`
	Aborted    int `json:"aborted_after_error"`
	Purposeful int `json:"aborted_on_purpose"`
	Crashed    int `json:"crashed"`
	InDoubt    int `json:"in_doubt"`
	Recreated  int `json:"producers_recreated"`
	GaveUp     int `json:"transactions_given_up"`
}

// txnWorker runs transactions of 50-200 unique values "txn/partition/counter" over a
// random subset of the partitions, commits them, aborts one in about six on purpose, and
// resends a transaction's records in a new one after an abortable error.
type txnWorker struct {
	newProducer func() (*kprod.Producer, *connSet, error)
	closeLog    func(what string, took, deadline time.Duration, err error)
	led         *Ledger
	topic       string
	partitions  int32
	rate        int
	rng         *rand.Rand
	crash       chan crashRequest
	logf        func(format string, args ...any)
	opTimeout   time.Duration

	mu    sync.Mutex // guards p, conns and gate (the fault injector and the run set them)
	p     *kprod.Producer
	conns *connSet
	// gate, set when the calm period begins, runs before each transaction: it returns
	// once the coordinator has finished the previous one (markers written), or an error
	// naming the state it is stuck in.
	gate func(context.Context) error
	// gatedAt is when the first transaction the gate let through began.
	gatedAt time.Time

	stats   TxnStats
	errs    errStats
	doubles atomic.Int64
	fatal   error // why the worker stopped early
	// notComplete is the gate's error: the coordinator never finished a transaction
	// after the faults.
	notComplete error
}

type txnRecord struct {
	part    int32
	counter int64
	entry   int // ledger entry, -1 before the first attempt
}

// start creates the first producer and initializes transactions.
func (w *txnWorker) start(ctx context.Context, budget time.Duration) error {
	return w.replace(ctx, budget, 0)
}

// replace closes the current producer, if any, within closeIn (0: at once, as after a
// crash), and creates and initializes a new one with the same transactional.id, retrying
// for up to budget.
func (w *txnWorker) replace(ctx context.Context, budget, closeIn time.Duration) error {
	w.mu.Lock()
	old := w.p
	w.p, w.conns = nil, nil
	w.mu.Unlock()
	if old != nil {
		w.closeProducer(old, closeIn)
		w.stats.Recreated++
	}
	deadline := time.Now().Add(budget)
	var last error
	for time.Now().Before(deadline) && ctx.Err() == nil {
		p, cs, err := w.newProducer()
		if err != nil {
			return err
		}
		ictx, cancel := context.WithTimeout(ctx, w.opTimeout)
		err = p.InitTransactions(ictx)
		cancel()
		if err == nil {
			w.mu.Lock()
			w.p, w.conns = p, cs
			w.mu.Unlock()
			return nil
		}
		last = err
		w.errs.add(err)
		w.logf("transactional producer: InitTransactions: %v", err)
		w.closeProducer(p, 0)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	return fmt.Errorf("chaos: transactional producer could not initialize within %s: %w", budget, errors.Join(last, ctx.Err()))
}

func (w *txnWorker) closeProducer(p *kprod.Producer, d time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), d) // d = 0: already expired
	defer cancel()
	start := time.Now()
	err := p.Close(ctx)
	w.closeLog("transactional producer (replaced)", time.Since(start), d, err)
}

// setGate makes every later transaction wait for gate first.
func (w *txnWorker) setGate(gate func(context.Context) error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.gate = gate
}

// firstGated returns when the first transaction the gate let through began; zero if
// none did.
func (w *txnWorker) firstGated() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.gatedAt
}

func (w *txnWorker) calmGate() func(context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.gate
}

func (w *txnWorker) producer() *kprod.Producer {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.p
}

// run runs transactions until stop ends; the transaction in progress then finishes.
// ctx ends everything at once.
func (w *txnWorker) run(ctx, stop context.Context) {
	counters := make([]int64, w.partitions)
	pc := pacer{rate: w.rate, start: time.Now()}
	for seq := int64(1); stop.Err() == nil && ctx.Err() == nil; seq++ {
		if gate := w.calmGate(); gate != nil {
			if err := gate(ctx); err != nil {
				w.notComplete = err
				w.logf("transactional producer stopped before transaction %d: %v", seq, err)
				return
			}
			w.mu.Lock()
			if w.gatedAt.IsZero() {
				w.gatedAt = time.Now()
			}
			w.mu.Unlock()
		}
		n := 50 + w.rng.IntN(151)
		parts := w.rng.Perm(int(w.partitions))[:1+w.rng.IntN(int(w.partitions))]
		recs := make([]txnRecord, n)
		for i := range recs {
			p := int32(parts[w.rng.IntN(len(parts))])
			recs[i] = txnRecord{part: p, counter: counters[p], entry: -1}
			counters[p]++
		}
		purposeful := w.rng.IntN(6) == 0
		if err := w.transaction(ctx, seq, recs, purposeful); err != nil {
			w.fatal = err
			w.logf("transactional producer stopped: %v", err)
			return
		}
		if pc.wait(stop, n) != nil {
			return
		}
	}
}

// crashPoint picks where a requested crash strikes: before record i (0..n-1), before
// the commit (n) or during it (n+1); -1 when no crash was requested.
func (w *txnWorker) crashPoint(n int) (int, *crashRequest) {
	select {
	case req := <-w.crash:
		switch w.rng.IntN(3) {
		case 0:
			return w.rng.IntN(n), &req
		case 1:
			return n, &req
		default:
			return n + 1, &req
		}
	default:
		return -1, nil
	}
}

// crashNow simulates kill -9 of the producer process: every connection is reset, no new
// one may open, and the producer is closed at once (its goroutines must go; nothing it
// does can reach the cluster any more).
func (w *txnWorker) crashNow() int {
	w.mu.Lock()
	cs := w.conns
	w.mu.Unlock()
	return cs.kill()
}

// transaction runs logical transaction seq until it commits, is aborted on purpose or
// ends in doubt, resending its records after abortable errors and crashes.
func (w *txnWorker) transaction(ctx context.Context, seq int64, recs []txnRecord, purposeful bool) error {
	for attempt := 0; ; attempt++ {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if attempt == 25 {
			w.stats.GaveUp++
			w.logf("transaction %d: giving up after %d attempts", seq, attempt)
			return nil
		}
		if attempt > 0 {
			time.Sleep(time.Duration(min(attempt, 10)) * 100 * time.Millisecond)
		}
		id := w.led.BeginTxn(seq)
		p := w.producer()
		if err := p.BeginTransaction(); err != nil {
			w.errs.add(err)
			w.led.EndTxn(id, TxnAborted, false, "BeginTransaction: "+err.Error())
			if err := w.recover(ctx, err); err != nil {
				return err
			}
			continue
		}
		at, req := -1, (*crashRequest)(nil)
		if !purposeful {
			at, req = w.crashPoint(len(recs))
		}
		crashed := false
		var sendErr error
		for i := range recs {
			if i == at {
				crashed = true
				break
			}
			r := &recs[i]
			var ref Ref
			if r.entry < 0 {
				ref = w.led.Add(producerTxn, r.part, r.counter, id)
				r.entry = ref.Entry
			} else {
				ref = w.led.Retry(r.entry, id)
			}
			rec := &kprod.Record{Topic: w.topic, Partition: kprod.InPartition(r.part),
				Value:   []byte(FormatValue(producerTxn, r.part, r.counter)),
				Headers: []kprod.Header{{Key: TxnHeader, Value: []byte(strconv.FormatInt(id, 10))}}}
			sctx, cancel := context.WithTimeout(ctx, w.opTimeout)
			err := p.Send(sctx, rec, w.callback(ref))
			cancel()
			if err != nil {
				w.errs.add(err)
				w.led.Resolve(ref, classify(err), -1, err)
				sendErr = err
				break
			}
		}
		if crashed || at == len(recs) {
			n := w.crashNow()
			w.led.EndTxn(id, TxnCrashed, false, fmt.Sprintf("crashed before %s", crashWhere(at, len(recs))))
			w.stats.Crashed++
			req.done <- fmt.Sprintf("transaction %d crashed before %s (%d connections reset)", id, crashWhere(at, len(recs)), n)
			if err := w.replace(ctx, 3*time.Minute, 0); err != nil {
				return err
			}
			continue
		}
		if sendErr != nil {
			if req != nil { // the crash did not happen: the next attempt takes it
				w.crash <- *req
			}
			if err := w.abort(ctx, id, false, "send failed: "+sendErr.Error(), sendErr); err != nil {
				return err
			}
			continue
		}
		if purposeful {
			if w.rng.IntN(2) == 0 {
				// Let the records reach the log first: the abort must then hide them.
				fctx, cancel := context.WithTimeout(ctx, w.opTimeout)
				p.Flush(fctx)
				cancel()
			}
			return w.abort(ctx, id, true, "on purpose", nil)
		}
		var err error
		if at == len(recs)+1 {
			err = w.commitAndCrash(ctx, id, req)
		} else {
			err = w.commit(ctx)
		}
		switch {
		case at == len(recs)+1:
			if err == nil {
				w.led.EndTxn(id, TxnCommitted, false, "committed before the crash")
				w.stats.Committed++
			} else {
				w.led.EndTxn(id, TxnInDoubt, false, "crashed while committing: "+err.Error())
				w.stats.InDoubt++
			}
			return w.replace(ctx, 3*time.Minute, 0)
		case err == nil:
			w.led.EndTxn(id, TxnCommitted, false, "")
			w.stats.Committed++
			return nil
		case isAbortable(err):
			if err := w.abort(ctx, id, false, "commit: "+err.Error(), err); err != nil {
				return err
			}
			continue
		default:
			// Fatal, or the outcome stayed unknown: a new producer's InitTransactions
			// completes or aborts it; either all its records are visible or none.
			w.led.EndTxn(id, TxnInDoubt, false, "commit: "+err.Error())
			w.stats.InDoubt++
			return w.replace(ctx, 3*time.Minute, 5*time.Second)
		}
	}
}

func crashWhere(at, n int) string {
	if at >= n {
		return "the commit"
	}
	return fmt.Sprintf("record %d of %d", at, n)
}

func (w *txnWorker) callback(ref Ref) func(kprod.RecordMetadata, error) {
	return func(md kprod.RecordMetadata, err error) {
		w.errs.add(err)
		off := int64(-1)
		if err == nil {
			off = md.Offset
		}
		if !w.led.Resolve(ref, classify(err), off, err) {
			w.doubles.Add(1)
		}
	}
}

func isAbortable(err error) bool {
	var ae *kprod.AbortableError
	return errors.As(err, &ae)
}

func isFatal(err error) bool {
	var fe *kprod.FatalError
	return errors.As(err, &fe) || errors.Is(err, kprod.ErrProducerFenced)
}

// commit commits, resuming the same commit after timeouts (it never turns into an
// abort, KAFKA-17754), for up to 4 tries.
func (w *txnWorker) commit(ctx context.Context) error {
	var err error
	for try := 0; try < 4; try++ {
		cctx, cancel := context.WithTimeout(ctx, w.opTimeout)
		err = w.producer().CommitTransaction(cctx)
		cancel()
		w.errs.add(err)
		if err == nil || isAbortable(err) || isFatal(err) || ctx.Err() != nil {
			return err
		}
		w.logf("commit: %v; retrying", err)
	}
	return err
}

// commitAndCrash starts the commit and crashes the producer 0-300ms later: while it
// flushes the last batches, or while its EndTxn is in flight.
func (w *txnWorker) commitAndCrash(ctx context.Context, id int64, req *crashRequest) error {
	p := w.producer()
	res := make(chan error, 1)
	go func() {
		cctx, cancel := context.WithTimeout(ctx, w.opTimeout)
		defer cancel()
		res <- p.CommitTransaction(cctx)
	}()
	time.Sleep(time.Duration(w.rng.IntN(300)) * time.Millisecond)
	n := w.crashNow()
	err := <-res
	w.stats.Crashed++
	req.done <- fmt.Sprintf("transaction %d crashed during its commit (%d connections reset; commit returned %v)", id, n, err)
	return err
}

// abort aborts transaction attempt id, retrying; if the producer cannot, it is
// replaced (its successor's InitTransactions aborts the transaction). It fails only when
// no new producer could be initialized.
func (w *txnWorker) abort(ctx context.Context, id int64, purposeful bool, why string, cause error) error {
	w.led.EndTxn(id, TxnAborted, purposeful, why)
	if purposeful {
		w.stats.Purposeful++
	} else {
		w.stats.Aborted++
	}
	if cause != nil && isFatal(cause) {
		return w.recover(ctx, cause)
	}
	var err error
	for try := 0; try < 4; try++ {
		actx, cancel := context.WithTimeout(ctx, w.opTimeout)
		err = w.producer().AbortTransaction(actx)
		cancel()
		w.errs.add(err)
		if err == nil || isFatal(err) || ctx.Err() != nil {
			break
		}
		w.logf("abort of transaction %d: %v; retrying", id, err)
	}
	if err != nil {
		return w.recover(ctx, err)
	}
	return nil
}

// recover replaces the producer after an error it cannot continue from.
func (w *txnWorker) recover(ctx context.Context, err error) error {
	if err == nil || isAbortable(err) {
		return nil
	}
	w.logf("transactional producer: %v; replacing it", err)
	return w.replace(ctx, 3*time.Minute, 5*time.Second)
}
