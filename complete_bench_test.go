package kprod

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/kprod-io/kprod/internal/accumulator"
	"github.com/kprod-io/kprod/internal/sender"
)

// BenchmarkComplete measures the completion side of the hot path: one acknowledged batch
// of 1,000 records of 100 bytes turned into RecordMetadata and handed to a callback each,
// then released to the accumulator. Batches are built with the timer stopped; ns/op is
// per batch and ns/record per record. Steady state allocates nothing.
func BenchmarkComplete(b *testing.B) {
	const records = 1000
	acc := accumulator.New(accumulator.Config{BatchSize: 1 << 20, BufferMemory: 64 << 20})
	p := &Producer{acc: acc, log: slog.Default()}
	c := &completer{p: p}
	topic := acc.Topic("bench")
	part := topic.Partition(0)
	var acked int
	cb := func(md RecordMetadata, err error) {
		if err == nil && md.Offset >= 0 {
			acked++
		}
	}
	value := make([]byte, 100)
	build := func() *accumulator.Batch {
		deadline := time.Now().Add(time.Second)
		for range records {
			r := accumulator.Rec{Timestamp: 1_700_000_000_000, Value: value, Done: cb}
			if _, ok, err := acc.Append(context.Background(), deadline, topic, accumulator.Target{Partition: 0}, &r); !ok {
				b.Fatalf("append: %v", err)
			}
		}
		h, ok := part.Peek()
		if !ok || !part.Pop(h.Batch) {
			b.Fatal("no batch to complete")
		}
		return h.Batch
	}
	c.complete(build(), sender.Result{BaseOffset: 0, LogAppendTime: -1}) // warm the pools
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		batch := build()
		b.StartTimer()
		c.complete(batch, sender.Result{BaseOffset: 42, LogAppendTime: -1})
	}
	if acked != (b.N+1)*records {
		b.Fatalf("%d callbacks succeeded, want %d", acked, (b.N+1)*records)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*records), "ns/record")
}
