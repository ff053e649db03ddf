package kprod_test

import (
	"context"
	"testing"
	"time"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
)

// TestFullBatchSentBeforeLinger checks that a full batch is sent at once, whatever
// linger.ms says: linger only bounds how long a batch that is not full waits (Java's
// RecordAccumulator.ready). With linger.ms an hour, the records of the first, filled
// batch must be acknowledged while the second batch keeps lingering.
func TestFullBatchSentBeforeLinger(t *testing.T) {
	const topic = "full"
	c := kafkatest.New(t, kafkatest.Topic(topic, 2))
	tap := &ftTap{}
	p := newProducer(t, c.Bootstrap(), func(cfg *kprod.Config) {
		cfg.Linger = time.Hour
		cfg.BatchSize = 1024
	}, kprod.WithDialer(tap.dial))
	ctx := context.Background()
	// Warm up on partition 1 (metadata, connection, producer id), so that nothing else
	// is in flight to wake the sender while partition 0's batch fills.
	if err := p.Send(ctx, &kprod.Record{Topic: topic, Partition: kprod.InPartition(1), Value: []byte("warm")}, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	warm := tap.settledProduces(t)
	acked := make(chan int, 64)
	value := make([]byte, 100)
	for i := range 12 { // about 120 bytes each: the first batch fills at 8 or so
		err := p.Send(ctx, &kprod.Record{Topic: topic, Partition: kprod.InPartition(0), Value: value},
			func(_ kprod.RecordMetadata, err error) {
				if err != nil {
					t.Errorf("record %d: %v", i, err)
				}
				acked <- i
			})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			// The sender has seen the batch and gone back to sleep for linger.ms: only
			// the batch becoming full can wake it in time.
			waitUntil(t, "the sender asleep", func() bool { return parkedIn(parkedSender) })
		}
	}
	select {
	case i := <-acked:
		if i != 0 {
			t.Errorf("record %d acknowledged first, want record 0", i)
		}
	case <-time.After(waitLong):
		t.Fatalf("the full first batch was not sent within %v (linger.ms is an hour)", waitLong)
	}
	// The sender handled the answer and looked at the second batch again before going
	// back to sleep: that batch, not full, must still be waiting.
	waitUntil(t, "the sender asleep", func() bool { return parkedIn(parkedSender) })
	if n := producesStarted(tap) - warm; n != 1 {
		t.Errorf("%d Produce requests for partition 0 before linger.ms; want 1, the full batch (the second one lingers)", n)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := 1 + len(acked); n != 12 {
		t.Errorf("%d of 12 records acknowledged after Flush", n)
	}
}
