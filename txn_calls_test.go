package kprod_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
)

// How the four blocking transaction calls end while the coordinator does not let them
// finish: max.block.ms (ErrTransactionTimeout, retriable, never context.DeadlineExceeded),
// the caller's ctx (its own error), or Close (ErrClosed at once, and Close waits for the
// call: no goroutine, retry or connection outlives Close). Issue 10, items 1 and 3.

// txCall is one transaction call, blocked by its coordinator: prepare brings the producer
// to the point of the call, the stall makes the coordinator unresponsive to key (or answer
// it a retriable error), run makes the call.
type txCall struct {
	name    string
	key     kmsg.Key
	prepare func(t *testing.T, p *kprod.Producer) // after InitTransactions (none for Init)
	run     func(ctx context.Context, p *kprod.Producer) error
}

const txTopic, txGroup, txTxnID = "calls", "calls-group", "calls-id"

var txCalls = []txCall{
	{"InitTransactions", kmsg.InitProducerID, nil,
		func(ctx context.Context, p *kprod.Producer) error { return p.InitTransactions(ctx) }},
	{"SendOffsetsToTransaction", kmsg.TxnOffsetCommit,
		func(t *testing.T, p *kprod.Producer) { txBeginSend(t, p) },
		func(ctx context.Context, p *kprod.Producer) error {
			return p.SendOffsetsToTransaction(ctx, map[kprod.TopicPartition]kprod.OffsetAndMetadata{
				{Topic: txTopic, Partition: 0}: {Offset: 1, LeaderEpoch: -1}}, kprod.ConsumerGroupMetadata{GroupID: txGroup})
		}},
	{"CommitTransaction", kmsg.EndTxn,
		func(t *testing.T, p *kprod.Producer) { txBeginSend(t, p) },
		func(ctx context.Context, p *kprod.Producer) error { return p.CommitTransaction(ctx) }},
	{"AbortTransaction", kmsg.EndTxn,
		func(t *testing.T, p *kprod.Producer) { txBeginSend(t, p) },
		func(ctx context.Context, p *kprod.Producer) error { return p.AbortTransaction(ctx) }},
}

