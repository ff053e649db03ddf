package kprod_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
)

// TestSendRacingClose checks what Close promises to Sends running while it starts: each
// either is accepted, and then delivered (Close has no deadline) with its callback run
// once before Close returns, or fails with ErrClosed and is not written. Reading the
// topic back with franz-go must find exactly the accepted records. The window this
// guards (a Send past its closed check, not yet appended) is a few hundred nanoseconds;
// TestAppendRacingSetClosing in internal/accumulator pins the barrier that closes it.
func TestSendRacingClose(t *testing.T) {
	const topic = "racing"
	for round := range 4 {
		t.Run(fmt.Sprint("round", round), func(t *testing.T) {
			c := kafkatest.New(t, kafkatest.Topic(topic, 4))
			p, err := kprod.NewProducer(kprod.Config{BootstrapServers: c.Bootstrap(), Linger: time.Millisecond, BatchSize: 2048})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if _, err := p.PartitionsFor(ctx, topic); err != nil {
				t.Fatal(err)
			}
			var (
				mu       sync.Mutex
				accepted = map[string]bool{}
				acked    = map[string]int{}
				sent     atomic.Int64
				wg       sync.WaitGroup
			)
			for g := range 4 {
				wg.Go(func() {
					for i := 0; ; i++ {
						v := fmt.Sprintf("g%d-%d", g, i)
						rec := &kprod.Record{Topic: topic, Value: []byte(v)}
						if g == 3 {
							rec.Partition = kprod.InPartition(int32(i % 4))
						}
						var cb func(kprod.RecordMetadata, error)
						if g != 2 { // goroutine 2 fires and forgets
							cb = func(_ kprod.RecordMetadata, err error) {
								mu.Lock()
								defer mu.Unlock()
								acked[v]++
								if err != nil {
									t.Errorf("record %s: %v; Close without deadline must deliver it", v, err)
								}
							}
						}
						mu.Lock() // before Send: the callback may run before Send returns
						accepted[v] = true
						mu.Unlock()
						if err := p.Send(ctx, rec, cb); err != nil {
							mu.Lock()
							delete(accepted, v)
							mu.Unlock()
							if !errors.Is(err, kprod.ErrClosed) || kprod.MaybeWritten(err) {
								t.Errorf("Send racing Close: %v (MaybeWritten %v); want ErrClosed", err, kprod.MaybeWritten(err))
							}
							return
						}
						sent.Add(1)
					}
				})
			}
			// Close races whatever Sends are running once this many were accepted; the
			// assertions hold for every interleaving.
			waitUntil(t, "records accepted before Close", func() bool { return sent.Load() >= int64(500*(round+1)) })
			if err := p.Close(ctx); err != nil {
				t.Fatalf("Close: %v", err)
			}
			mu.Lock()
			ackedAtClose := maps.Clone(acked)
			mu.Unlock()
			wg.Wait() // every Send has returned: accepted is final
			for v := range accepted {
				if v[1] != '2' && ackedAtClose[v] != 1 {
					t.Errorf("record %s: callback ran %d times by the time Close returned, want once", v, ackedAtClose[v])
				}
			}
			n := len(accepted)

			got := map[string]int{}
			for _, r := range ftReadAll(t, c.Bootstrap(), topic, n) {
				got[string(r.Value)]++
			}
			for v, k := range got {
				if k != 1 || !accepted[v] {
					t.Errorf("record %s read back %d times; accepted by Send: %v", v, k, accepted[v])
				}
			}
			if len(got) != n {
				t.Errorf("read back %d distinct records, %d were accepted", len(got), n)
			}
		})
	}
}
