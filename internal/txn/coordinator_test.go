package txn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
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

// TestCoordinatedCutShortSaysWhere: a coordinator call whose ctx ends while a wait
// recorded no error (a dial the broker never completes; a request the coordinator
// never answers) says which wait it cut short and how long the call had run, beside
// "while awaiting InitProducerId": a bare ctx error once left a real-Kafka failure
// unexplained.
func TestCoordinatedCutShortSaysWhere(t *testing.T) {
	t.Run("dial", func(t *testing.T) {
		// A broker that accepts the connection and never answers ApiVersions.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		accepted := make(chan net.Conn, 1)
		go func() {
			if nc, err := ln.Accept(); err == nil {
				accepted <- nc
			}
		}()
		meta := fakeMeta{ln.Addr().String()}
		conns := pool.New(pool.Config{Resolve: meta.BrokerAddr})
		defer conns.Close()
		m := New(Config{TransactionalID: "cut-dial", TransactionTimeout: time.Minute, Meta: meta, Pool: conns})
		defer m.Close()
		err = cutShort(t, m, func() { nc := <-accepted; t.Cleanup(func() { nc.Close() }) })
		want := "connecting to broker 0 (" + meta.addr + ") for FindCoordinator, for "
		if msg := err.Error(); !strings.Contains(msg, want) || !strings.Contains(msg, " into it: ") {
			t.Errorf("Init: %q does not say it was %q", msg, want)
		}
	})
	t.Run("answer", func(t *testing.T) {
		m, cl := newFakeManager(t, "cut-answer")
		held, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		cl.ControlKey(int16(kmsg.InitProducerID), func(kmsg.Request) (kmsg.Response, error, bool) {
			once.Do(func() {
				close(held)
				cl.SleepControl(func() { <-release })
			})
			return nil, nil, false
		})
		defer close(release) // before the cluster closes: kfake can wedge with a control asleep
		err := cutShort(t, m, func() { <-held })
		want := "InitProducerId to the coordinator, broker 0 (" + cl.ListenAddrs()[0] + "), for "
		if msg := err.Error(); !strings.Contains(msg, want) || !strings.Contains(msg, ": written, awaiting the response") {
			t.Errorf("Init: %q does not say it was %q, written", msg, want)
		}
	})
}

// cutShort runs m.Init, cancels its ctx once reached has returned and returns Init's
// error, which must be the caller's ctx's.
func cutShort(t *testing.T, m *Manager, reached func()) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- m.Init(ctx) }()
	reached()
	cancel()
	err := <-errc
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "while awaiting InitProducerId (") {
		t.Fatalf("Init: %v; want the caller's ctx's error", err)
	}
	return err
}
