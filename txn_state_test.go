package kprod_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
)

// TestTxnWrongStateMessages: a transaction call made in a state that does not allow it
// returns ErrInvalidTxnState, and its message names the state once (issue 10, item 6: an
// Abort after a commit said "invalid transaction state: invalid transaction state:").
func TestTxnWrongStateMessages(t *testing.T) {
	const topic = "states"
	c := kafkatest.New(t, kafkatest.Topic(topic, 1))
	p := mxTxnProducer(t, c, "states", true, nil)
	ctx := mxCtx(t, 5*time.Second)
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.SendSync(ctx, &kprod.Record{Topic: topic, Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	if err := p.CommitTransaction(ctx); err != nil {
		t.Fatal(err)
	}
	offsets := map[kprod.TopicPartition]kprod.OffsetAndMetadata{{Topic: topic}: {Offset: 1}}
	for _, tc := range []struct {
		call string
		err  error
		want string
	}{
		{"AbortTransaction after a commit", p.AbortTransaction(ctx),
			"kprod: invalid transaction state: cannot go from READY to ABORTING_TRANSACTION"},
		{"CommitTransaction after a commit", p.CommitTransaction(ctx),
			"kprod: invalid transaction state: cannot go from READY to COMMITTING_TRANSACTION"},
		{"SendOffsetsToTransaction outside a transaction",
			p.SendOffsetsToTransaction(ctx, offsets, kprod.ConsumerGroupMetadata{GroupID: "g"}),
			"kprod: invalid transaction state: cannot send offsets in state READY"},
		{"Send outside a transaction", p.Send(context.Background(), &kprod.Record{Topic: topic}, nil),
			"kprod: invalid transaction state: cannot send in state READY (call BeginTransaction first)"},
		{"InitTransactions twice", p.InitTransactions(ctx),
			"kprod: invalid transaction state: cannot go from READY to INITIALIZING"},
	} {
		if !errors.Is(tc.err, kprod.ErrInvalidTxnState) {
			t.Errorf("%s: %v; want ErrInvalidTxnState", tc.call, tc.err)
			continue
		}
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("%s: message %q, want %q", tc.call, got, tc.want)
		}
		if n := strings.Count(tc.err.Error(), "invalid transaction state"); n != 1 {
			t.Errorf("%s: %q says %q %d times", tc.call, tc.err, "invalid transaction state", n)
		}
	}
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	err := p.BeginTransaction()
	if want := "kprod: invalid transaction state: cannot go from IN_TRANSACTION to IN_TRANSACTION"; err == nil || err.Error() != want {
		t.Errorf("BeginTransaction twice: %v, want %q", err, want)
	}
}
