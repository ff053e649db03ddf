package kprom_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kprod-io/kprod/kafkatest"
	"github.com/kprod-io/kprod/plugin/kprom"
)

// BenchmarkGather is one scrape of a producer that used a topic on one broker: the
// whole cost of the export, paid per scrape and never per record.
func BenchmarkGather(b *testing.B) {
	c := kafkatest.New(b, kafkatest.Topic("orders", 3))
	p := newProducer(b, c, "billing")
	send(b, p, "orders", 100)
	reg := prometheus.NewRegistry()
	reg.MustRegister(kprom.NewCollector(p))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}
