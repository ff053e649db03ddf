package kprod_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/internal/accumulator"
	"github.com/kprod-io/kprod/kafkatest"
)

// Resource tests: buffer.memory is given back whole however waits end, Close releases
// every pending record, and every goroutine the producer starts has an owner that
// waits for it on Close (architecture.md, convention 6): after Close, no goroutine with
// a kprod frame may remain, whatever state the producer was in.

// kprodFrame matches a stack line of a function in package kprod or below (not
// kprod_test, not kfake).
var kprodFrame = regexp.MustCompile(`(?m)^(created by )?github\.com/kprod-io/kprod[./]`)

// kprodGoroutines returns the stacks of goroutines running kprod code, by goroutine id,
// except the caller's own.
func kprodGoroutines() map[int]string {
	out := map[int]string{}
	for i, g := range goroutineStacks() {
		if i == 0 { // runtime.Stack lists the caller first
			continue
		}
		var id int
		if _, err := fmt.Sscanf(g, "goroutine %d ", &id); err != nil {
			continue
		}
		if kprodFrame.MatchString(g) {
			out[id] = g
		}
	}
	return out
}

// checkNoLeak waits for the goroutines started since before to end: Close has stopped
// them, but one that signalled its end may still be unwinding. Only a leak uses up the
// deadline.
func checkNoLeak(t *testing.T, before map[int]string) {
	t.Helper()
	var left map[int]string
	for deadline := time.Now().Add(waitLong); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		left = kprodGoroutines()
		for id := range before {
			delete(left, id)
		}
		if len(left) == 0 {
			return
		}
	}
	var sb strings.Builder
	for id, g := range left {
		sb.WriteString("\n--- goroutine " + strconv.Itoa(id) + ":\n" + g)
	}
	t.Errorf("%d kprod goroutines still run after Close:%s", len(left), sb.String())
}

// checkConnsClosed asserts that the producer closed every connection it dialed through
// tap by the time Close returned.
func checkConnsClosed(t *testing.T, tap *ftTap) {
	t.Helper()
	tap.mu.Lock()
	defer tap.mu.Unlock()
	open := 0
	for _, c := range tap.conns {
		if !c.closed.Load() {
			open++
		}
	}
	if open > 0 {
		t.Errorf("%d of %d connections still open after Close", open, len(tap.conns))
	}
}

// closeWithin closes p with ctx and fails if Close takes longer than d. The bounds
// callers give are far above what Close needs and far below the Kafka timeouts
// (request.timeout.ms, max.block.ms, delivery.timeout.ms) that a Close ignoring its ctx
// would wait for: they catch a hang, they do not measure speed.
func closeWithin(t *testing.T, p *kprod.Producer, ctx context.Context, d time.Duration) {
	t.Helper()
	start := time.Now()
	p.Close(ctx)
	if took := time.Since(start); took > d {
		t.Errorf("Close took %v, want under %v", took, d)
	}
}

