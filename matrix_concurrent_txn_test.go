package kprod_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
)

// The CONCURRENT_TRANSACTIONS rows of the fault matrix. With transactions v2 (KIP-890,
// transaction.version 2 finalized) a broker checks every transactional Produce with the
// coordinator and answers CONCURRENT_TRANSACTIONS while the coordinator still writes the
// markers of the producer's previous transaction (ReplicaManager.handleProduceAppend keeps
// the code for v2 clients: "very common during the transaction commit phase"). Java
// retries it as any RetriableException (ConcurrentTransactionsException), up to
// delivery.timeout.ms; past that the batch fails and the transaction is abortable
// (Sender.failBatch -> TransactionManager.handleFailedBatch).

// TestMatrixConcurrentTransactionsProduce: the first Produce requests of a transaction
// answered CONCURRENT_TRANSACTIONS, as they are right after the previous commit: the
// batches are retried with the same sequences and bytes, the transaction commits, and a
// read_committed franz-go consumer sees every record once, in send order, at the offset
// its callback reported.
func TestMatrixConcurrentTransactionsProduce(t *testing.T) {
	const topic, parts, n, faults = "concurrent-txn", 2, 40, 4
	c := mxTxnCluster(t, true, kafkatest.Topic(topic, parts))
	p := mxTxnProducer(t, c, "concurrent-txn", true, nil)
	tr := newMXTracker(topic)
	mxCommitTxn(t, p, tr, parts, "c1-0", "c1-1")

	pl := observeProduce(c.Fake(), topic)
	h := c.Fake().Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.ConcurrentTransactions, Count: faults})
	var values []string
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		v := fmt.Sprintf("c2-%03d", i)
		values = append(values, v)
		tr.send(t, p, int32(i%parts), v)
	}
	if err := p.CommitTransaction(mxCtx(t, 10*time.Second)); err != nil {
		t.Fatalf("CommitTransaction after CONCURRENT_TRANSACTIONS on Produce: %v", err)
	}
	tr.wait(t, time.Second)
	if h.Hits() != faults {
		t.Fatalf("CONCURRENT_TRANSACTIONS answered %d times, want %d", h.Hits(), faults)
	}
	tr.checkCallbacks(t)
	mxCommitTxn(t, p, tr, parts, "c3-0", "c3-1")

	want := map[int32][]string{0: {"c1-0"}, 1: {"c1-1"}}
	for i, v := range values {
		want[int32(i%parts)] = append(want[int32(i%parts)], v)
	}
	want[0], want[1] = append(want[0], "c3-0"), append(want[1], "c3-1")
	recs := mxExpectLog(t, c.Bootstrap(), topic, true, want, tr.metadata())

	// Rule 2: the refused batches went again with the same sequences and bytes, under the
	// transaction's own epoch (v2 bumps it at every EndTxn).
	first := recs[values[0]]
	if first == nil {
		t.Fatal("the transaction's first record is not in the log")
	}
	var mine []mxAttempt
	for _, a := range pl.all() {
		if a.pid == first.ProducerID && a.epoch == first.ProducerEpoch {
			mine = append(mine, a)
		}
	}
	txnLog := &mxProduceLog{attempts: mine}
	if resends := txnLog.checkSequences(t, map[int32]int{0: n / parts, 1: n / parts}); resends < faults {
		t.Errorf("%d batches were resent; want at least %d (one per CONCURRENT_TRANSACTIONS)", resends, faults)
	}
	for _, v := range values {
		if r := recs[v]; r != nil && (r.ProducerID != first.ProducerID || r.ProducerEpoch != first.ProducerEpoch) {
			t.Errorf("%s written as %d/%d, the transaction's first record as %d/%d", v, r.ProducerID, r.ProducerEpoch, first.ProducerID, first.ProducerEpoch)
		}
	}
}

