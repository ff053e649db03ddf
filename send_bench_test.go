package kprod_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
)

// BenchmarkSend measures Send alone, the caller's side of the hot path: partitioning,
// the record clock, encoding into a recycled batch buffer and buffer accounting. Linger
// is long and batches large (1 MiB), so only full batches are sent while the timer
// runs, by the sender on another P; every 64 Ki records the timer stops and Flush hands
// the rest to the embedded cluster. The completions' cost is not here: bench/ measures
// whole runs against a sink.
// Run with -benchmem: steady state allocates nothing per record. Compare at the default
// -cpu: with -cpu 1 the embedded cluster shares the one P, and a Send held while every
// in-flight slot is taken (internal/sender/pace.go) waits for the cluster to answer, so
// the figure includes the cluster's work (1 KiB: 334 ns before the pacer, 1420 after).
func BenchmarkSend(b *testing.B) {
	for _, size := range []int{100, 1024} {
		b.Run(fmt.Sprintf("value=%d", size), func(b *testing.B) {
			c := kafkatest.New(b, kafkatest.Topic("bench", 1))
			p, err := kprod.NewProducer(kprod.Config{BootstrapServers: c.Bootstrap(), Linger: time.Hour,
				BatchSize: 1 << 20, MaxRequestSize: 2 << 20, BufferMemory: 256 << 20, Acks: kprod.AcksLeader})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close(context.Background())
			ctx := context.Background()
			rec := &kprod.Record{Topic: "bench", Value: make([]byte, size)}
			cb := func(kprod.RecordMetadata, error) {}
			if err := p.Send(ctx, rec, cb); err != nil { // metadata, producer id, first batch
				b.Fatal(err)
			}
			if err := p.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if err := p.Send(ctx, rec, cb); err != nil {
					b.Fatal(err)
				}
				if n++; n%(64<<10) == 0 {
					b.StopTimer()
					if err := p.Flush(ctx); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
			}
		})
	}
}
