package kprod_test

import (
	"context"
	"testing"
	"time"

	"kprod"
	"kprod/kafkatest"
)

// TestFullBatchSentBeforeLinger checks that a full batch is sent at once, whatever
// linger.ms says: linger only bounds how long a batch that is not full waits (Java's
// RecordAccumulator.ready). With linger.ms an hour, the records of the first, filled
// batch must be acknowledged promptly while the second batch keeps lingering.
func TestFullBatchSentBeforeLinger(t *testing.T) {
	const topic = "full"
	c := kafkatest.New(t, kafkatest.Topic(topic, 2))
	p := newProducer(t, c.Bootstrap(), func(cfg *kprod.Config) {
		cfg.Linger = time.Hour
		cfg.BatchSize = 1024
	})
	ctx := context.Background()
	// Warm up on partition 1 (metadata, connection, producer id), so that nothing else
	// is in flight to wake the sender while partition 0's batch fills.
	if err := p.Send(ctx, &kprod.Record{Topic: topic, Partition: kprod.InPartition(1), Value: []byte("warm")}, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
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
			time.Sleep(100 * time.Millisecond) // the sender goes back to sleep for linger.ms
		}
	}
	select {
	case i := <-acked:
		if i != 0 {
			t.Errorf("record %d acknowledged first, want record 0", i)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the full first batch was not sent within 5 s (linger.ms is an hour)")
	}
	time.Sleep(200 * time.Millisecond)
	n := 1 + len(acked)
	if n == 12 {
		t.Errorf("all 12 records acknowledged; the second batch is not full and should still linger")
	}
	t.Logf("%d of 12 records acknowledged before linger.ms", n)
}
