package kotel_test

import (
	"context"
	"fmt"
	"log"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
	"github.com/kprod-io/kprod/plugin/kotel"
)

// ExampleNewMetrics publishes a producer's metrics to OpenTelemetry: NewMetrics declares
// the instruments on a MeterProvider, Add names the producers to read at each
// collection. An application passes its own MeterProvider (or sets the global one)
// with a periodic reader exporting to its collector; a ManualReader here collects once
// to print the records sent.
func ExampleNewMetrics() {
	cluster, err := kafkatest.Start(kafkatest.Topic("payments", 1))
	if err != nil {
		log.Fatal(err)
	}
	defer cluster.Close()
	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: cluster.Bootstrap(), ClientID: "billing"})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(context.Background())

	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	m, err := kotel.NewMetrics(kotel.WithMeterProvider(mp))
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	m.Add(p)

	for range 3 {
		if _, err := p.SendSync(context.Background(), &kprod.Record{Topic: "payments", Value: []byte("debit")}); err != nil {
			log.Fatal(err)
		}
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		log.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, metric := range sm.Metrics {
			if sum, ok := metric.Data.(metricdata.Sum[float64]); ok && metric.Name == "org.apache.kafka.producer.topic.record.send.total" {
				for _, dp := range sum.DataPoints {
					topic, _ := dp.Attributes.Value("topic")
					fmt.Println(metric.Name, topic.AsString(), dp.Value)
				}
			}
		}
	}
	// Output:
	// org.apache.kafka.producer.topic.record.send.total payments 3
}
