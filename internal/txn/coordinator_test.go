package txn

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod/internal/pool"
)

// fakeMeta is the cluster view of a one-broker kfake cluster.
type fakeMeta struct{ addr string }

func (f fakeMeta) AnyBroker() (int32, string, bool) { return 0, f.addr, true }
func (f fakeMeta) BrokerAddr(int32) (string, bool)  { return f.addr, true }
func (f fakeMeta) Refresh()                         {}

// newFakeManager returns a transactional manager talking to a one-broker kfake cluster.
func newFakeManager(t *testing.T, txnID string) (*Manager, *kfake.Cluster) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	meta := fakeMeta{c.ListenAddrs()[0]}
	conns := pool.New(pool.Config{Resolve: meta.BrokerAddr})
	t.Cleanup(conns.Close)
	m := New(Config{TransactionalID: txnID, TransactionTimeout: time.Minute, Meta: meta, Pool: conns,
		RetryBackoff: time.Millisecond, RetryBackoffMax: 10 * time.Millisecond})
	t.Cleanup(m.Close)
	return m, c
}

// TestCoordinatedWrappedCodeError: a handle may return its *CodeError wrapped; the retry
// loop reads the code through errors.As (it used to type-assert the error itself and
// panicked on a wrapped CONCURRENT_TRANSACTIONS).
func TestCoordinatedWrappedCodeError(t *testing.T) {
	m, _ := newFakeManager(t, "wrapped")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	calls := 0
	build := func() kmsg.Request {
		req := kmsg.NewPtrEndTxnRequest()
		req.TransactionalID, req.ProducerID, req.ProducerEpoch = "wrapped", 1, 0
		return req
	}
	handle := func(kmsg.Response) error {
		calls++
		if calls == 1 {
			return fmt.Errorf("kprod: wrapped: %w", &CodeError{Op: "EndTxn", Code: codeConcurrentTransactions})
		}
		return nil
	}
	if err := m.coordinated(ctx, "EndTxn", keyTxn, "wrapped", 4, build, handle); err != nil {
		t.Fatalf("coordinated: %v", err)
	}
	if calls != 2 {
		t.Errorf("%d answers handled, want 2 (the wrapped retriable code retried once)", calls)
	}
}
