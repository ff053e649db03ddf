package chaos

import (
	"context"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
)

// txnFixture is an embedded cluster with a transactional kprod producer that has one
// record in an open transaction on topic "t", and the run's admin client.
func txnFixture(t *testing.T) (*kafkatest.Cluster, *kprod.Producer, *admin) {
	t.Helper()
	c := kafkatest.New(t, kafkatest.Topic("t", 1))
	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: c.Bootstrap(), TransactionalID: "gate"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeNow(p) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.InitTransactions(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.SendSync(ctx, &kprod.Record{Topic: "t", Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	a, err := newAdmin(c.Bootstrap())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.close)
	return c, p, a
}

// TestWaitTxnComplete: the calm period's gate returns only once the coordinator shows
// the transactional id complete, and gives up at its deadline with an error that names
// the state the coordinator left it in.
func TestWaitTxnComplete(t *testing.T) {
	c, p, a := txnFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// Open: the deadline passes, and the error says where the transaction stands.
	_, err := a.waitTxnComplete(ctx, "gate", 300*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "state Ongoing") || !strings.Contains(err.Error(), "partitions [t/0]") {
		t.Fatalf("waiting on an open transaction: %v; want a timeout naming state Ongoing and partition t/0", err)
	}
	if err := p.CommitTransaction(ctx); err != nil {
		t.Fatal(err)
	}

	// Committed, but the coordinator still writes the markers for the next three looks
	// (kfake finishes at once, so its answer stands in for a broker's): the gate waits.
	var looks atomic.Int32
	c.Fake().ControlKey(int16(kmsg.DescribeTransactions), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		c.Fake().KeepControl()
		if looks.Add(1) > 3 {
			return nil, nil, false
		}
		resp := kreq.ResponseKind().(*kmsg.DescribeTransactionsResponse)
		st := kmsg.NewDescribeTransactionsResponseTransactionState()
		st.TransactionalID, st.State = "gate", "PrepareCommit"
		resp.TransactionStates = append(resp.TransactionStates, st)
		return resp, nil, true
	})
	v, err := a.waitTxnComplete(ctx, "gate", 10*time.Second)
	if err != nil {
		t.Fatalf("waiting on a committed transaction: %v", err)
	}
	if n := looks.Load(); n != 4 {
		t.Errorf("the gate looked %d times; want 4 (three PrepareCommit answers, then complete)", n)
	}
	if !v.complete() {
		t.Errorf("the gate returned with %s", v)
	}
}

// TestTxnWorkerGate: once the calm period set the gate, a transaction begins only after
// it; a gate that fails stops the worker before the transaction, recording why (the
// run reports it as txn_not_complete).
func TestTxnWorkerGate(t *testing.T) {
	_, p, _ := txnFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.CommitTransaction(ctx); err != nil {
		t.Fatal(err)
	}
	led := NewLedger()
	w := &txnWorker{led: led, topic: "t", partitions: 1, rng: newTestRand(), crash: make(chan crashRequest, 1),
		logf: func(string, ...any) {}, closeLog: func(string, time.Duration, time.Duration, error) {}, opTimeout: 10 * time.Second, p: p}
	var gated atomic.Int32
	stuck := "chaos: transactional id gate not complete: state PrepareCommit"
	w.setGate(func(context.Context) error {
		if gated.Add(1) == 1 {
			return nil
		}
		return &gateError{stuck}
	})
	w.run(ctx, ctx)
	if w.firstGated().IsZero() {
		t.Error("firstGated is zero after the gate let a transaction through")
	}
	if gated.Load() != 2 {
		t.Errorf("the gate ran %d times; want 2 (before each transaction)", gated.Load())
	}
	if w.notComplete == nil || w.notComplete.Error() != stuck {
		t.Errorf("worker's notComplete = %v; want the gate's error", w.notComplete)
	}
	if _, txns := led.Snapshot(); len(txns) != 1 || w.stats.Committed+w.stats.Purposeful != 1 {
		t.Errorf("%d transactions began (committed %d, aborted on purpose %d); want exactly 1, the one the gate let through",
			len(txns), w.stats.Committed, w.stats.Purposeful)
	}
}

type gateError struct{ s string }

func (e *gateError) Error() string { return e.s }

func newTestRand() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }
