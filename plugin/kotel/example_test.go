package kotel_test

import (
	"context"
	"fmt"
	"log"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
	"github.com/kprod-io/kprod/plugin/kotel"
)

// Example traces a record: install the Tracer as the producer's send hook, and each
// record gets a span, a child of the span in Send's ctx, and carries the trace context
// in its headers. An application passes its own TracerProvider (or sets the global
// one) exporting to its collector; this one keeps spans in memory to print them.
func Example() {
	cluster, err := kafkatest.Start(kafkatest.Topic("orders", 1))
	if err != nil {
		log.Fatal(err)
	}
	defer cluster.Close()

	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	defer tp.Shutdown(context.Background())

	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: cluster.Bootstrap(), ClientID: "shop"},
		kprod.WithSendHook(kotel.NewTracer(kotel.WithTracerProvider(tp))))
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(context.Background())

	ctx, request := tp.Tracer("shop").Start(context.Background(), "checkout")
	rec := &kprod.Record{Topic: "orders", Key: []byte("order-17"), Value: []byte(`{"total":42}`)}
	if _, err := p.SendSync(ctx, rec); err != nil {
		log.Fatal(err)
	}
	request.End()

	s := spans.GetSpans()[0]
	fmt.Println(s.Name, s.SpanKind, "child of checkout:", s.Parent.SpanID() == request.SpanContext().SpanID())
	for _, kv := range s.Attributes {
		fmt.Printf("  %s=%s\n", kv.Key, kv.Value.Emit())
	}
	// Output:
	// send orders producer child of checkout: true
	//   messaging.system=kafka
	//   messaging.operation.name=send
	//   messaging.operation.type=send
	//   messaging.destination.name=orders
	//   messaging.client.id=shop
	//   messaging.kafka.message.key=order-17
	//   messaging.destination.partition.id=0
	//   messaging.kafka.offset=0
}