// TestMatrixConcurrentTransactionsPastDeliveryTimeout: CONCURRENT_TRANSACTIONS that
// lasts longer than delivery.timeout.ms (the coordinator never finishes the previous
// transaction's markers). The first record is retried until its deadline, then fails
// with ErrDeliveryTimeout holding the Kafka code, and the transaction is abortable; the
// other record, waiting for its next retry, fails with the same cause. Each says
// whether it may be in the log: certainly not when every answer was
// CONCURRENT_TRANSACTIONS, possibly when an earlier attempt's answer was lost after the
// broker appended it (and it is indeed in the log). Commit is refused, the abort
// succeeds, the next transaction commits, and read_committed never sees the failed
// records.
func TestMatrixConcurrentTransactionsPastDeliveryTimeout(t *testing.T) {
	const topic, parts = "concurrent-txn-expiry", 2
	const deliveryTimeout = 1500 * time.Millisecond
	c := mxTxnCluster(t, true, kafkatest.Topic(topic, parts))
	tap := &ftTap{}
	p := mxProducer(t, c.Bootstrap(), func(cfg *kprod.Config) {
		cfg.TransactionalID = "concurrent-txn-expiry"
		cfg.RequestTimeout, cfg.DeliveryTimeout = 400*time.Millisecond, deliveryTimeout
	}, kprod.WithDialer(tap.dial))
	if err := p.InitTransactions(mxCtx(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if !kprod.TransactionsV2(p) {
		t.Fatal("transactions v2 not in use")
	}
	tr := newMXTracker(topic)
	mxCommitTxn(t, p, tr, parts, "c1-0", "c1-1")

	// The transaction's first Produce (partition 1) is appended and its answer lost; every
	// later one is refused.
	ct := &mxRefuseAfterFirst{topic: topic, first: make(chan struct{}), refusedP1: make(chan struct{}), counted: map[kmsg.Request]bool{}}
	h := c.Fake().Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.ConcurrentTransactions,
		Count: -1, When: ct.when})
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	tap.dropProduceResponses.Store(1)
	lost := mxSendTimed(t, p, topic, 1, "lost-1")
	// stuck-0 goes once lost-1's retry was refused: by then the connection that lost the
	// answer is gone, so stuck-0 is never in flight on it (which would make it possibly
	// written too).
	for _, w := range []struct {
		ch   chan struct{}
		what string
	}{{ct.first, "the transaction's first Produce never reached the broker"}, {ct.refusedP1, "lost-1 was never retried"}} {
		select {
		case <-w.ch:
		case <-time.After(5 * time.Second):
			t.Fatal(w.what)
		}
	}
	stuck := mxSendTimed(t, p, topic, 0, "stuck-0")
	// lost-1 is retried until its deadline; its failure dooms the transaction, and
	// stuck-0, waiting for its next retry, fails with the same cause then (Java's
	// abortUndrainedBatches), certainly not written.
	lost.wait(t, 10*time.Second)
	stuck.wait(t, 10*time.Second)
	if took := lost.at.Sub(lost.sent); took < deliveryTimeout {
		t.Errorf("lost-1 failed %s after Send, before delivery.timeout.ms (%s): %v", took, deliveryTimeout, lost.err)
	}
	for _, r := range []*mxTimed{stuck, lost} {
		if n := ct.refused[r.part].Load(); n < 2 {
			t.Errorf("%s: CONCURRENT_TRANSACTIONS answered %d times; want the batch retried", r.value, n)
		}
		if !errors.Is(r.err, kprod.ErrDeliveryTimeout) {
			t.Errorf("%s failed with %v; want errors.Is(err, ErrDeliveryTimeout)", r.value, r.err)
		}
		mxWantAbortable(t, r.value, r.err)
	}
	if tap.dropProduceResponses.Load() != 0 {
		t.Fatal("the first Produce response was not lost")
	}
	mxDeliveryErr(t, "stuck-0 (only ever refused)", stuck.err, kerr.ConcurrentTransactions.Code, false)
	mxDeliveryErr(t, "lost-1 (appended, answer lost, then refused)", lost.err, kerr.ConcurrentTransactions.Code, true)

	err := p.CommitTransaction(mxCtx(t, 5*time.Second))
	mxWantAbortable(t, "CommitTransaction", err)
	h.Remove()
	if err := p.AbortTransaction(mxCtx(t, 5*time.Second)); err != nil {
		t.Fatalf("AbortTransaction: %v", err)
	}
	mxCommitTxn(t, p, tr, parts, "c3-0", "c3-1")
	tr.checkCallbacks(t)
	mxExpectLog(t, c.Bootstrap(), topic, true, map[int32][]string{0: {"c1-0", "c3-0"}, 1: {"c1-1", "c3-1"}}, tr.metadata())
	var inLog []string
	for _, r := range mxRead(t, c.Bootstrap(), topic, false, 5) {
		if v := string(r.Value); v == "lost-1" || v == "stuck-0" {
			inLog = append(inLog, v)
		}
	}
	if !slices.Equal(inLog, []string{"lost-1"}) {
		t.Errorf("read_uncommitted holds %v of the failed records; want [lost-1] (appended before its answer was lost, then aborted)", inLog)
	}
}

// mxRefuseAfterFirst is a Fault's When: the first Produce request carrying topic goes
// through (first closes), every later one is faulted; refusals are counted per partition
// and refusedP1 closes at the first refusal of partition 1. kfake may ask When more than
// once for one request (once per entity), hence the request is remembered.
type mxRefuseAfterFirst struct {
	topic     string
	first     chan struct{}
	refusedP1 chan struct{}
	firstReq  kmsg.Request          // the cluster goroutine only
	counted   map[kmsg.Request]bool // the cluster goroutine only
	refused   [2]atomic.Int32
}

func (f *mxRefuseAfterFirst) when(kreq kmsg.Request) bool {
	if f.firstReq == nil {
		f.firstReq = kreq
		close(f.first)
	}
	if kreq == f.firstReq {
		return false
	}
	if !f.counted[kreq] {
		f.counted[kreq] = true
		for _, rt := range kreq.(*kmsg.ProduceRequest).Topics {
			for _, rp := range rt.Partitions {
				if rt.Topic == f.topic && rp.Partition >= 0 && int(rp.Partition) < len(f.refused) {
					if f.refused[rp.Partition].Add(1) == 1 && rp.Partition == 1 {
						close(f.refusedP1)
					}
				}
			}
		}
	}
	return true
}

// mxTimed is one record sent with its own callback, which notes when it ran.
type mxTimed struct {
	value string
	part  int32
	sent  time.Time
	done  chan struct{}
	at    time.Time // when the callback ran
	err   error
}

// mxSendTimed sends value to partition part; Send itself must succeed.
func mxSendTimed(t *testing.T, p *kprod.Producer, topic string, part int32, value string) *mxTimed {
	t.Helper()
	r := &mxTimed{value: value, part: part, sent: time.Now(), done: make(chan struct{})}
	err := p.Send(context.Background(), &kprod.Record{Topic: topic, Partition: kprod.InPartition(part), Value: []byte(value)},
		func(_ kprod.RecordMetadata, err error) {
			r.at, r.err = time.Now(), err
			close(r.done)
		})
	if err != nil {
		t.Fatalf("Send(%s): %v", value, err)
	}
	return r
}

func (r *mxTimed) wait(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(d):
		t.Fatalf("%s: no callback after %s", r.value, d)
	}
}