// silentListener accepts connections and never answers: a broker that hangs.
func silentListener(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// TestLeakAfterClose closes producers in many states; after each Close no goroutine
// running kprod code is left and every connection the producer dialed is closed. Each
// state is reached on an observable event (a request seen by the broker, a Send parked
// in its wait), not after a sleep.
func TestLeakAfterClose(t *testing.T) {
	const topic = "leaky"
	// stall swallows every Produce request; arrivals receives one value per request.
	stall := func(c *kafkatest.Cluster) <-chan struct{} {
		fake := c.Fake()
		arrivals := make(chan struct{}, 1000)
		fake.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
			fake.KeepControl()
			select {
			case arrivals <- struct{}{}:
			default:
			}
			return nil, nil, true
		})
		return arrivals
	}
	// arrive waits for n values on ch.
	arrive := func(t *testing.T, ch <-chan struct{}, n int, what string) {
		t.Helper()
		for i := range n {
			select {
			case <-ch:
			case <-time.After(waitLong):
				t.Fatalf("%s: %d of %d within %v", what, i, n, waitLong)
			}
		}
	}
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, tap *ftTap)
	}{
		{"never used", func(t *testing.T, tap *ftTap) {
			c := kafkatest.New(t, kafkatest.Topic(topic, 2))
			p, err := kprod.NewProducer(kprod.Config{BootstrapServers: c.Bootstrap()}, kprod.WithDialer(tap.dial))
			if err != nil {
				t.Fatal(err)
			}
			closeWithin(t, p, context.Background(), 10*time.Second)
		}},
		{"records delivered", func(t *testing.T, tap *ftTap) {
			c := kafkatest.New(t, kafkatest.Brokers(2), kafkatest.Topic(topic, 4))
			p, err := kprod.NewProducer(kprod.Config{BootstrapServers: c.Bootstrap(), Compression: kprod.CompressionZstd}, kprod.WithDialer(tap.dial))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			for i := range 200 {
				if err := p.Send(ctx, &kprod.Record{Topic: topic, Key: []byte(strconv.Itoa(i)), Value: []byte("v")}, nil); err != nil {
					t.Fatal(err)
				}
			}
			if err := p.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			closeWithin(t, p, ctx, 10*time.Second)
		}},
		{"broker stalled, Close gives up", func(t *testing.T, tap *ftTap) {
			c := kafkatest.New(t, kafkatest.Topic(topic, 2))
			p, err := kprod.NewProducer(kprod.Config{BootstrapServers: c.Bootstrap(), RequestTimeout: 300 * time.Millisecond}, kprod.WithDialer(tap.dial))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if _, err := p.PartitionsFor(ctx, topic); err != nil {
				t.Fatal(err)
			}
			arrivals := stall(c)
			var failed atomic.Int32
			for range 50 {
				if err := p.Send(ctx, &kprod.Record{Topic: topic, Partition: kprod.InPartition(0), Value: []byte("v")}, func(_ kprod.RecordMetadata, err error) {
					if err != nil {
						failed.Add(1)
					}
				}); err != nil {
					t.Fatal(err)
				}
			}
			// The first request, then its retry after request.timeout.ms on a new connection.
			arrive(t, arrivals, 2, "Produce requests at the stalled broker")
			cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			closeWithin(t, p, cctx, 10*time.Second)
			if failed.Load() != 50 {
				t.Errorf("%d of 50 callbacks failed by the time Close returned", failed.Load())
			}
		}},
		{"Sends blocked on buffer and metadata", func(t *testing.T, tap *ftTap) {
			c := kafkatest.New(t, kafkatest.Topic(topic, 1))
			p, err := kprod.NewProducer(kprod.Config{BootstrapServers: c.Bootstrap(), BufferMemory: 2048, MaxBlock: time.Minute}, kprod.WithDialer(tap.dial))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if _, err := p.PartitionsFor(ctx, topic); err != nil {
				t.Fatal(err)
			}
			stall(c)
			errs := make(chan error, 2)
			go func() {
				var err error
				for err == nil {
					err = p.Send(ctx, &kprod.Record{Topic: topic, Value: make([]byte, 500)}, nil)
				}
				errs <- err
			}()
			go func() { errs <- p.Send(ctx, &kprod.Record{Topic: "absent"}, nil) }()
			waitUntil(t, "a Send blocked for buffer.memory", func() bool { return parkedIn(parkedForBuffer) })
			waitUntil(t, "a Send blocked for metadata", func() bool { return parkedIn(parkedForMetadata) })
			cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			closeWithin(t, p, cctx, 10*time.Second)
			for range 2 {
				if err := <-errs; !errors.Is(err, kprod.ErrClosed) {
					t.Errorf("blocked Send = %v; want ErrClosed", err)
				}
			}
		}},
		{"bootstrap never answers", func(t *testing.T, tap *ftTap) {
			addr := silentListener(t)
			p, err := kprod.NewProducer(kprod.Config{BootstrapServers: []string{addr}, MaxBlock: time.Minute}, kprod.WithDialer(tap.dial))
			if err != nil {
				t.Fatal(err)
			}
			sent := make(chan error, 1)
			go func() { sent <- p.Send(context.Background(), &kprod.Record{Topic: topic}, nil) }()
			waitUntil(t, "a Send blocked for metadata", func() bool { return parkedIn(parkedForMetadata) })
			closeWithin(t, p, context.Background(), 10*time.Second)
			select {
			case err := <-sent:
				if !errors.Is(err, kprod.ErrClosed) {
					t.Errorf("Send blocked on metadata = %v; want ErrClosed", err)
				}
			case <-time.After(waitLong):
				t.Error("Send blocked on metadata did not return after Close")
			}
		}},
		{"broker connections fail", func(t *testing.T, tap *ftTap) {
			c := kafkatest.New(t, kafkatest.Topic(topic, 1))
			var dials atomic.Int32
			redialed := make(chan struct{})
			dialer := func(ctx context.Context, network, addr string) (net.Conn, error) {
				switch dials.Add(1) {
				case 1: // the metadata connection only
					return tap.dial(ctx, network, addr)
				case 3:
					close(redialed)
				}
				return nil, errors.New("injected dial failure")
			}
			p, err := kprod.NewProducer(kprod.Config{BootstrapServers: c.Bootstrap()}, kprod.WithDialer(dialer))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			for range 10 {
				if err := p.Send(ctx, &kprod.Record{Topic: topic, Value: []byte("v")}, nil); err != nil {
					t.Fatal(err)
				}
			}
			select {
			case <-redialed: // the producer keeps trying
			case <-time.After(waitLong):
				t.Fatalf("%d dials within %v; the producer should keep trying", dials.Load(), waitLong)
			}
			cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			closeWithin(t, p, cctx, 10*time.Second)
		}},
		{"many producers", func(t *testing.T, tap *ftTap) {
			c := kafkatest.New(t, kafkatest.Topic(topic, 1))
			ctx := context.Background()
			for i := range 10 {
				p, err := kprod.NewProducer(kprod.Config{BootstrapServers: c.Bootstrap()}, kprod.WithDialer(tap.dial))
				if err != nil {
					t.Fatal(err)
				}
				if i%2 == 0 {
					if _, err := p.SendSync(ctx, &kprod.Record{Topic: topic, Value: []byte("v")}); err != nil {
						t.Fatal(err)
					}
				}
				closeWithin(t, p, ctx, 10*time.Second)
			}
		}},
		{"transactional/v1", func(t *testing.T, tap *ftTap) { leakTransactional(t, tap, false) }},
		{"transactional/v2", func(t *testing.T, tap *ftTap) { leakTransactional(t, tap, true) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := kprodGoroutines()
			tap := &ftTap{}
			tc.run(t, tap)
			checkNoLeak(t, before)
			checkConnsClosed(t, tap)
		})
	}
}

