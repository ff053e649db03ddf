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
	const topic = "wedge-first"
	// An uncapped kfake models Kafka 4.5, which refuses the overtaking batch instead.
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
		// victim-a's request: held until victim-b's request was written behind it, then
		// refused without being applied. victim-b's passes, and is taken as the first.
		wgStep{wait: func() { close(held); wgWaitTick(tap.written); wgWaitTick(tap.written) }, answer: kerr.NotLeaderForPartition},
	)
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
	if got := tap.count(kerr.OutOfOrderSequenceNumber.Code, false); got < 1 {
		t.Fatal("victim-a's retry was never refused OUT_OF_ORDER_SEQUENCE_NUMBER: the test did not reach its case")
	}
	after := wgSendAfter(t, p, tr)
	tr.wait(t, 15*time.Second)
	tr.checkCallbacks(t)
	mxExpectLog(t, c.Bootstrap(), topic, false, map[int32][]string{
		0: append([]string{"victim-b", "victim-a"}, after...),
		1: {"warm-1"},
	}, tr.metadata())
	wgCheckOutOfOrder(t, tap, 1) // victim-a's first retry, before the epoch bump
}
