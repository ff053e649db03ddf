package kprom_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/internal/leakcheck"
	"github.com/kprod-io/kprod/kafkatest"
	"github.com/kprod-io/kprod/plugin/kprom"
)

func newProducer(t testing.TB, c *kafkatest.Cluster, clientID string) *kprod.Producer {
	t.Helper()
	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: c.Bootstrap(), ClientID: clientID})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeProducer(t, p) })
	return p
}

func closeProducer(t testing.TB, p *kprod.Producer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		t.Error(err)
	}
}

// send sends n records to topic and waits until every one is acknowledged.
func send(t testing.TB, p *kprod.Producer, topic string, n int) {
	t.Helper()
	errs := make(chan error, n)
	for i := range n {
		rec := &kprod.Record{Topic: topic, Key: fmt.Appendf(nil, "k%d", i), Value: []byte("value")}
		if err := p.Send(context.Background(), rec, func(_ kprod.RecordMetadata, err error) { errs <- err }); err != nil {
			t.Fatal(err)
		}
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// gather scrapes reg and indexes the series by name and labels:
// `kafka_producer_record_send_total{client_id="billing"}`.
func gather(t *testing.T, reg *prometheus.Registry) map[string]*dto.Metric {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.Metric{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			out[f.GetName()+"{"+strings.Join(labels, ",")+"}"] = m
		}
	}
	return out
}

// TestCollectorScrape: after real sends, a scrape shows the producer's metrics under
// the JMX exporter's names and labels, record-send-total equal to the records sent for
// the producer and its topic, counters as counters and the rest as gauges, one series
// per metric the producer reports.
func TestCollectorScrape(t *testing.T) {
	const n = 120
	c := kafkatest.New(t, kafkatest.Topic("orders", 3))
	p := newProducer(t, c, "billing")
	send(t, p, "orders", n)

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(kprom.NewCollector(p))
	got := gather(t, reg)

	counter := func(series string) float64 {
		t.Helper()
		m, ok := got[series]
		if !ok || m.GetCounter() == nil {
			t.Fatalf("no counter %s", series)
		}
		return m.GetCounter().GetValue()
	}
	gauge := func(series string) float64 {
		t.Helper()
		m, ok := got[series]
		if !ok || m.GetGauge() == nil {
			t.Fatalf("no gauge %s", series)
		}
		return m.GetGauge().GetValue()
	}
	if v := counter(`kafka_producer_record_send_total{client_id="billing"}`); v != n {
		t.Errorf("kafka_producer_record_send_total = %v, want %d", v, n)
	}
	if v := counter(`kafka_producer_topic_record_send_total{client_id="billing",topic="orders"}`); v != n {
		t.Errorf("kafka_producer_topic_record_send_total = %v, want %d", v, n)
	}
	if v := counter(`kafka_producer_record_error_total{client_id="billing"}`); v != 0 {
		t.Errorf("kafka_producer_record_error_total = %v, want 0", v)
	}
	if v := gauge(`kafka_producer_record_send_rate{client_id="billing"}`); v <= 0 {
		t.Errorf("kafka_producer_record_send_rate = %v, want > 0", v)
	}
	if v := gauge(`kafka_producer_buffer_available_bytes{client_id="billing"}`); v != 32<<20 {
		t.Errorf("kafka_producer_buffer_available_bytes = %v, want buffer.memory's 33554432 (nothing buffered)", v)
	}
	if v := gauge(`kafka_producer_node_request_latency_max{client_id="billing",node_id="node-0"}`); v < 0 {
		t.Errorf("kafka_producer_node_request_latency_max = %v", v)
	}
	if len(got) != len(p.Metrics()) {
		t.Errorf("scrape has %d series, the producer %d metrics", len(got), len(p.Metrics()))
	}
}

// TestCollectorTextExposition: the text a Prometheus server reads names the metric, its
// help and type, and the value with Java's labels.
func TestCollectorTextExposition(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Topic("orders", 1))
	p := newProducer(t, c, "billing")
	send(t, p, "orders", 7)

	text, err := testutil.CollectAndFormat(kprom.NewCollector(p), expfmt.TypeTextPlain, "kafka_producer_topic_record_send_total")
	if err != nil {
		t.Fatal(err)
	}
	want := `# HELP kafka_producer_topic_record_send_total The total number of records sent to the topic (each attempt counts).
# TYPE kafka_producer_topic_record_send_total counter
kafka_producer_topic_record_send_total{client_id="billing",topic="orders"} 7
`
	if string(text) != want {
		t.Errorf("exposition:\n%s\nwant:\n%s", text, want)
	}
}

// clients returns the client_id labels of a scrape's kafka_producer_record_send_total.
func clients(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for series, m := range gather(t, reg) {
		if id, ok := strings.CutPrefix(series, "kafka_producer_record_send_total{client_id="); ok {
			out[strings.Trim(id, `"}`)] = m.GetCounter().GetValue()
		}
	}
	return out
}

// TestCollectorRemovedAndClosed: a producer removed, or closed, is no longer in the
// scrape, and nothing of kprod's runs after the producers and the scrape are done.
func TestCollectorRemovedAndClosed(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Topic("orders", 1))
	a, b := newProducer(t, c, "a"), newProducer(t, c, "b")
	send(t, a, "orders", 2)
	send(t, b, "orders", 3)
	col := kprom.NewCollector(a, b)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(col)

	if got := clients(t, reg); len(got) != 2 || got["a"] != 2 || got["b"] != 3 {
		t.Fatalf("scrape of a and b: %v", got)
	}
	col.Remove(b)
	if got := clients(t, reg); len(got) != 1 || got["a"] != 2 {
		t.Fatalf("scrape after Remove(b): %v", got)
	}
	col.Add(b)
	closeProducer(t, b)
	if got := clients(t, reg); len(got) != 1 || got["a"] != 2 {
		t.Fatalf("scrape after b closed: %v", got)
	}
	closeProducer(t, a)
	if got := gather(t, reg); len(got) != 0 {
		t.Fatalf("scrape after both closed has %d series", len(got))
	}
	c.Close()
	leakcheck.NoKprodGoroutines(t)
}

// TestCollectorSameClientID: two producers of one client.id publish the first's series
// only, as Java's JMX registers the first one's MBeans; the scrape does not fail.
func TestCollectorSameClientID(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Topic("orders", 1))
	first, second := newProducer(t, c, "same"), newProducer(t, c, "same")
	send(t, first, "orders", 4)
	send(t, second, "orders", 9)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(kprom.NewCollector(first, second))
	if got := clients(t, reg); len(got) != 1 || got["same"] != 4 {
		t.Fatalf("scrape: %v, want the first producer's 4 records", got)
	}
}

// TestCollectorRegisteredTwice: a second Collector on one registry is refused, since
// it would publish the same series.
func TestCollectorRegisteredTwice(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(kprom.NewCollector())
	if err := reg.Register(kprom.NewCollector()); err == nil {
		t.Fatal("a second Collector registered")
	}
}
