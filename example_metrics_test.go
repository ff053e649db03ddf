package kprod_test

import (
	"context"
	"fmt"
	"log"

	"github.com/kprod-io/kprod"
)

// Reading the producer's metrics, Java's names and meaning: here the records sent and
// the topic's share, exactly what a dashboard built on Java's JMX names reads.
func ExampleProducer_Metrics() {
	cluster := startCluster("payments")
	defer cluster.Close()

	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: cluster.Bootstrap(), ClientID: "billing"})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(context.Background())
	for range 10 {
		if err := p.Send(context.Background(), &kprod.Record{Topic: "payments", Value: []byte("debit")}, nil); err != nil {
			log.Fatal(err)
		}
	}
	if err := p.Flush(context.Background()); err != nil {
		log.Fatal(err)
	}
	for _, m := range p.Metrics() {
		if m.Name == "record-send-total" {
			fmt.Printf("%s:%s topic=%q client-id=%s %s: %.0f\n", m.Group, m.Name, m.Tags["topic"], m.Tags["client-id"], m.Kind, m.Value)
		}
	}
	// Output:
	// producer-metrics:record-send-total topic="" client-id=billing counter: 10
	// producer-topic-metrics:record-send-total topic="payments" client-id=billing counter: 10
}
