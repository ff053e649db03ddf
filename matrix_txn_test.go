package kprod_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
)

// The transactional rows of the fault-injection matrix (see matrix_idempotent_test.go).
// kfake offers transactions v2 (KIP-890: partitions added by Produce, every EndTxn bumps
// the epoch); capping its versions at Kafka 3.9 gives v1 (AddPartitionsToTxn, epoch kept
// across transactions), which the coordinator rows and the re-initialisation rows need.

// mxTxnVersions names the transaction protocol a subtest runs on.
type mxTxnVersion struct {
	name string
	v2   bool
}

var mxTxnVersions = []mxTxnVersion{{"v1", false}, {"v2", true}}

// mxTxnCluster starts a cluster with transactions v2, or v1 when v2 is false.
func mxTxnCluster(t *testing.T, v2 bool, opts ...kafkatest.Option) *kafkatest.Cluster {
	t.Helper()
	if !v2 {
		opts = append(opts, kafkatest.With(kfake.MaxVersions(kversion.V3_9_0())))
	}
	return kafkatest.New(t, opts...)
}

// mxTxnProducer starts a transactional producer and runs InitTransactions.
func mxTxnProducer(t *testing.T, c *kafkatest.Cluster, txnID string, v2 bool, mod func(*kprod.Config)) *kprod.Producer {
	t.Helper()
	p := mxProducer(t, c.Bootstrap(), func(cfg *kprod.Config) {
		cfg.TransactionalID = txnID
		if mod != nil {
			mod(cfg)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	if err := p.InitTransactions(ctx); err != nil {
		t.Fatalf("InitTransactions: %v", err)
	}
	if got := kprod.TransactionsV2(p); got != v2 {
		t.Fatalf("transactions v2 in use: %v, want %v", got, v2)
	}
	return p
}

// mxCommit begins a transaction, sends values (partition i%parts), waits for them and
// commits; everything must succeed.
func mxCommitTxn(t *testing.T, p *kprod.Producer, tr *mxTracker, parts int32, values ...string) {
	t.Helper()
	if err := p.BeginTransaction(); err != nil {
		t.Fatalf("BeginTransaction: %v", err)
	}
	for i, v := range values {
		tr.send(t, p, int32(i)%parts, v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	if err := p.CommitTransaction(ctx); err != nil {
		t.Fatalf("CommitTransaction: %v", err)
	}
	tr.wait(t, waitLong)
}

// mxFlushWait flushes and waits for every callback. Inside a transaction it stands for
// tr.wait: Flush also wakes the sender, so a record is not left behind by the stall that
// TestMatrixTxnSendNotStalled reproduces, which would otherwise fail unrelated rows.
func mxFlushWait(t *testing.T, p *kprod.Producer, tr *mxTracker) {
	t.Helper()
	if err := p.Flush(mxCtx(t, waitLong)); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	tr.wait(t, waitLong)
}

// mxWantKafkaCode asserts err holds a *kprod.KafkaError with code.
func mxWantKafkaCode(t *testing.T, what string, err error, code int16) {
	t.Helper()
	var ke *kprod.KafkaError
	if !errors.As(err, &ke) {
		t.Errorf("%s: %v (%T); want a *kprod.KafkaError with code %d (%s) in the chain", what, err, mxUnwrapLast(err), code, kerr.ErrorForCode(code))
		return
	}
	if ke.Code != code {
		t.Errorf("%s: KafkaError code %d (%s); want %d (%s)", what, ke.Code, ke.Name, code, kerr.ErrorForCode(code))
	}
}

// mxUnwrapLast returns the innermost error of a single-wrap chain, to name its type.
func mxUnwrapLast(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

// mxWantAbortable asserts err is an *AbortableError (and not a *FatalError).
func mxWantAbortable(t *testing.T, what string, err error) {
	t.Helper()
	var ae *kprod.AbortableError
	var fe *kprod.FatalError
	if !errors.As(err, &ae) || errors.As(err, &fe) {
		t.Errorf("%s: %v (%T); want a *kprod.AbortableError", what, err, err)
	}
}

// mxWantFatal asserts err is a *FatalError.
func mxWantFatal(t *testing.T, what string, err error) {
	t.Helper()
	var fe *kprod.FatalError
	if !errors.As(err, &fe) {
		t.Errorf("%s: %v (%T); want a *kprod.FatalError", what, err, err)
	}
}

// mxCtx returns a context that ends after d (or with the test).
func mxCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestMatrixTxnRetriableProduce: the retriable Produce faults inside a transaction that
// then commits: retried with the same sequence, one copy, order kept, read_committed
// sees every record at its reported offset.
func TestMatrixTxnRetriableProduce(t *testing.T) {
	const parts, n = 2, 40
	for _, tc := range mxRetriableCodes {
		t.Run(tc.name, func(t *testing.T) {
			const topic = "txn-retriable"
			c := kafkatest.New(t, kafkatest.Topic(topic, parts))
			tap := &ftTap{}
			p := mxProducer(t, c.Bootstrap(), func(cfg *kprod.Config) { cfg.TransactionalID = "txn-retriable" }, kprod.WithDialer(tap.dial))
			if err := p.InitTransactions(mxCtx(t, waitLong)); err != nil {
				t.Fatal(err)
			}
			tr := newMXTracker(topic)
			mxCommitTxn(t, p, tr, parts, "warm-0", "warm-1")
			pl := observeProduce(c.Fake(), topic)
			if err := p.BeginTransaction(); err != nil {
				t.Fatal(err)
			}
			const faults = 3
			var h *kfake.FaultHandle
			if tc.err != nil {
				h = c.Fake().Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: tc.err, Count: faults})
			} else {
				tap.dropProduceResponses.Store(faults)
			}
			for i := range n {
				tr.send(t, p, int32(i%parts), fmt.Sprintf("v%03d", i))
				if i%10 == 9 {
					// Spreads the records over several requests, so the faults hit some
					// while others are in flight; every assertion holds however the
					// records are batched.
					time.Sleep(5 * time.Millisecond)
				}
			}
			if err := p.CommitTransaction(mxCtx(t, waitLong)); err != nil {
				t.Fatalf("CommitTransaction: %v", err)
			}
			tr.wait(t, waitLong)
			if h != nil && h.Hits() != faults {
				t.Errorf("%s answered %d times, want %d", tc.name, h.Hits(), faults)
			}
			if h == nil && tap.dropProduceResponses.Load() != 0 {
				t.Errorf("%d responses were not dropped", tap.dropProduceResponses.Load())
			}
			tr.checkCallbacks(t)
			recs := mxExpectLog(t, c.Bootstrap(), topic, true, tr.delivered(), tr.metadata())
			// Sequences of the transaction's epoch (transactions v2 bumps it per transaction).
			w := recs["v000"]
			if w == nil {
				t.Fatal("v000 is not in the log")
			}
			var mine []mxAttempt
			for _, a := range pl.all() {
				if a.pid == w.ProducerID && a.epoch == w.ProducerEpoch {
					mine = append(mine, a)
				}
				if !a.txn {
					t.Errorf("a batch was sent without the transactional attribute")
				}
			}
			txnLog := &mxProduceLog{attempts: mine}
			if resends := txnLog.checkSequences(t, map[int32]int{0: n / parts, 1: n / parts}); resends < faults {
				t.Errorf("%d batches were resent; want at least %d", resends, faults)
			}
			for i := range n {
				if r := recs[fmt.Sprintf("v%03d", i)]; r != nil && (r.ProducerID != w.ProducerID || r.ProducerEpoch != w.ProducerEpoch) {
					t.Errorf("v%03d written as %d/%d, the transaction's first record as %d/%d", i, r.ProducerID, r.ProducerEpoch, w.ProducerID, w.ProducerEpoch)
				}
			}
		})
	}
}

// mxAbortableRow drives a Produce error that dooms the transaction: the refused record's
// callback gets a *DeliveryError holding an *AbortableError with the Kafka code and
// MaybeWritten false; Send then refuses with an *AbortableError; CommitTransaction
// returns an *AbortableError with the code; AbortTransaction succeeds; the producer
// takes a new epoch; the next transaction commits; read_committed sees only the committed
// transactions.
func mxAbortableRow(t *testing.T, v2 bool, code *kerr.Error) {
	const topic, parts = "abortable", 2
	c := mxTxnCluster(t, v2, kafkatest.Topic(topic, parts))
	p := mxTxnProducer(t, c, "abortable", v2, nil)
	fake := c.Fake()
	tr := newMXTracker(topic)
	mxCommitTxn(t, p, tr, parts, "c1-0", "c1-1")

	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	tr.send(t, p, 1, "ok-1") // written, then aborted
	mxFlushWait(t, p, tr)
	h := fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Partitions: []int32{0}, Err: code})
	tr.send(t, p, 0, "doomed-0")
	mxFlushWait(t, p, tr)
	if h.Hits() != 1 {
		t.Fatalf("%s answered %d times, want 1", code.Message, h.Hits())
	}
	derr := tr.errOf("doomed-0")
	mxDeliveryErr(t, "the refused record", derr, code.Code, false)
	mxWantAbortable(t, "the refused record", derr)
	if err := tr.trySend(p, 1, "refused-1"); err == nil {
		t.Error("Send after an abortable error succeeded; want an *AbortableError")
	} else {
		mxWantAbortable(t, "Send after the error", err)
		if kprod.MaybeWritten(err) {
			t.Errorf("MaybeWritten(Send's refusal) = true")
		}
	}
	err := p.CommitTransaction(mxCtx(t, waitLong))
	mxWantAbortable(t, "CommitTransaction", err)
	mxWantKafkaCode(t, "CommitTransaction", err, code.Code)
	if err := p.AbortTransaction(mxCtx(t, waitLong)); err != nil {
		t.Fatalf("AbortTransaction: %v", err)
	}
	mxCommitTxn(t, p, tr, parts, "c3-0", "c3-1")
	tr.checkCallbacks(t, "doomed-0")
	recs := mxExpectLog(t, c.Bootstrap(), topic, true, map[int32][]string{0: {"c1-0", "c3-0"}, 1: {"c1-1", "c3-1"}}, tr.metadata())
	if a, b := recs["c1-0"], recs["c3-0"]; a != nil && b != nil && a.ProducerID == b.ProducerID && b.ProducerEpoch <= a.ProducerEpoch+int16(mxBool(v2)) {
		t.Errorf("after the abort the producer wrote as %d/%d, before as %d/%d; want a new epoch (KIP-360)", b.ProducerID, b.ProducerEpoch, a.ProducerID, a.ProducerEpoch)
	}
	all := mxRead(t, c.Bootstrap(), topic, false, 5)
	for _, r := range all {
		if string(r.Value) == "doomed-0" {
			t.Error("the refused record is in the log")
		}
	}
}

func mxBool(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestMatrixOutOfOrderInTransaction: OUT_OF_ORDER_SEQUENCE_NUMBER on the head batch in a
// transaction is abortable (rule 5); abort; the next transaction commits.
func TestMatrixOutOfOrderInTransaction(t *testing.T) {
	mxAbortableRow(t, true, kerr.OutOfOrderSequenceNumber)
}

// TestMatrixUnknownProducerIDInTransaction: UNKNOWN_PRODUCER_ID in a transaction is
// abortable (rule 6); abort; the next transaction commits under a new epoch.
func TestMatrixUnknownProducerIDInTransaction(t *testing.T) {
	mxAbortableRow(t, true, kerr.UnknownProducerID)
}

// TestMatrixAbortableProduce: INVALID_PRODUCER_EPOCH (KIP-588) and TRANSACTION_ABORTABLE
// (KIP-890) on Produce are abortable (rule 7), on both transaction versions.
func TestMatrixAbortableProduce(t *testing.T) {
	for _, code := range []*kerr.Error{kerr.InvalidProducerEpoch, kerr.TransactionAbortable} {
		for _, v := range mxTxnVersions {
			t.Run(code.Message+"/"+v.name, func(t *testing.T) { mxAbortableRow(t, v.v2, code) })
		}
	}
}

// TestMatrixFatalProduce: PRODUCER_FENCED, TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
// CLUSTER_AUTHORIZATION_FAILED and UNSUPPORTED_VERSION on Produce are fatal (rule 7): the
// refused record fails with a *FatalError holding the code (and ErrProducerFenced when
// fenced), records accepted before the error fail too, not written; every later call
// fails with a *FatalError; Close works.
//
// Which Sends are "before the error" is decided by the test, not by the scheduler: the
// refused request is held at the broker until every Send of the transaction returned.
// A Send that races the answer may legitimately be refused at once (Java's
// KafkaProducer.doSend fails on TransactionManager.maybeFailWithError once the error is
// recorded); this test once did exactly that on a loaded machine ("Send(pending-1):
// fatal transaction error", issue 10). Sends made after the error was observed are
// checked by mxCheckFatalAfter.
func TestMatrixFatalProduce(t *testing.T) {
	for _, code := range []*kerr.Error{kerr.ProducerFenced, kerr.TransactionalIDAuthorizationFailed,
		kerr.ClusterAuthorizationFailed, kerr.UnsupportedVersion} {
		t.Run(code.Message, func(t *testing.T) {
			const topic = "fatal"
			c := kafkatest.New(t, kafkatest.Topic(topic, 2))
			// Linger (an hour) holds small records, so only the fatal error can complete
			// them; a record larger than batch.size followed by another one seals its
			// batch, which goes at once (the one the broker refuses).
			p := mxTxnProducer(t, c, "fatal", true, func(cfg *kprod.Config) {
				cfg.Linger, cfg.BatchSize = time.Hour, 1024
			})
			tr := newMXTracker(topic)
			if err := p.BeginTransaction(); err != nil {
				t.Fatal(err)
			}
			h := c.Fake().Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: code})
			hold := holdProduce(t, c.Fake(), nil)
			big := "big-" + strings.Repeat("x", 1500)
			tr.send(t, p, 0, big)
			tr.send(t, p, 0, "pending-0") // seals big's batch; lingers
			hold.wait(t)                  // big's batch is at the broker, unanswered
			tr.send(t, p, 1, "pending-1") // lingers; accepted, the error is not known yet
			hold.release()                // now the broker refuses big's batch
			tr.wait(t, waitLong)
			if h.Hits() != 1 {
				t.Fatalf("%s answered %d times, want 1", code.Message, h.Hits())
			}
			tr.checkCallbacks(t, big, "pending-0", "pending-1")
			err := tr.errOf(big)
			mxDeliveryErr(t, "the refused record", err, code.Code, false)
			mxWantFatal(t, "the refused record", err)
			if code == kerr.ProducerFenced && !errors.Is(err, kprod.ErrProducerFenced) {
				t.Errorf("the refused record: %v; want ErrProducerFenced in the chain", err)
			}
			for _, v := range []string{"pending-0", "pending-1"} {
				e := tr.errOf(v)
				mxWantFatal(t, v, e)
				if kprod.MaybeWritten(e) {
					t.Errorf("%s was never sent, yet MaybeWritten(%v) = true", v, e)
				}
			}
			mxCheckFatalAfter(t, p, topic, code.Code)
			mxExpectLog(t, c.Bootstrap(), topic, false, nil, nil)
		})
	}
}

// mxCheckFatalAfter asserts that every call on a producer in the fatal state fails with
// a *FatalError (holding code when code != 0), and that Close works.
func mxCheckFatalAfter(t *testing.T, p *kprod.Producer, topic string, code int16) {
	t.Helper()
	calls := map[string]error{
		"Send": p.Send(context.Background(), &kprod.Record{Topic: topic, Value: []byte("late")}, func(kprod.RecordMetadata, error) {
			t.Error("the callback of a refused Send ran")
		}),
		"BeginTransaction":  p.BeginTransaction(),
		"CommitTransaction": p.CommitTransaction(mxCtx(t, waitLong)),
		"AbortTransaction":  p.AbortTransaction(mxCtx(t, waitLong)),
		"SendOffsetsToTransaction": p.SendOffsetsToTransaction(mxCtx(t, waitLong),
			map[kprod.TopicPartition]kprod.OffsetAndMetadata{{Topic: topic}: {Offset: 1}}, kprod.ConsumerGroupMetadata{GroupID: "g"}),
	}
	for name, err := range calls {
		mxWantFatal(t, name+" after the fatal error", err)
		if code != 0 {
			mxWantKafkaCode(t, name+" after the fatal error", err, code)
		}
		if code == kerr.ProducerFenced.Code && !errors.Is(err, kprod.ErrProducerFenced) {
			t.Errorf("%s after PRODUCER_FENCED: %v; want ErrProducerFenced in the chain", name, err)
		}
	}
	start := time.Now()
	if err := p.Close(mxCtx(t, waitLong)); err != nil {
		t.Errorf("Close: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second { // a hang, not a speed check
		t.Errorf("Close took %v", d)
	}
}

// TestMatrixFencedBySecondProducer: a second producer with the same transactional.id
// runs InitTransactions (and a transaction of its own): the first is fenced. Its open
// transaction was aborted by the coordinator. Committing fails with a *FatalError holding
// ErrProducerFenced; a record sent instead fails INVALID_PRODUCER_EPOCH, abortable (rule
// 7, KIP-588), and the abort that follows is refused PRODUCER_FENCED, fatal. Either way
// every later call fails fatally, Close works, and read_committed sees the first
// producer's committed transaction and the second producer's, nothing of the fenced one.
func TestMatrixFencedBySecondProducer(t *testing.T) {
	for _, how := range []string{"commit", "send"} {
		t.Run(how, func(t *testing.T) {
			const topic, txnID = "fenced", "fenced-id"
			c := kafkatest.New(t, kafkatest.Topic(topic, 2))
			p1 := mxTxnProducer(t, c, txnID, true, nil)
			tr := newMXTracker(topic)
			mxCommitTxn(t, p1, tr, 2, "p1-c-0", "p1-c-1")
			if err := p1.BeginTransaction(); err != nil {
				t.Fatal(err)
			}
			tr.send(t, p1, 0, "p1-open-0")
			mxFlushWait(t, p1, tr)

			p2 := mxTxnProducer(t, c, txnID, true, nil)
			tr2 := newMXTracker(topic)
			mxCommitTxn(t, p2, tr2, 2, "p2-c-0")

			switch how {
			case "commit":
				err := p1.CommitTransaction(mxCtx(t, waitLong))
				mxWantFatal(t, "CommitTransaction of the fenced producer", err)
				if !errors.Is(err, kprod.ErrProducerFenced) {
					t.Errorf("CommitTransaction of the fenced producer: %v; want ErrProducerFenced in the chain", err)
				}
			case "send":
				tr.send(t, p1, 1, "p1-late-1")
				mxFlushWait(t, p1, tr)
				err := tr.errOf("p1-late-1")
				mxDeliveryErr(t, "the fenced producer's record", err, kerr.InvalidProducerEpoch.Code, false)
				mxWantAbortable(t, "the fenced producer's record", err)
				aerr := p1.AbortTransaction(mxCtx(t, waitLong))
				mxWantFatal(t, "AbortTransaction of the fenced producer", aerr)
				if !errors.Is(aerr, kprod.ErrProducerFenced) {
					t.Errorf("AbortTransaction of the fenced producer: %v; want ErrProducerFenced in the chain", aerr)
				}
			}
			ferr := p1.Send(context.Background(), &kprod.Record{Topic: topic, Value: []byte("after")}, nil)
			mxWantFatal(t, "Send after fencing", ferr)
			if !errors.Is(ferr, kprod.ErrProducerFenced) {
				t.Errorf("Send after fencing: %v; want ErrProducerFenced in the chain", ferr)
			}
			mxCheckFatalAfter(t, p1, topic, 0)
			md := tr.metadata()
			for v, m := range tr2.metadata() {
				md[v] = m
			}
			mxExpectLog(t, c.Bootstrap(), topic, true, map[int32][]string{0: {"p1-c-0", "p2-c-0"}, 1: {"p1-c-1"}}, md)
		})
	}
}

// mxCount counts requests of one key the cluster receives, letting it answer them.
func mxCount(fake *kfake.Cluster, key kmsg.Key) *atomic.Int32 {
	var n atomic.Int32
	fake.ControlKey(int16(key), func(kmsg.Request) (kmsg.Response, error, bool) {
		n.Add(1)
		return nil, nil, false
	})
	return &n
}

// mxCoordinatorRetriable: NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS and
// CONCURRENT_TRANSACTIONS from the transaction coordinator on one request type are
// retried (the coordinator looked up again after each NOT_COORDINATOR), and the
// transaction commits exactly once.
func mxCoordinatorRetriable(t *testing.T, key kmsg.Key, versions []mxTxnVersion) {
	for _, v := range versions {
		for _, code := range []*kerr.Error{kerr.NotCoordinator, kerr.CoordinatorLoadInProgress, kerr.ConcurrentTransactions} {
			t.Run(code.Message+"/"+v.name, func(t *testing.T) {
				const topic, txnID, faults = "coord", "coord-id", 2
				c := mxTxnCluster(t, v.v2, kafkatest.Brokers(3), kafkatest.Topic(topic, 2))
				fake := c.Fake()
				finds := mxCount(fake, kmsg.FindCoordinator)
				calls := mxCount(fake, key)
				var h *kfake.FaultHandle
				arm := func() {
					h = fake.Fault(kfake.Fault{Keys: []kmsg.Key{key}, TxnID: txnID, Err: code, Count: faults})
				}
				if key == kmsg.InitProducerID {
					arm()
				}
				p := mxProducer(t, c.Bootstrap(), func(cfg *kprod.Config) { cfg.TransactionalID = txnID })
				if err := p.InitTransactions(mxCtx(t, waitLong)); err != nil {
					t.Fatalf("InitTransactions: %v", err)
				}
				if kprod.TransactionsV2(p) != v.v2 {
					t.Fatalf("transactions v2 = %v, want %v", kprod.TransactionsV2(p), v.v2)
				}
				findsBefore := int32(1) // the first lookup, before the refused requests
				if key != kmsg.InitProducerID {
					arm()
					findsBefore = finds.Load()
				}
				tr := newMXTracker(topic)
				mxCommitTxn(t, p, tr, 2, "a-0", "a-1", "b-0", "b-1")
				if h.Hits() != faults {
					t.Errorf("%s answered %d times, want %d", code.Message, h.Hits(), faults)
				}
				if got := calls.Load(); got < faults+1 {
					t.Errorf("%d %s requests; want the %d refused ones and a successful retry", got, kmsg.NameForKey(int16(key)), faults)
				}
				if code == kerr.NotCoordinator && finds.Load() < findsBefore+faults {
					t.Errorf("%d FindCoordinator requests after NOT_COORDINATOR; want the coordinator looked up again after each (%d)",
						finds.Load()-findsBefore, faults)
				}
				tr.checkCallbacks(t)
				mxExpectLog(t, c.Bootstrap(), topic, true, tr.delivered(), tr.metadata())
			})
		}
	}
}

// TestMatrixCoordinatorInitProducerID: retriable coordinator errors on InitProducerId.
func TestMatrixCoordinatorInitProducerID(t *testing.T) {
	mxCoordinatorRetriable(t, kmsg.InitProducerID, mxTxnVersions)
}

// TestMatrixCoordinatorAddPartitions: retriable coordinator errors on AddPartitionsToTxn
// (transactions v1 only: v2 adds partitions with Produce).
func TestMatrixCoordinatorAddPartitions(t *testing.T) {
	mxCoordinatorRetriable(t, kmsg.AddPartitionsToTxn, mxTxnVersions[:1])
}

// TestMatrixCoordinatorEndTxn: retriable coordinator errors on EndTxn.
func TestMatrixCoordinatorEndTxn(t *testing.T) {
	mxCoordinatorRetriable(t, kmsg.EndTxn, mxTxnVersions)
}

// TestMatrixEndTxnTimeout: the caller's ctx ends while the coordinator holds the
// EndTxn(commit) answer. CommitTransaction returns the ctx error (neither abortable nor
// fatal); AbortTransaction in between is refused with ErrInvalidTxnState (a commit never
// turns into an abort, KAFKA-17754); CommitTransaction again finishes the same commit;
// every EndTxn the coordinator saw was a commit; the next transaction commits. The ctx
// is cancelled when the EndTxn reaches the coordinator, which answers only after
// CommitTransaction returned: the outcome is unknown to the producer by construction.
func TestMatrixEndTxnTimeout(t *testing.T) {
	for _, v := range mxTxnVersions {
		t.Run(v.name, func(t *testing.T) {
			const topic, txnID = "endtxn-timeout", "endtxn-timeout"
			c := mxTxnCluster(t, v.v2, kafkatest.Topic(topic, 2))
			p := mxTxnProducer(t, c, txnID, v.v2, nil)
			fake := c.Fake()
			tr := newMXTracker(topic)
			var mu sync.Mutex
			var ends []bool
			var held atomic.Bool
			arrived, answer := make(chan struct{}), make(chan struct{})
			t.Cleanup(func() {
				select {
				case <-answer:
				default:
					close(answer)
				}
			})
			fake.ControlKey(int16(kmsg.EndTxn), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
				mu.Lock()
				ends = append(ends, kreq.(*kmsg.EndTxnRequest).Commit)
				mu.Unlock()
				if held.CompareAndSwap(false, true) {
					close(arrived)
					fake.SleepControl(func() { <-answer })
				}
				return nil, nil, false
			})
			if err := p.BeginTransaction(); err != nil {
				t.Fatal(err)
			}
			tr.send(t, p, 0, "t-0")
			tr.send(t, p, 1, "t-1")
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				select {
				case <-arrived:
				case <-time.After(waitLong):
				}
				cancel()
			}()
			err := p.CommitTransaction(ctx)
			cancel()
			close(answer)
			select {
			case <-arrived:
			default:
				t.Fatalf("CommitTransaction returned before its EndTxn reached the coordinator: %v", err)
			}
			var ae *kprod.AbortableError
			var fe *kprod.FatalError
			switch {
			case !errors.Is(err, context.Canceled):
				t.Fatalf("CommitTransaction with the answer held: %v; want its ctx's error, context.Canceled", err)
			case errors.As(err, &ae) || errors.As(err, &fe):
				t.Errorf("CommitTransaction timing out: %v; the outcome is unknown, neither abortable nor fatal", err)
			}
			if err := p.AbortTransaction(mxCtx(t, waitLong)); !errors.Is(err, kprod.ErrInvalidTxnState) {
				t.Errorf("AbortTransaction after a commit timed out: %v; want ErrInvalidTxnState (never switch commit to abort)", err)
			}
			if err := p.BeginTransaction(); !errors.Is(err, kprod.ErrInvalidTxnState) {
				t.Errorf("BeginTransaction while the commit is unresolved: %v; want ErrInvalidTxnState", err)
			}
			if err := p.CommitTransaction(mxCtx(t, waitLong)); err != nil {
				t.Fatalf("CommitTransaction again: %v", err)
			}
			mxCommitTxn(t, p, tr, 2, "n-0", "n-1")
			mu.Lock()
			for i, commit := range ends {
				if !commit {
					t.Errorf("EndTxn #%d was an abort; every EndTxn must be a commit (%v)", i+1, ends)
				}
			}
			mu.Unlock()
			tr.checkCallbacks(t)
			mxExpectLog(t, c.Bootstrap(), topic, true, map[int32][]string{0: {"t-0", "n-0"}, 1: {"t-1", "n-1"}}, tr.metadata())
		})
	}
}