// txBeginSend begins a transaction and writes one record in it.
func txBeginSend(t *testing.T, p *kprod.Producer) {
	t.Helper()
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.SendSync(mxCtx(t, 5*time.Second), &kprod.Record{Topic: txTopic, Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
}

// txStall makes the cluster leave every request of key unanswered (unresponsive) or
// refuse it with a retriable error, and returns a channel that receives once per request.
func txStall(fake *kfake.Cluster, key kmsg.Key, unresponsive bool) <-chan struct{} {
	seen := make(chan struct{}, 1000)
	fake.ControlKey(int16(key), func(kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		select {
		case seen <- struct{}{}:
		default:
		}
		return nil, nil, unresponsive // handled without an answer: the request hangs
	})
	if !unresponsive {
		code := kerr.CoordinatorLoadInProgress
		if key == kmsg.EndTxn {
			code = kerr.ConcurrentTransactions
		}
		fake.Fault(kfake.Fault{Keys: []kmsg.Key{key}, Err: code, Count: -1})
	}
	return seen
}

// txStarted sets up cluster and producer for call and blocks its coordinator; it returns
// the producer and a channel that receives once per request of the blocked kind.
func txStarted(t *testing.T, call txCall, unresponsive bool, mod func(*kprod.Config), opts ...kprod.Option) (*kprod.Producer, <-chan struct{}) {
	t.Helper()
	c := kafkatest.New(t, kafkatest.Topic(txTopic, 1))
	p := mxProducer(t, c.Bootstrap(), func(cfg *kprod.Config) {
		cfg.TransactionalID = txTxnID
		if mod != nil {
			mod(cfg)
		}
	}, opts...)
	if call.prepare == nil {
		return p, txStall(c.Fake(), call.key, unresponsive)
	}
	if err := p.InitTransactions(mxCtx(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	call.prepare(t, p)
	return p, txStall(c.Fake(), call.key, unresponsive)
}

// txWait waits for one receive on ch, failing the test after 5 s.
func txWait(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s did not happen within 5 s", what)
	}
}

// TestTxnCallTimeouts: a transaction call the coordinator does not let finish ends with
// an error that says which limit ended it. max.block.ms: ErrTransactionTimeout, with
// "max.block.ms (N ms) expired" in the message, retriable, and not
// context.DeadlineExceeded although that was how the limit used to be implemented; the
// caller's deadline: context.DeadlineExceeded and not ErrTransactionTimeout; the caller's
// cancel: context.Canceled.
func TestTxnCallTimeouts(t *testing.T) {
	for _, call := range txCalls {
		for _, limit := range []string{"max.block.ms", "ctx deadline", "ctx cancel"} {
			t.Run(call.name+"/"+limit, func(t *testing.T) {
				const maxBlock = time.Second // also bounds the setup (InitTransactions, a SendSync)
				p, seen := txStarted(t, call, true, func(cfg *kprod.Config) {
					if limit == "max.block.ms" {
						cfg.MaxBlock = maxBlock
					} else {
						cfg.MaxBlock = time.Minute
					}
				})
				ctx := context.Background()
				switch limit {
				case "ctx deadline":
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, 400*time.Millisecond)
					defer cancel()
				case "ctx cancel":
					var cancel context.CancelFunc
					ctx, cancel = context.WithCancel(ctx)
					go func() {
						select { // the call is blocked on its coordinator
						case <-seen:
						case <-time.After(10 * time.Second):
						}
						cancel()
					}()
				}
				start := time.Now()
				err := call.run(ctx, p)
				if took := time.Since(start); took > 5*time.Second {
					t.Errorf("%s returned after %v", call.name, took)
				}
				switch limit {
				case "max.block.ms":
					txWantTimeout(t, call.name, err, maxBlock)
				case "ctx deadline":
					if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, kprod.ErrTransactionTimeout) {
						t.Errorf("%s: %v; want context.DeadlineExceeded (the caller's deadline), not ErrTransactionTimeout", call.name, err)
					}
				case "ctx cancel":
					if !errors.Is(err, context.Canceled) || errors.Is(err, kprod.ErrTransactionTimeout) {
						t.Errorf("%s: %v; want context.Canceled, not ErrTransactionTimeout", call.name, err)
					}
				}
				// The coordinator stays stalled: a graceful Close would try to abort the open
				// transaction until its ctx ends. Close at once.
				now, cancel := context.WithCancel(context.Background())
				cancel()
				p.Close(now)
			})
		}
	}
}

// TestTxnMaxBlockZero: with max.block.ms=0 (MaxBlock: ZeroDuration) the transaction calls
// are bounded by their ctx only, a documented difference from Java: Java's await(0)
// times out at once while its background sender carries on with the request, whereas
// kprod does the work on the caller's goroutine, where timing out at once would never
// let a call complete. On a healthy cluster the calls complete; against an unresponsive
// coordinator the caller's deadline ends the call (context.DeadlineExceeded, not
// ErrTransactionTimeout).
func TestTxnMaxBlockZero(t *testing.T) {
	zero := func(cfg *kprod.Config) { cfg.MaxBlock = kprod.ZeroDuration }
	t.Run("healthy", func(t *testing.T) {
		// Offsets only: a Send would need the topic's metadata, which max.block.ms=0 does
		// not wait for (Send's own rule, as in Java).
		const topic, group = "zero-ok", "zero-group"
		c := mxTxnCluster(t, true, kafkatest.Topic(topic, 1))
		p := mxTxnProducer(t, c, "zero-ok", true, zero) // InitTransactions completes
		gm := kprod.ConsumerGroupMetadata{GroupID: group}
		for _, commit := range []bool{true, false} {
			if err := p.BeginTransaction(); err != nil {
				t.Fatal(err)
			}
			offset := int64(1)
			if !commit {
				offset = 2
			}
			if err := p.SendOffsetsToTransaction(context.Background(), map[kprod.TopicPartition]kprod.OffsetAndMetadata{
				{Topic: topic, Partition: 0}: {Offset: offset, LeaderEpoch: -1}}, gm); err != nil {
				t.Fatalf("SendOffsetsToTransaction: %v", err)
			}
			end := p.AbortTransaction
			if commit {
				end = p.CommitTransaction
			}
			if err := end(context.Background()); err != nil {
				t.Fatalf("ending the transaction (commit %v): %v", commit, err)
			}
		}
		if got := txStableOffset(t, c.Bootstrap(), group, topic, 0); got != 1 {
			t.Errorf("the group's committed offset is %d, want 1 (the committed transaction's)", got)
		}
	})
	t.Run("unresponsive coordinator", func(t *testing.T) {
		p, seen := txStarted(t, txCalls[0], true, zero) // InitTransactions, InitProducerId unanswered
		const deadline = 300 * time.Millisecond
		start := time.Now()
		err := p.InitTransactions(mxCtx(t, deadline))
		took := time.Since(start)
		txWait(t, seen, "InitProducerId")
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, kprod.ErrTransactionTimeout) {
			t.Errorf("InitTransactions: %v; want the caller's context.DeadlineExceeded, not ErrTransactionTimeout", err)
		}
		if took < deadline {
			t.Errorf("InitTransactions returned after %v, before the caller's deadline (%v)", took, deadline)
		}
		now, cancel := context.WithCancel(context.Background())
		cancel()
		p.Close(now)
	})
}