// leakTransactional runs a transactional producer through its life before Close:
// InitTransactions, a committed transaction, an aborted one, and one whose EndTxn the
// coordinator refuses with retriable errors (NOT_COORDINATOR: look the coordinator up
// again; CONCURRENT_TRANSACTIONS: retry) and, with transactions v1, whose
// AddPartitionsToTxn is refused COORDINATOR_LOAD_IN_PROGRESS once, before committing.
func leakTransactional(t *testing.T, tap *ftTap, v2 bool) {
	const topic, txnID = "leaky-txn", "leaky-txn-id"
	c := mxTxnCluster(t, v2, kafkatest.Brokers(3), kafkatest.Topic(topic, 2))
	fake := c.Fake()
	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: c.Bootstrap(), TransactionalID: txnID,
		RetryBackoff: 20 * time.Millisecond, RetryBackoffMax: 200 * time.Millisecond}, kprod.WithDialer(tap.dial))
	if err != nil {
		t.Fatal(err)
	}
	ctx := mxCtx(t, waitLong)
	if err := p.InitTransactions(ctx); err != nil {
		t.Fatalf("InitTransactions: %v", err)
	}
	if kprod.TransactionsV2(p) != v2 {
		t.Fatalf("transactions v2 = %v, want %v", kprod.TransactionsV2(p), v2)
	}
	txn := func(name string, end func(context.Context) error) {
		t.Helper()
		if err := p.BeginTransaction(); err != nil {
			t.Fatalf("%s: BeginTransaction: %v", name, err)
		}
		for part := range int32(2) {
			if err := p.Send(ctx, &kprod.Record{Topic: topic, Partition: kprod.InPartition(part), Value: []byte(name)}, nil); err != nil {
				t.Fatalf("%s: Send: %v", name, err)
			}
		}
		// The records are written before the transaction ends, so an abort has markers
		// to write (an abort right after Send is TestTxnAbortRightAfterSend's case).
		if err := p.Flush(ctx); err != nil {
			t.Fatalf("%s: Flush: %v", name, err)
		}
		if err := end(ctx); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	txn("committed", p.CommitTransaction)
	txn("aborted", p.AbortTransaction)
	faults := []*kfake.FaultHandle{
		fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.EndTxn}, TxnID: txnID, Err: kerr.NotCoordinator}),
		fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.EndTxn}, TxnID: txnID, Err: kerr.ConcurrentTransactions}),
	}
	if !v2 {
		faults = append(faults, fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.AddPartitionsToTxn}, TxnID: txnID, Err: kerr.CoordinatorLoadInProgress}))
	}
	txn("retried", p.CommitTransaction)
	for i, h := range faults {
		if h.Hits() != 1 {
			t.Errorf("coordinator fault %d answered %d times, want 1", i, h.Hits())
		}
	}
	closeWithin(t, p, context.Background(), 10*time.Second)
}

