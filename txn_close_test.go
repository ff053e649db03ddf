package kprod_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/internal/testcluster"
	"github.com/kprod-io/kprod/kafkatest"
)

// Close during transactions (issue 10, item 3; the review's S2), as Java's graceful
// close: a transaction call blocked when Close starts continues until it completes or
// Close's ctx ends, then returns ErrClosed; then an open transaction is aborted within
// the ctx. After Close returns, no goroutine, dial or connection of the producer remains.

// txConns counts the connections the producer has open, through its dialer.
type txConns struct {
	open, dialed atomic.Int32
}

func (cc *txConns) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	cc.open.Add(1)
	cc.dialed.Add(1)
	return &txConn{Conn: nc, cc: cc}, nil
}

type txConn struct {
	net.Conn
	cc   *txConns
	once sync.Once
}

func (c *txConn) Close() error {
	c.once.Do(func() { c.cc.open.Add(-1) })
	return c.Conn.Close()
}

// TestTxnCloseDuringCall: Close while a transaction call is blocked on an unresponsive
// coordinator, or one answering a retriable error: the call may continue until Close's
// ctx ends (a short deadline here), then returns ErrClosed; Close waits for its
// coordinator work to stop (and not for max.block.ms), and afterwards no goroutine of the
// producer runs, no connection is open and none is dialed.
func TestTxnCloseDuringCall(t *testing.T) {
	for _, call := range txCalls {
		for _, unresponsive := range []bool{true, false} {
			how := "retriable error"
			if unresponsive {
				how = "unresponsive"
			}
			t.Run(call.name+"/"+how, func(t *testing.T) {
				before := kprodGoroutines()
				conns := &txConns{}
				p, seen := txStarted(t, call, unresponsive, func(cfg *kprod.Config) { cfg.MaxBlock = time.Minute },
					kprod.WithDialer(conns.dial))
				res := make(chan error, 1)
				go func() { res <- call.run(context.Background(), p) }()
				txWait(t, seen, "the call's request")
				if !unresponsive {
					txWait(t, seen, "a retry of the call's request") // it is retrying
				}
				const closeWait = 300 * time.Millisecond
				start := time.Now()
				if err := p.Close(mxCtx(t, closeWait)); err != nil {
					t.Errorf("Close: %v", err)
				}
				if took := time.Since(start); took > 5*time.Second { // vs max.block.ms, 1 min
					t.Errorf("Close took %v", took)
				} else if took < closeWait {
					t.Errorf("Close returned after %v: it interrupted the call before its ctx (%v) ended", took, closeWait)
				}
				// Close waited for the call's coordinator work; what is left of the call is
				// turning the error into the public one, on the caller's goroutine.
				select {
				case err := <-res:
					if !errors.Is(err, kprod.ErrClosed) {
						t.Errorf("%s interrupted by Close: %v; want ErrClosed", call.name, err)
					}
					// A commit interrupted after its EndTxn was sent may have committed.
					if want := call.name == "CommitTransaction"; kprod.MaybeWritten(err) != want {
						t.Errorf("%s interrupted by Close: MaybeWritten(%v) = %v, want %v", call.name, err, !want, want)
					}
				case <-time.After(5 * time.Second):
					t.Errorf("%s still blocked 5 s after Close returned", call.name)
				}
				if n := conns.open.Load(); n != 0 {
					t.Errorf("%d connections open after Close", n)
				}
				dialed := conns.dialed.Load()
				checkNoLeak(t, before)
				if n := conns.open.Load(); n != 0 {
					t.Errorf("%d connections open after Close (and the goroutine check)", n)
				}
				if n := conns.dialed.Load(); n != dialed {
					t.Errorf("%d connections dialed after Close", n-dialed)
				}
				if err := call.run(context.Background(), p); !errors.Is(err, kprod.ErrClosed) {
					t.Errorf("%s after Close: %v; want ErrClosed", call.name, err)
				}
			})
		}
	}
}

