package kprod_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/internal/testcluster"
	"github.com/kprod-io/kprod/kafkatest"
)

func runTxnCommitAbort(t *testing.T, bootstrap []string, topic string, wantV2 bool) {
	ctx := context.Background()
	p := newProducer(t, bootstrap, func(cfg *kprod.Config) {
		cfg.TransactionalID = "txn-" + topic
	})
	if err := p.Send(ctx, &kprod.Record{Topic: topic, Value: []byte("x")}, nil); !errors.Is(err, kprod.ErrInvalidTxnState) {
		t.Fatalf("send before InitTransactions: %v, want ErrInvalidTxnState", err)
	}
	if err := p.InitTransactions(ctx); err != nil {
		t.Fatal(err)
	}
	if v2 := kprod.TransactionsV2(p); v2 != wantV2 {
		t.Fatalf("transactions v2 (KIP-890) in use: %v, want %v", v2, wantV2)
	}
	if err := p.Send(ctx, &kprod.Record{Topic: topic, Value: []byte("x")}, nil); !errors.Is(err, kprod.ErrInvalidTxnState) {
		t.Fatalf("send outside a transaction: %v, want ErrInvalidTxnState", err)
	}
	send := func(prefix string, n int) {
		for i := range n {
			rec := &kprod.Record{Topic: topic, Partition: kprod.InPartition(int32(i % 3)), Value: fmt.Appendf(nil, "%s-%d", prefix, i)}
			if err := p.Send(ctx, rec, func(_ kprod.RecordMetadata, err error) {
				if err != nil && prefix == "committed" {
					t.Errorf("committed record failed: %v", err)
				}
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for round := range 2 {
		if err := p.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		send("committed", 30)
		if err := p.CommitTransaction(ctx); err != nil {
			t.Fatalf("commit %d: %v", round, err)
		}
		if err := p.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		send("aborted", 20)
		if err := p.Flush(ctx); err != nil { // make sure they reach the log before the abort
			t.Fatal(err)
		}
		if err := p.AbortTransaction(ctx); err != nil {
			t.Fatalf("abort %d: %v", round, err)
		}
	}
	committed := mxRead(t, bootstrap, topic, true, 60)
	parts := map[int32]int{}
	for _, r := range committed {
		if string(r.Value[:9]) != "committed" {
			t.Fatalf("read_committed saw %q from an aborted transaction", r.Value)
		}
		parts[r.Partition]++
	}
	if len(committed) != 60 || len(parts) != 3 {
		t.Fatalf("read_committed: %d records over partitions %v, want 60 over 3", len(committed), parts)
	}
	if all := mxRead(t, bootstrap, topic, false, 100); len(all) != 100 {
		t.Fatalf("read_uncommitted: %d records, want 100 (aborted ones included)", len(all))
	}
}

func TestTransactionsEmbedded(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Brokers(3), kafkatest.Topic("tx", 3))
	runTxnCommitAbort(t, c.Bootstrap(), "tx", true) // kfake offers KIP-890
}

func TestTransactionsReal(t *testing.T) {
	for _, v := range []string{"4.", "3.9."} {
		t.Run(v[:len(v)-1], func(t *testing.T) {
			c := testcluster.RealVersion(t, 1, v)
			topic := fmt.Sprintf("tx-%d", time.Now().UnixNano())
			testcluster.CreateTopic(t, rtClient(t, c.Bootstrap), topic, 3, 1, nil)
			// v2 follows the finalized feature transaction.version >= 2, not the broker's
			// version: the test's 4.x clusters finalize it at 2; 3.9 offers only v1.
			runTxnCommitAbort(t, c.Bootstrap, topic, v == "4.")
		})
	}
}
