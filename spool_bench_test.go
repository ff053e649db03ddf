package kprod_test

import (
	"context"
	"testing"
	"time"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
)

// BenchmarkSendSpool measures Send with spool.dir under each sync policy: the append to
// the segment file (write(2), and fsync for always). The feeder and delivery run
// behind it; Flush every 64 Ki records keeps the spool from filling. Compare with
// BenchmarkSend (no spool), whose path the spool leaves unchanged.
func BenchmarkSendSpool(b *testing.B) {
	for _, sync := range []kprod.SpoolSync{kprod.SpoolSyncNone, kprod.SpoolSyncInterval, kprod.SpoolSyncAlways} {
		b.Run("sync="+sync.String(), func(b *testing.B) {
			c := kafkatest.New(b, kafkatest.Topic("bench", 1))
			p, err := kprod.NewProducer(kprod.Config{BootstrapServers: c.Bootstrap(), SpoolDir: b.TempDir(), SpoolSync: sync,
				BatchSize: 1 << 20, MaxRequestSize: 2 << 20, BufferMemory: 256 << 20, Acks: kprod.AcksLeader}, kprod.WithLogger(nil))
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close(context.Background())
			ctx := context.Background()
			rec := &kprod.Record{Topic: "bench", Value: make([]byte, 100)}
			if _, err := p.SendSync(ctx, rec); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(100)
			b.ReportAllocs()
			start := time.Now()
			n := 0
			for b.Loop() {
				if err := p.Send(ctx, rec, nil); err != nil {
					b.Fatal(err)
				}
				if n++; n%(64<<10) == 0 {
					if err := p.Flush(ctx); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "records/s")
		})
	}
	// Concurrent Sends share each fsync of sync=always (group commit).
	b.Run("sync=always-16-senders", func(b *testing.B) {
		c := kafkatest.New(b, kafkatest.Topic("bench", 1))
		p, err := kprod.NewProducer(kprod.Config{BootstrapServers: c.Bootstrap(), SpoolDir: b.TempDir(), SpoolSync: kprod.SpoolSyncAlways,
			Acks: kprod.AcksLeader}, kprod.WithLogger(nil))
		if err != nil {
			b.Fatal(err)
		}
		defer p.Close(context.Background())
		b.SetBytes(100)
		b.ReportAllocs()
		b.SetParallelism(8) // 8 x GOMAXPROCS senders
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			rec := &kprod.Record{Topic: "bench", Value: make([]byte, 100)}
			for pb.Next() {
				if err := p.Send(context.Background(), rec, nil); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "records/s")
	})
}