// TestFaultBufferExhausted: with the broker silent, Send blocks for buffer.memory up to
// max.block.ms and fails with ErrBufferExhausted; cancelling ctx frees a blocked Send at
// once; once the broker answers, the whole budget is free again.
func TestFaultBufferExhausted(t *testing.T) {
	const topic = "full"
	const budget, maxBlock = 8192, 500 * time.Millisecond
	c := kafkatest.New(t, kafkatest.Topic(topic, 1))
	p := newProducer(t, c.Bootstrap(), func(cfg *kprod.Config) {
		cfg.BufferMemory, cfg.MaxBlock, cfg.RequestTimeout = budget, maxBlock, 800*time.Millisecond
	})
	ctx := context.Background()
	if _, err := p.PartitionsFor(ctx, topic); err != nil {
		t.Fatal(err)
	}
	fake := c.Fake()
	var stalled atomic.Bool
	fake.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		return nil, nil, stalled.Load() // stalled: swallowed, never answered
	})
	stalled.Store(true)

	tr := newFTTracker(topic)
	value := make([]byte, 300)
	var accepted int
	var exhausted error
	var took time.Duration
	for i := 0; i < 1000 && exhausted == nil; i++ {
		v := fmt.Sprintf("b%04d-%s", i, value)
		tr.wg.Add(1)
		start := time.Now()
		err := p.Send(ctx, &kprod.Record{Topic: topic, Partition: kprod.InPartition(0), Value: []byte(v)},
			func(md kprod.RecordMetadata, err error) {
				defer tr.wg.Done()
				tr.mu.Lock()
				defer tr.mu.Unlock()
				tr.calls[v]++
				if err != nil {
					tr.errs[v] = err
				}
			})
		if err != nil {
			tr.wg.Done()
			exhausted, took = err, time.Since(start)
			break
		}
		accepted++
	}
	switch {
	case !errors.Is(exhausted, kprod.ErrBufferExhausted):
		t.Fatalf("after %d records Send returned %v; want ErrBufferExhausted", accepted, exhausted)
	case took < maxBlock-50*time.Millisecond || took > maxBlock+5*time.Second: // the upper bound catches a hang
		t.Errorf("Send blocked %v before ErrBufferExhausted; max.block.ms=%v", took, maxBlock)
	case kprod.MaybeWritten(exhausted):
		t.Errorf("MaybeWritten(%v) = true", exhausted)
	}
	if accepted*300 > budget || accepted < budget/600 {
		t.Errorf("%d records of 300 bytes fit in buffer.memory=%d", accepted, budget)
	}

	t.Run("ctx cancel unblocks Send", func(t *testing.T) {
		// max.block.ms is a minute here: only the cancel can end the wait in time.
		q := newProducer(t, c.Bootstrap(), func(cfg *kprod.Config) {
			cfg.BufferMemory, cfg.MaxBlock, cfg.BatchSize = 1024, time.Minute, 1024
		})
		// Two records that do not share a batch: the first one's takes the whole budget
		// and the broker never answers.
		big := make([]byte, 600)
		if err := q.Send(ctx, &kprod.Record{Topic: topic, Partition: kprod.InPartition(0), Value: big}, nil); err != nil {
			t.Fatal(err)
		}
		cctx, cancel := context.WithCancel(ctx)
		sent := make(chan error, 1)
		go func() {
			sent <- q.Send(cctx, &kprod.Record{Topic: topic, Partition: kprod.InPartition(0), Value: big}, nil)
		}()
		waitUntil(t, "a Send blocked for buffer.memory", func() bool { return parkedIn(parkedForBuffer) })
		cancel()
		var err error
		select {
		case err = <-sent:
		case <-time.After(waitLong):
			t.Fatal("a cancelled Send kept waiting for buffer.memory")
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Send = %v; want context.Canceled", err)
		}
		if kprod.MaybeWritten(err) {
			t.Errorf("MaybeWritten(%v) = true for a record Send refused (Send's doc: certainly not written)", err)
		}
		expired, cancelClose := context.WithCancel(ctx)
		cancelClose()
		q.Close(expired) // its record never gets an answer: fail it now
	})

	stalled.Store(false)
	fctx, cancel := context.WithTimeout(ctx, waitLong)
	defer cancel()
	if err := p.Flush(fctx); err != nil {
		t.Fatalf("Flush after the broker recovered: %v", err)
	}
	tr.wait(t, waitLong)
	tr.mu.Lock()
	if len(tr.calls) != accepted || len(tr.errs) != 0 {
		t.Errorf("%d of %d callbacks ran, %d failed: %v", len(tr.calls), accepted, len(tr.errs), tr.errs)
	}
	tr.mu.Unlock()

	t.Run("whole budget free again", func(t *testing.T) {
		// A record whose upper-bound size is exactly buffer.memory is accepted at once
		// only if not a byte of the budget leaked.
		v := make([]byte, budget-100)
		for accumulator.MaxRecordSize(nil, v, nil) < budget {
			v = append(v, 'x')
		}
		if accumulator.MaxRecordSize(nil, v, nil) != budget {
			t.Skip("no value size makes the record exactly buffer.memory")
		}
		stalled.Store(true) // nothing gets sent meanwhile: only the budget matters
		defer stalled.Store(false)
		// A leaked byte makes Send wait max.block.ms for it and fail.
		if err := p.Send(ctx, &kprod.Record{Topic: topic, Partition: kprod.InPartition(0), Value: v}, nil); err != nil {
			t.Fatalf("a record of exactly buffer.memory: Send = %v; the budget leaked", err)
		}
	})
	stalled.Store(false)
	fctx2, cancel2 := context.WithTimeout(ctx, waitLong)
	defer cancel2()
	if err := p.Flush(fctx2); err != nil {
		t.Fatal(err)
	}
	for i := range 3 * budget / 300 { // three budgets' worth: all must fit as the broker answers
		if err := p.Send(ctx, &kprod.Record{Topic: topic, Partition: kprod.InPartition(0), Value: value}, nil); err != nil {
			t.Fatalf("record %d after recovery: %v", i, err)
		}
	}
}
