package metricexport

import (
	"testing"

	"github.com/kprod-io/kprod"
)

func TestNames(t *testing.T) {
	for _, c := range []struct{ group, name, prom, otel string }{
		{"producer-metrics", "record-send-rate", "kafka_producer_record_send_rate", "org.apache.kafka.producer.record.send.rate"},
		{"producer-metrics", "bufferpool-wait-time-ns-total", "kafka_producer_bufferpool_wait_time_ns_total", "org.apache.kafka.producer.bufferpool.wait.time.ns.total"},
		{"producer-topic-metrics", "byte-total", "kafka_producer_topic_byte_total", "org.apache.kafka.producer.topic.byte.total"},
		{"producer-node-metrics", "request-latency-avg", "kafka_producer_node_request_latency_avg", "org.apache.kafka.producer.node.request.latency.avg"},
		{"Producer-Metrics", "a--b.c", "kafka_producer_a_b_c", "org.apache.kafka.producer.a..b.c"},
	} {
		if got := Prometheus(c.group, c.name); got != c.prom {
			t.Errorf("Prometheus(%q, %q) = %q, want %q", c.group, c.name, got, c.prom)
		}
		if got := OTel(c.group, c.name); got != c.otel {
			t.Errorf("OTel(%q, %q) = %q, want %q", c.group, c.name, got, c.otel)
		}
	}
	for tag, want := range map[string]string{"client-id": "client_id", "node-id": "node_id", "topic": "topic"} {
		if got := PrometheusLabel(tag); got != want {
			t.Errorf("PrometheusLabel(%q) = %q", tag, got)
		}
		if got := OTelAttribute(tag); got != want {
			t.Errorf("OTelAttribute(%q) = %q", tag, got)
		}
	}
}

// TestNamesDistinct: no two of the metrics a producer may report share a Prometheus
// or an OpenTelemetry name, so the exporters never publish two metrics as one.
func TestNamesDistinct(t *testing.T) {
	prom, otel := map[string]string{}, map[string]string{}
	for _, m := range kprod.MetricTemplates() {
		java := m.Group + " " + m.Name
		for _, seen := range []struct {
			names map[string]string
			name  string
		}{{prom, Prometheus(m.Group, m.Name)}, {otel, OTel(m.Group, m.Name)}} {
			if other, dup := seen.names[seen.name]; dup {
				t.Errorf("%s and %s are both %s", other, java, seen.name)
			}
			seen.names[seen.name] = java
		}
	}
	if len(prom) < 50 {
		t.Errorf("only %d templates", len(prom))
	}
}
