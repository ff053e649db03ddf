package kotel_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/internal/leakcheck"
	"github.com/kprod-io/kprod/kafkatest"
	"github.com/kprod-io/kprod/plugin/kotel"
)

// point is one collected data point: its instrument's kind and its value.
type point struct {
	kind  string // "counter" (a monotonic cumulative sum) or "gauge"
	value float64
}

// collected reads the reader and indexes the points by instrument name and attributes:
// `org.apache.kafka.producer.record.send.total{client_id=billing}`.
func collected(t *testing.T, r *sdkmetric.ManualReader) map[string]point {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]point{}
	key := func(name string, attrs attribute.Set) string {
		var kv []string
		for _, a := range attrs.ToSlice() {
			kv = append(kv, string(a.Key)+"="+a.Value.Emit())
		}
		return name + "{" + strings.Join(kv, ",") + "}"
	}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != "github.com/kprod-io/kprod/plugin/kotel" {
			t.Errorf("scope %q", sm.Scope.Name)
		}
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[float64]:
				if !d.IsMonotonic || d.Temporality != metricdata.CumulativeTemporality {
					t.Errorf("%s: a sum not monotonic and cumulative", m.Name)
				}
				for _, dp := range d.DataPoints {
					out[key(m.Name, dp.Attributes)] = point{"counter", dp.Value}
				}
			case metricdata.Gauge[float64]:
				for _, dp := range d.DataPoints {
					out[key(m.Name, dp.Attributes)] = point{"gauge", dp.Value}
				}
			default:
				t.Errorf("%s: unexpected data %T", m.Name, m.Data)
			}
		}
	}
	return out
}

// newMetrics returns Metrics reporting into a ManualReader.
func newMetrics(t *testing.T) (*kotel.Metrics, *sdkmetric.ManualReader) {
	t.Helper()
	r := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	t.Cleanup(func() { mp.Shutdown(context.Background()) })
	m, err := kotel.NewMetrics(kotel.WithMeterProvider(mp))
	if err != nil {
		t.Fatal(err)
	}
	return m, r
}

// sendN sends n records to topic and waits until each is acknowledged.
func sendN(t *testing.T, p *kprod.Producer, topic string, n int) {
	t.Helper()
	errs := make(chan error, n)
	for i := range n {
		rec := &kprod.Record{Topic: topic, Key: fmt.Appendf(nil, "k%d", i), Value: []byte("v")}
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

func producerWithID(t *testing.T, c *kafkatest.Cluster, id string) *kprod.Producer {
	t.Helper()
	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: c.Bootstrap(), ClientID: id})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	return p
}

// TestMetricsObserved: after real sends, a collection has the producer's metrics under
// KIP-714's names and attributes: record-send-total, the producer's and its topic's,
// equal to the records sent, as monotonic cumulative sums; the rates, averages and
// levels as gauges; the node metrics under node_id; no NaN.
func TestMetricsObserved(t *testing.T) {
	const n = 90
	c := kafkatest.New(t, kafkatest.Topic("orders", 3))
	p := producerWithID(t, c, "billing")
	sendN(t, p, "orders", n)
	m, r := newMetrics(t)
	m.Add(p)
	got := collected(t, r)

	for series, want := range map[string]point{
		"org.apache.kafka.producer.record.send.total{client_id=billing}":                    {"counter", n},
		"org.apache.kafka.producer.topic.record.send.total{client_id=billing,topic=orders}": {"counter", n},
		"org.apache.kafka.producer.record.error.total{client_id=billing}":                   {"counter", 0},
		"org.apache.kafka.producer.buffer.available.bytes{client_id=billing}":               {"gauge", 32 << 20},
	} {
		if g, ok := got[series]; !ok || g != want {
			t.Errorf("%s = %+v (present %v), want %+v", series, g, ok, want)
		}
	}
	for _, series := range []string{
		"org.apache.kafka.producer.record.send.rate{client_id=billing}",
		"org.apache.kafka.producer.request.latency.max{client_id=billing}",
		"org.apache.kafka.producer.node.request.latency.avg{client_id=billing,node_id=node-0}",
		"org.apache.kafka.producer.node.outgoing.byte.total{client_id=billing,node_id=node-0}",
	} {
		if _, ok := got[series]; !ok {
			t.Errorf("%s missing", series)
		}
	}
	if g := got["org.apache.kafka.producer.record.send.rate{client_id=billing}"]; g.kind != "gauge" || g.value <= 0 {
		t.Errorf("record.send.rate = %+v, want a positive gauge", g)
	}
	if g := got["org.apache.kafka.producer.node.outgoing.byte.total{client_id=billing,node_id=node-0}"]; g.kind != "counter" || g.value <= 0 {
		t.Errorf("node outgoing.byte.total = %+v, want a positive counter", g)
	}
	for series, g := range got {
		if g.value != g.value {
			t.Errorf("%s is NaN", series)
		}
	}
}

// clientIDs returns the client_id and value of each record.send.total point collected.
func clientIDs(t *testing.T, r *sdkmetric.ManualReader) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for series, g := range collected(t, r) {
		if id, ok := strings.CutPrefix(series, "org.apache.kafka.producer.record.send.total{client_id="); ok {
			out[strings.TrimSuffix(id, "}")] = g.value
		}
	}
	return out
}

// TestMetricsRemovedClosedAndClose: a producer removed or closed is no longer observed,
// of two sharing a client.id the first is, Close stops the observing, and nothing of
// kprod's runs afterwards.
func TestMetricsRemovedClosedAndClose(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Topic("orders", 1))
	a, b, twin := producerWithID(t, c, "a"), producerWithID(t, c, "b"), producerWithID(t, c, "a")
	sendN(t, a, "orders", 2)
	sendN(t, b, "orders", 3)
	sendN(t, twin, "orders", 5)
	m, r := newMetrics(t)
	m.Add(a)
	m.Add(b)
	m.Add(twin)
	m.Add(a)

	if got := clientIDs(t, r); len(got) != 2 || got["a"] != 2 || got["b"] != 3 {
		t.Fatalf("collection of a, b and a's twin: %v", got)
	}
	m.Remove(b)
	if got := clientIDs(t, r); len(got) != 1 || got["a"] != 2 {
		t.Fatalf("after Remove(b): %v", got)
	}
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := clientIDs(t, r); len(got) != 1 || got["a"] != 5 {
		t.Fatalf("after a closed: %v, want its twin's 5", got)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if got := collected(t, r); len(got) != 0 {
		t.Fatalf("after Close: %d points", len(got))
	}
	for _, p := range []*kprod.Producer{b, twin} {
		if err := p.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	leakcheck.NoKprodGoroutines(t)
}