// TestTxnCommitClosedAfterEndTxn: Close interrupts a CommitTransaction whose EndTxn reached
// the coordinator and is held there; once released, the coordinator commits. The
// commit's error wraps ErrClosed, yet MaybeWritten must say true: read_committed sees the
// transaction's record. It used to say false (ErrClosed alone means "not written").
func TestTxnCommitClosedAfterEndTxn(t *testing.T) {
	const topic = "commit-closed"
	c := mxTxnCluster(t, true, kafkatest.Topic(topic, 1))
	p := mxTxnProducer(t, c, "commit-closed", true, nil)
	fake := c.Fake()
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.SendSync(mxCtx(t, waitLong), &kprod.Record{Topic: topic, Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	arrived, release := txHold(t, fake, kmsg.EndTxn) // then handled normally: the transaction commits
	res := make(chan error, 1)
	go func() { res <- p.CommitTransaction(context.Background()) }()
	txWait(t, arrived, "EndTxn(commit) at the coordinator")
	expired, cancel := context.WithCancel(context.Background())
	cancel() // interrupt the commit at once
	_ = p.Close(expired)
	err := <-res
	release()
	if !errors.Is(err, kprod.ErrClosed) {
		t.Errorf("CommitTransaction interrupted by Close: %v; want ErrClosed", err)
	}
	recs := mxRead(t, c.Bootstrap(), topic, true, 1)
	if len(recs) != 1 {
		t.Fatalf("read_committed sees %d records; the held EndTxn(commit) should have committed one", len(recs))
	}
	if !kprod.MaybeWritten(err) {
		t.Errorf("MaybeWritten(%v) = false, but the transaction committed its record", err)
	}
}

// txnStates returns a function that asks the coordinator for the state of a
// transactional id (DescribeTransactions, KIP-664) and its producer epoch, over one
// client that the test's cleanup closes.
func txnStates(t *testing.T, bootstrap []string) func(txnID string) (string, int16) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return func(txnID string) (string, int16) {
		t.Helper()
		req := kmsg.NewPtrDescribeTransactionsRequest()
		req.TransactionalIDs = []string{txnID}
		resp, err := req.RequestWith(mxCtx(t, waitLong), cl)
		if err != nil || len(resp.TransactionStates) != 1 || resp.TransactionStates[0].ErrorCode != 0 {
			t.Fatalf("DescribeTransactions(%s): %v %+v", txnID, err, resp)
		}
		st := resp.TransactionStates[0]
		return st.State, st.ProducerEpoch
	}
}

// TestTxnCloseAbortsOpen: Close(Background) with a transaction open, begun or doomed by a
// failed record, aborts it, as Java's Sender does on a graceful close: one EndTxn(abort),
// the coordinator no longer shows it Ongoing, and a read_committed consumer is not held at the
// transaction's first offset: it reads the record another producer commits after it. It
// used to leave the transaction Ongoing until transaction.timeout.ms. With an expired ctx
// Close aborts nothing. Either way no goroutine of the producer is left.
func TestTxnCloseAbortsOpen(t *testing.T) {
	for _, v := range mxTxnVersions {
		for _, how := range []string{"begun", "doomed", "expired ctx"} {
			t.Run(how+"/"+v.name, func(t *testing.T) {
				const topic, txnID = "close-open", "close-open-id"
				c := mxTxnCluster(t, v.v2, kafkatest.Topic(topic, 1))
				fake := c.Fake()
				before := kprodGoroutines()
				p := mxTxnProducer(t, c, txnID, v.v2, nil)
				ends := txWatchEndTxn(fake)
				tr := newMXTracker(topic)
				if err := p.BeginTransaction(); err != nil {
					t.Fatal(err)
				}
				tr.send(t, p, 0, "open-0")
				mxFlushWait(t, p, tr) // written, so the transaction holds the partition
				if how == "doomed" {
					fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.InvalidRecord, Count: 1})
					tr.send(t, p, 0, "doomed-0")
					mxFlushWait(t, p, tr)
					mxWantAbortable(t, "the refused record", tr.errOf("doomed-0"))
				}
				ctx := context.Background()
				if how == "expired ctx" {
					var cancel context.CancelFunc
					ctx, cancel = context.WithCancel(ctx)
					cancel()
				}
				if err := p.Close(ctx); err != nil {
					t.Errorf("Close: %v", err)
				}
				checkNoLeak(t, before)
				state, _ := txnStates(t, c.Bootstrap())(txnID)
				ends.mu.Lock()
				got := ends.ends
				ends.mu.Unlock()
				if how == "expired ctx" {
					if len(got) != 0 || state != "Ongoing" {
						t.Errorf("Close with an expired ctx: EndTxn %v, coordinator state %s; want none, Ongoing", got, state)
					}
					return
				}
				// kfake reports a completed transaction as Empty, Kafka as CompleteAbort.
				if len(got) != 1 || got[0] || (state != "CompleteAbort" && state != "Empty") {
					t.Fatalf("after Close: EndTxn (commit?) %v, coordinator state %s; want one abort, CompleteAbort", got, state)
				}
				next := mxTxnProducer(t, c, "close-next-id", v.v2, nil)
				commitOne(t, next, topic, "next")
				if got := values(mxRead(t, c.Bootstrap(), topic, true, 1)); len(got) != 1 || got[0] != "next" {
					t.Errorf("read_committed: %v; want only the next producer's committed record", got)
				}
			})
		}
	}
}

