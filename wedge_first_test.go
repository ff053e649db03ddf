package kprod_test

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
)

// TestWedgeFirstBatchPassedOver: KAFKA-15591 on a broker before 4.5. The first batch an
// idempotent producer sends to a partition is refused NOT_LEADER_OR_FOLLOWER (a
// partition still being created) while the next one is in flight behind it; the broker,
// holding no state of the producer on that partition, takes the second batch's sequence
// as the first, so the first batch's retry is refused OUT_OF_ORDER_SEQUENCE_NUMBER: the
// broker expects a sequence past it. Retried "in order" it would be refused until
// delivery.timeout.ms (TestRealPerfPrintMetrics lost a batch of 148 records this way on
// Kafka 4.4); the producer bumps its epoch instead and delivers it, once, after the
// batch that overtook it.
func TestWedgeFirstBatchPassedOver(t *testing.T) {
	c, tap, p, tr := wgFirstTwo(t, "wedge-first", kerr.NotLeaderForPartition)
	if got := tap.count(kerr.OutOfOrderSequenceNumber.Code, false); got < 1 {
		t.Fatal("victim-a's retry was never refused OUT_OF_ORDER_SEQUENCE_NUMBER: the test did not reach its case")
	}
	after := wgSendAfter(t, p, tr)
	tr.wait(t, 15*time.Second)
	tr.checkCallbacks(t)
	mxExpectLog(t, c.Bootstrap(), tr.topic, false, map[int32][]string{
		0: append([]string{"victim-b", "victim-a"}, after...),
		1: {"warm-1"},
	}, tr.metadata())
	wgCheckOutOfOrder(t, tap, 1) // victim-a's first retry, before the epoch bump
}

// TestWedgeFirstBatchFailsStaleAck: on a broker before 4.5, the first batch to a partition
// fails for good, not written (INVALID_RECORD), while the next is in flight behind it. The
// producer gives the failed batch's sequences back (the next batch moves down), but the
// attempt in flight carries its old sequence and the broker, holding no state of the
// producer there, takes it. Counting on from the moved sequence, the batch after would
// repeat the sequence the broker holds and be "acknowledged" as a duplicate without being
// written: a silent loss. The producer bumps its epoch instead; every record but the
// refused one is in the log once.
func TestWedgeFirstBatchFailsStaleAck(t *testing.T) {
	c, _, p, tr := wgFirstTwo(t, "wedge-first-stale", kerr.InvalidRecord)
	if err := tr.errOf("victim-a"); err == nil || kprod.MaybeWritten(err) {
		t.Fatalf("victim-a: %v; want it refused, not written", err)
	}
	if err := tr.errOf("victim-b"); err != nil {
		t.Fatalf("victim-b: %v; want it acknowledged", err)
	}
	// One record, as victim-b: a batch of another size with victim-b's sequence would be
	// refused OUT_OF_ORDER_SEQUENCE_NUMBER rather than taken for a duplicate.
	tr.send(t, p, 0, "next")
	tr.wait(t, 15*time.Second)
	after := wgSendAfter(t, p, tr)
	tr.wait(t, 15*time.Second)
	tr.checkCallbacks(t, "victim-a")
	mxExpectLog(t, c.Bootstrap(), tr.topic, false, map[int32][]string{
		0: append([]string{"victim-b", "next"}, after...),
		1: {"warm-1"},
	}, tr.metadata())
}

// wgFirstTwo runs the start both tests share on a kfake capped at Kafka 4.4 (an uncapped
// one models 4.5, which refuses the overtaking batch instead): the producer learns its
// id on partition 1, then victim-a, the first batch partition 0 sees, is held until
// victim-b's request was written behind it and answered code without being applied;
// victim-b's request passes, and is taken as the producer's first on the partition.
func wgFirstTwo(t *testing.T, topic string, code *kerr.Error) (*kafkatest.Cluster, *wgTap, *kprod.Producer, *mxTracker) {
	t.Helper()
	c := kafkatest.New(t, kafkatest.Topic(topic, 2), kafkatest.With(kfake.MaxVersions(kversion.V4_4_0())))
	tap := newWGTap(topic)
	p := mxProducer(t, c.Bootstrap(), func(cfg *kprod.Config) {
		cfg.DeliveryTimeout, cfg.RequestTimeout = 5*time.Second, 2*time.Second
	}, kprod.WithDialer(tap.dial))
	tr := newMXTracker(topic)
	tr.send(t, p, 1, "warm-1") // the producer id and metadata; partition 0 sees nothing
	tr.wait(t, waitLong)
	tap.count(0, true)
	wgDrain(tap.written)
	held := make(chan struct{})
	sc := runScript(c.Fake(), topic,
		wgStep{wait: func() { close(held); wgWaitTick(tap.written); wgWaitTick(tap.written) }, answer: code})
	tr.send(t, p, 0, "victim-a")
	select {
	case <-held:
	case <-time.After(10 * time.Second):
		t.Fatal("victim-a's request never reached the broker")
	}
	tr.send(t, p, 0, "victim-b")
	tr.wait(t, 15*time.Second)
	sc.off.Store(true)
	if n := sc.n.Load(); n < 1 {
		t.Fatal("the script saw no request of victim-a")
	}
	return c, tap, p, tr
}
