// Package kprom exports kprod producers' metrics to Prometheus under the names the
// Prometheus JMX exporter gives the Java producer's, so that dashboards and alerts built
// for a Java producer's JMX export read a kprod producer unchanged:
// producer-metrics record-send-rate {client-id=billing} is
// kafka_producer_record_send_rate{client_id="billing"}, producer-topic-metrics
// kafka_producer_topic_..., producer-node-metrics kafka_producer_node_... (the README's
// Metrics section has the table). The rules are the ones the JMX exporter's users run
// for Kafka clients: Strimzi's example
// (packaging/examples/metrics/kafka-connect-metrics.yaml: kafka_$2_$4 for
// kafka.(.+)<type=(.+)-metrics, client-id=(.*)><>(...), kafka_producer_topic_$3 for the
// topic metrics, with lowercaseOutputName) and the JMX exporter's own example_configs/kafka-producer-1-0.yml
// and kafka-client.yml (kafka_producer_record_send_rate, labels client_id and node_id).
// The -total metrics are counters, the rest gauges, as Strimzi's rules type them.
//
// A Collector reads kprod.Producer.Metrics when Prometheus scrapes, so the producer pays
// nothing per record for it. It is its own module so that kprod itself does not depend
// on client_golang.
package kprom