// TestTxnCloseLetsCommitFinish: Close(Background) while CommitTransaction waits for a slow
// EndTxn lets the commit finish: the call returns nil, Close after it, and read_committed
// sees the transaction's record. It used to interrupt the commit with ErrClosed at once.
func TestTxnCloseLetsCommitFinish(t *testing.T) {
	for _, v := range mxTxnVersions {
		t.Run(v.name, func(t *testing.T) {
			const topic = "close-commit"
			c := mxTxnCluster(t, v.v2, kafkatest.Topic(topic, 1))
			fake := c.Fake()
			before := kprodGoroutines()
			p := mxTxnProducer(t, c, "close-commit-id", v.v2, nil)
			tr := newMXTracker(topic)
			if err := p.BeginTransaction(); err != nil {
				t.Fatal(err)
			}
			tr.send(t, p, 0, "committed-0")
			arrived, release := txHold(t, fake, kmsg.EndTxn)
			committed := make(chan error, 1)
			go func() { committed <- p.CommitTransaction(context.Background()) }()
			txWait(t, arrived, "EndTxn(commit) at the coordinator")
			closed := make(chan error, 1)
			go func() { closed <- p.Close(context.Background()) }()
			waitUntil(t, "Close waits for the commit", func() bool { return parkedIn("github.com/kprod-io/kprod/internal/txn.(*Manager).StopCalls") })
			release()
			if err := <-committed; err != nil {
				t.Errorf("CommitTransaction during Close: %v; want it to finish", err)
			}
			if err := <-closed; err != nil {
				t.Errorf("Close: %v", err)
			}
			checkNoLeak(t, before)
			tr.wait(t, waitLong)
			mxExpectLog(t, c.Bootstrap(), topic, true, map[int32][]string{0: {"committed-0"}}, tr.metadata())
		})
	}
}

// txHold holds the first request of key at the cluster until release is called (or the
// test ends), then lets the cluster handle it normally; arrived is closed when it is held.
func txHold(t *testing.T, fake *kfake.Cluster, key kmsg.Key) (arrived <-chan struct{}, release func()) {
	in, out := make(chan struct{}), make(chan struct{})
	var held atomic.Bool
	fake.ControlKey(int16(key), func(kmsg.Request) (kmsg.Response, error, bool) {
		if held.CompareAndSwap(false, true) { // kfake runs the control again after the sleep
			close(in)
			fake.SleepControl(func() { <-out })
		}
		return nil, nil, false
	})
	var once sync.Once
	release = func() { once.Do(func() { close(out) }) }
	t.Cleanup(release)
	return in, release
}

// TestTxnCloseAbortsOpenReal: on real Kafka (4.x with transactions v2, 3.9 with v1),
// Close(Background) with a transaction open aborts it: the coordinator shows
// CompleteAbort (DescribeTransactions), and a read_committed consumer reads the record
// another producer commits after it, with nothing of the aborted transaction.
func TestTxnCloseAbortsOpenReal(t *testing.T) {
	for _, v := range []string{"4.", "3.9."} {
		t.Run(v[:len(v)-1], func(t *testing.T) {
			c := testcluster.RealVersion(t, 1, v)
			topic := fmt.Sprintf("close-open-%d", time.Now().UnixNano())
			testcluster.CreateTopic(t, rtClient(t, c.Bootstrap), topic, 1, 1, nil)
			txnID := topic + "-id"
			p := newProducer(t, c.Bootstrap, func(cfg *kprod.Config) { cfg.TransactionalID = txnID })
			if err := p.InitTransactions(mxCtx(t, waitLong)); err != nil {
				t.Fatal(err)
			}
			if err := p.BeginTransaction(); err != nil {
				t.Fatal(err)
			}
			if _, err := p.SendSync(mxCtx(t, waitLong), &kprod.Record{Topic: topic, Value: []byte("aborted")}); err != nil {
				t.Fatal(err)
			}
			if err := p.Close(context.Background()); err != nil {
				t.Fatalf("Close: %v", err)
			}
			states := txnStates(t, c.Bootstrap)
			// The coordinator completes the abort once its markers are written.
			waitUntil(t, "the coordinator completes the abort", func() bool {
				s, _ := states(txnID)
				return s == "CompleteAbort"
			})
			next := newProducer(t, c.Bootstrap, func(cfg *kprod.Config) { cfg.TransactionalID = txnID + "-next" })
			if err := next.InitTransactions(mxCtx(t, waitLong)); err != nil {
				t.Fatal(err)
			}
			commitOne(t, next, topic, "next")
			if got := values(mxRead(t, c.Bootstrap, topic, true, 1)); len(got) != 1 || got[0] != "next" {
				t.Errorf("read_committed: %v; want only the next producer's committed record", got)
			}
		})
	}
}
