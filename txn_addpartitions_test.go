package kprod_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
)

// TestTxnAddPartitionsLeftOut: an AddPartitionsToTxn answer that leaves out the partition
// asked for (a broken or hostile coordinator) is asked again only after retry.backoff.ms,
// never in a busy loop (issue 10, item 5). Java leaves such a partition pending; kprod asks
// again with backoff until transaction.timeout.ms ends it.
func TestTxnAddPartitionsLeftOut(t *testing.T) {
	const topic, backoff, requests = "left-out", 100 * time.Millisecond, 4
	c := mxTxnCluster(t, false, kafkatest.Topic(topic, 1))
	p := mxTxnProducer(t, c, "left-out", false, func(cfg *kprod.Config) {
		cfg.RetryBackoff, cfg.RetryBackoffMax = backoff, backoff
	})
	fake := c.Fake()
	seen := make(chan time.Time, 100000)
	fake.ControlKey(int16(kmsg.AddPartitionsToTxn), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		select {
		case seen <- time.Now():
		default:
		}
		return kreq.ResponseKind(), nil, true // no partition in the answer
	})
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := p.Send(context.Background(), &kprod.Record{Topic: topic, Value: []byte("v")}, nil); err != nil {
		t.Fatal(err)
	}
	var first, last time.Time
	for i := range requests {
		select {
		case last = <-seen:
		case <-time.After(5 * time.Second):
			t.Fatalf("%d AddPartitionsToTxn requests in 5 s; want the left-out partition asked for again", i)
		}
		if i == 0 {
			first = last
		}
	}
	// Each retry waits retry.backoff.ms: the requests after the first span at least
	// (requests-1) backoffs (a lower bound only, robust to a slow machine).
	if span, min := last.Sub(first), (requests-1)*backoff*9/10; span < min {
		t.Errorf("%d AddPartitionsToTxn requests within %v; with retry.backoff.ms %v they take at least %v (busy loop?)",
			requests, span, backoff, min)
	}
	// The record can never be sent: close at once rather than wait for its delivery.
	if err := p.Close(mxCtx(t, 100*time.Millisecond)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close: %v", err)
	}
}
