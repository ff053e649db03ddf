package kotel_test

import (
	"context"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
	"github.com/kprod-io/kprod/plugin/kotel"
)

// BenchmarkTracedSend measures what tracing adds to a 100-byte record with a text key,
// from Send to its callback: the records are flushed every 4096 inside the timer, so
// completions (where spans end) are counted. "off" has no hook; "sampled" records every
// span with the SDK (no exporter: exporting is the application's cost); "unsampled"
// samples none (the span is not recorded but its context is still injected).
func BenchmarkTracedSend(b *testing.B) {
	for _, bc := range []struct {
		name    string
		sampler sdktrace.Sampler // nil: no hook
	}{{"off", nil}, {"sampled", sdktrace.AlwaysSample()}, {"unsampled", sdktrace.NeverSample()}} {
		b.Run(bc.name, func(b *testing.B) {
			c := kafkatest.New(b, kafkatest.Topic("bench", 1))
			var opts []kprod.Option
			if bc.sampler != nil {
				tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(bc.sampler))
				opts = append(opts, kprod.WithSendHook(kotel.NewTracer(kotel.WithTracerProvider(tp))))
			}
			p, err := kprod.NewProducer(kprod.Config{BootstrapServers: c.Bootstrap(), Linger: time.Hour,
				BatchSize: 1 << 20, MaxRequestSize: 2 << 20, BufferMemory: 256 << 20, Acks: kprod.AcksLeader}, opts...)
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close(context.Background())
			ctx := context.Background()
			rec := &kprod.Record{Topic: "bench", Key: []byte("order-17"), Value: make([]byte, 100)}
			cb := func(kprod.RecordMetadata, error) {}
			if err := p.Send(ctx, rec, cb); err != nil { // metadata, producer id, first batch
				b.Fatal(err)
			}
			if err := p.Flush(ctx); err != nil { // linger is long: SendSync would wait for it
				b.Fatal(err)
			}
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if err := p.Send(ctx, rec, cb); err != nil {
					b.Fatal(err)
				}
				if n++; n%4096 == 0 {
					if err := p.Flush(ctx); err != nil {
						b.Fatal(err)
					}
				}
			}
			if err := p.Flush(ctx); err != nil {
				b.Fatal(err)
			}
		})
	}
}