// TestMatrixTxnSendNotStalled: in a transaction every record is sent as soon as linger
// allows, also the first one to a partition. With transactions v2 the partition is
// registered after the record is appended, so the sender, woken by the append, can look
// before the registration; nothing wakes it again and the record waits for an unrelated
// event (another Send, a Flush, the commit): SendSync blocks until its ctx ends.
func TestMatrixTxnSendNotStalled(t *testing.T) {
	for _, v := range mxTxnVersions {
		t.Run(v.name, func(t *testing.T) {
			const topic, parts, rounds = "stall", 40, 5
			c := mxTxnCluster(t, v.v2, kafkatest.Topic(topic, parts))
			p := mxTxnProducer(t, c, "stall", v.v2, nil)
			md := map[string]kprod.RecordMetadata{}
			want := map[int32][]string{}
			for round := range rounds {
				if err := p.BeginTransaction(); err != nil {
					t.Fatal(err)
				}
				for part := range int32(parts) {
					v := fmt.Sprintf("r%d-%02d", round, part)
					// A stalled record waits for an unrelated event, here none: forever. The
					// bound only has to be far above a round trip on a loaded machine.
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					m, err := p.SendSync(ctx, &kprod.Record{Topic: topic, Partition: kprod.InPartition(part), Value: []byte(v)})
					cancel()
					want[part] = append(want[part], v)
					if err != nil {
						t.Fatalf("transaction %d: the first record to partition %d was not sent within 10s: %v", round, part, err)
					}
					md[v] = m
				}
				if err := p.CommitTransaction(mxCtx(t, waitLong)); err != nil {
					t.Fatalf("CommitTransaction: %v", err)
				}
			}
			mxExpectLog(t, c.Bootstrap(), topic, true, want, md)
		})
	}
}

