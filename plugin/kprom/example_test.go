package kprom_test

import (
	"bufio"
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
	"github.com/kprod-io/kprod/plugin/kprom"
)

// Example serves a producer's metrics to Prometheus: register a Collector and serve the
// registry on /metrics. The names are the ones the JMX exporter gives a Java producer,
// so its dashboards work. An application registers on its own registry (or
// prometheus.DefaultRegisterer) and serves it on its own port; here a test server
// stands in for Prometheus' scrape.
func Example() {
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

	reg := prometheus.NewRegistry()
	reg.MustRegister(kprom.NewCollector(p))
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()

	for range 3 {
		if _, err := p.SendSync(context.Background(), &kprod.Record{Topic: "payments", Value: []byte("debit")}); err != nil {
			log.Fatal(err)
		}
	}
	resp, err := http.Get(srv.URL)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	for lines := bufio.NewScanner(resp.Body); lines.Scan(); {
		if strings.HasPrefix(lines.Text(), "kafka_producer_topic_record_send_total") || strings.HasPrefix(lines.Text(), "kafka_producer_record_error_total") {
			fmt.Println(lines.Text())
		}
	}
	// Output:
	// kafka_producer_record_error_total{client_id="billing"} 0
	// kafka_producer_topic_record_send_total{client_id="billing",topic="payments"} 3
}
