package kprod_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
)

// TestOrderKeptWithOneInFlightWithoutIdempotence: with idempotence off, order per
// partition under retries rests on max.in.flight.requests.per.connection=1 alone (the
// seeds' advice for Kafka < 1.1). Retriable errors are injected on several requests; every
// record must land once, in send order.
func TestOrderKeptWithOneInFlightWithoutIdempotence(t *testing.T) {
	const topic, n = "ordered", 400
	c := kafkatest.New(t, kafkatest.Topic(topic, 1))
	h := c.Fake().Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.NotEnoughReplicas, Count: 5})
	defer h.Remove()
	p := newProducer(t, c.Bootstrap(), func(cfg *kprod.Config) {
		cfg.Idempotence = kprod.ToggleOff
		cfg.MaxInFlight = 1
		cfg.BatchSize = 512 // many small batches, so several wait behind a retried one
		cfg.Linger = time.Millisecond
		cfg.RetryBackoff = 5 * time.Millisecond
	})
	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	ctx := context.Background()
	for i := range n {
		v := fmt.Sprintf("v%04d", i)
		wg.Add(1)
		err := p.Send(ctx, &kprod.Record{Topic: topic, Value: []byte(v)}, func(md kprod.RecordMetadata, err error) {
			defer wg.Done()
			if err != nil {
				t.Errorf("%s: %v", v, err)
				return
			}
			mu.Lock()
			acked = append(acked, v)
			mu.Unlock()
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if hits := h.Hits(); hits == 0 {
		t.Fatal("no fault was injected; the test proves nothing")
	}
	recs := readBack(t, c.Bootstrap(), topic, n)
	if len(recs) != n {
		t.Fatalf("log holds %d records, want %d (duplicates?)", len(recs), n)
	}
	for i, r := range recs {
		if want := fmt.Sprintf("v%04d", i); string(r.Value) != want || acked[i] != want {
			t.Fatalf("position %d: log %q, callback %q, want %q", i, r.Value, acked[i], want)
		}
	}
}
