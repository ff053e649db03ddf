// Package metricexport is what the exporter plugins (plugin/kprom, plugin/kotel: their
// own modules) share: the mapping of Java's producer metric names (group, name and tags,
// as kprod.Metric carries them) to the names they publish, so that the plugins and the
// README's table agree on one mapping, and the set of producers an exporter reads.
package metricexport

import "strings"

// Prometheus returns the Prometheus name of the metric name of group, the name the
// Prometheus JMX exporter gives the Java producer's MBean
// kafka.producer:type=<group>,client-id=...: "kafka_", the group less its "-metrics"
// suffix, "_", the name; then every character a Prometheus name cannot hold becomes
// '_' and runs of '_' collapse, as the JMX exporter's safeName does. So
// producer-metrics record-send-rate is kafka_producer_record_send_rate,
// producer-topic-metrics byte-total kafka_producer_topic_byte_total and
// producer-node-metrics request-latency-avg kafka_producer_node_request_latency_avg.
//
// The rules are the common Kafka client rules of the JMX exporter's users: Strimzi's
// example (packaging/examples/metrics/kafka-connect-metrics.yaml: the pattern
// kafka.(.+)<type=(.+)-metrics, client-id=(.*)><>(...) named kafka_$2_$4,
// producer-topic-metrics kafka_producer_topic_$3, the node metrics kafka_$2_$5, with
// lowercaseOutputName) and the JMX exporter's own example_configs/kafka-producer-1-0.yml
// (kafka_producer_record_send_rate, kafka_producer_batch_size_avg). Dashboards built on
// those read kprod's export unchanged.
func Prometheus(group, name string) string {
	return sanitize("kafka_" + strings.TrimSuffix(strings.ToLower(group), "-metrics") + "_" + name)
}

// PrometheusLabel returns the Prometheus label name of a Java tag: client-id is
// client_id, node-id node_id, topic topic, as the JMX exporter's
// example_configs/kafka-client.yml labels them.
func PrometheusLabel(tag string) string { return sanitize(tag) }

// sanitize lower-cases s (lowercaseOutputName), turns each character outside
// [a-z0-9_:] into '_' and collapses runs of '_'.
func sanitize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	under := false
	for _, c := range strings.ToLower(s) {
		ok := c == ':' || c == '_' || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
		if !ok {
			c = '_'
		}
		if c == '_' && under {
			continue
		}
		under = c == '_'
		b.WriteRune(c)
	}
	return b.String()
}

// OTelPrefix is the prefix of every OpenTelemetry name, KIP-714's for Kafka's clients.
const OTelPrefix = "org.apache.kafka."

// OTel returns the OpenTelemetry name of the metric name of group, the name Java's
// own clients give it when they push their metrics over OTLP (KIP-714,
// TelemetryMetricNamingConvention): "org.apache.kafka.", the group less "-metrics",
// ".", the name, lower case with '-' turned into '.'. So producer-metrics
// record-queue-time-avg is org.apache.kafka.producer.record.queue.time.avg and
// producer-node-metrics request-latency-avg is
// org.apache.kafka.producer.node.request.latency.avg.
func OTel(group, name string) string {
	dots := func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "-", ".") }
	return OTelPrefix + strings.TrimSuffix(dots(group), ".metrics") + "." + dots(name)
}

// OTelAttribute returns the OpenTelemetry attribute key of a Java tag, KIP-714's:
// lower case with '-' turned into '_' (client_id, node_id, topic).
func OTelAttribute(tag string) string {
	return strings.ReplaceAll(strings.ToLower(tag), "-", "_")
}