// mxCommitted reads group's committed offset of topic/partition with OffsetFetch; -1
// when none.
func mxCommitted(t *testing.T, bootstrap []string, group, topic string, partition int32) int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = group
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic = topic
	rt.Partitions = []int32{partition}
	req.Topics = append(req.Topics, rt)
	g := kmsg.NewOffsetFetchRequestGroup()
	g.Group = group
	gt := kmsg.NewOffsetFetchRequestGroupTopic()
	gt.Topic = topic
	gt.Partitions = []int32{partition}
	g.Topics = append(g.Topics, gt)
	req.Groups = append(req.Groups, g)
	resp, err := req.RequestWith(mxCtx(t, waitLong), cl)
	if err != nil {
		t.Fatalf("OffsetFetch: %v", err)
	}
	// A group nothing was committed for yet: Kafka answers offset -1, kfake
	// GROUP_ID_NOT_FOUND.
	if resp.ErrorCode == kerr.GroupIDNotFound.Code {
		return -1
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		t.Fatalf("OffsetFetch: %v", err)
	}
	for _, rg := range resp.Groups {
		if rg.ErrorCode == kerr.GroupIDNotFound.Code {
			return -1
		}
		if err := kerr.ErrorForCode(rg.ErrorCode); err != nil {
			t.Fatalf("OffsetFetch group %s: %v", rg.Group, err)
		}
		for _, t2 := range rg.Topics {
			for _, p := range t2.Partitions {
				if t2.Topic == topic && p.Partition == partition {
					return p.Offset
				}
			}
		}
	}
	for _, t2 := range resp.Topics {
		for _, p := range t2.Partitions {
			if t2.Topic == topic && p.Partition == partition {
				return p.Offset
			}
		}
	}
	return -1
}

