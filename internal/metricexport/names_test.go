package metricexport

import "testing"

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