// TestMatrixSendOffsets: SendOffsetsToTransaction's offsets are committed if and only if
// the transaction commits (KIP-98, KIP-447), read back with OffsetFetch after a commit,
// an abort and another commit.
func TestMatrixSendOffsets(t *testing.T) {
	for _, v := range mxTxnVersions {
		t.Run(v.name, func(t *testing.T) {
			const topic, in, group = "offsets-out", "offsets-in", "eos-group"
			c := mxTxnCluster(t, v.v2, kafkatest.Topic(topic, 1), kafkatest.Topic(in, 1))
			p := mxTxnProducer(t, c, "offsets", v.v2, nil)
			tr := newMXTracker(topic)
			step := func(name string, offset int64, commit bool) {
				t.Helper()
				if err := p.BeginTransaction(); err != nil {
					t.Fatal(err)
				}
				tr.send(t, p, 0, name)
				err := p.SendOffsetsToTransaction(mxCtx(t, waitLong),
					map[kprod.TopicPartition]kprod.OffsetAndMetadata{{Topic: in, Partition: 0}: {Offset: offset, LeaderEpoch: -1, Metadata: name}},
					kprod.ConsumerGroupMetadata{GroupID: group})
				if err != nil {
					t.Fatalf("SendOffsetsToTransaction: %v", err)
				}
				if commit {
					err = p.CommitTransaction(mxCtx(t, waitLong))
				} else {
					mxFlushWait(t, p, tr) // the record is written, then aborted
					err = p.AbortTransaction(mxCtx(t, waitLong))
				}
				if err != nil {
					t.Fatalf("end of transaction %s: %v", name, err)
				}
				tr.wait(t, waitLong)
			}
			if got := mxCommitted(t, c.Bootstrap(), group, in, 0); got != -1 {
				t.Fatalf("the group starts with offset %d committed", got)
			}
			step("commit-10", 10, true)
			if got := mxCommitted(t, c.Bootstrap(), group, in, 0); got != 10 {
				t.Errorf("after the committed transaction the group's offset is %d, want 10", got)
			}
			step("abort-20", 20, false)
			if got := mxCommitted(t, c.Bootstrap(), group, in, 0); got != 10 {
				t.Errorf("after the aborted transaction the group's offset is %d, want still 10", got)
			}
			step("commit-30", 30, true)
			if got := mxCommitted(t, c.Bootstrap(), group, in, 0); got != 30 {
				t.Errorf("after the second committed transaction the group's offset is %d, want 30", got)
			}
			tr.checkCallbacks(t)
			md := tr.metadata()
			delete(md, "abort-20")
			mxExpectLog(t, c.Bootstrap(), topic, true, map[int32][]string{0: {"commit-10", "commit-30"}}, md)
		})
	}
}
