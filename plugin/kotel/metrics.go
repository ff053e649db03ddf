package kotel

import (
	"context"
	"math"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/internal/metricexport"
)

// Metrics publishes kprod producers' metrics (kprod.Producer.Metrics) as OpenTelemetry
// asynchronous instruments, read when the MeterProvider's reader collects, so the
// producer pays nothing per record for it.
//
// The names are the ones Java's clients push under KIP-714 (client metrics over OTLP):
// "org.apache.kafka.", the group less "-metrics", the name, '-' turned into '.'
// (producer-metrics record-queue-time-avg is org.apache.kafka.producer.record.queue.time.avg,
// producer-node-metrics request-latency-avg org.apache.kafka.producer.node.request.latency.avg),
// and the tags become attributes with '-' turned into '_' (client_id, topic, node_id).
// Those are the names Kafka itself defines for these metrics in OpenTelemetry, so one
// dashboard reads a Java and a kprod producer alike; the semantic conventions' messaging
// metrics (messaging.client.sent.messages...) have no counterpart for most of Java's.
// client_id stays an attribute, since one process may run several producers.
//
// As KIP-714 maps them, the -total metrics are observable counters (cumulative) and the
// rest observable gauges. An average or maximum with nothing in its windows (Java's NaN)
// is not observed. A closed producer (kprod.Producer.Closed) is no longer observed, and
// of producers sharing a client.id only the first added is, as with Java's JMX.
//
// Metrics is safe for concurrent use.
type Metrics struct {
	inst map[string]metric.Float64Observable // by group ":" name, from kprod.MetricTemplates; read only
	reg  metric.Registration

	producers metricexport.Producers
}

// NewMetrics declares an instrument for every metric a producer may report
// (kprod.MetricTemplates) with the MeterProvider of WithMeterProvider and registers
// the callback that reads the producers added with Add. Close unregisters it.
func NewMetrics(opts ...Option) (*Metrics, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.meter == nil {
		o.meter = otel.GetMeterProvider()
	}
	meter := o.meter.Meter(instrumentationName)
	m := &Metrics{inst: map[string]metric.Float64Observable{}}
	var all []metric.Observable
	for _, t := range kprod.MetricTemplates() {
		name := metricexport.OTel(t.Group, t.Name)
		var inst metric.Float64Observable
		var err error
		if t.Kind == kprod.MetricCounter {
			inst, err = meter.Float64ObservableCounter(name, metric.WithDescription(t.Description))
		} else {
			inst, err = meter.Float64ObservableGauge(name, metric.WithDescription(t.Description))
		}
		if err != nil {
			return nil, err
		}
		m.inst[t.Group+":"+t.Name] = inst
		all = append(all, inst)
	}
	reg, err := meter.RegisterCallback(m.observe, all...)
	if err != nil {
		return nil, err
	}
	m.reg = reg
	return m, nil
}

// Add starts observing p's metrics; adding a producer twice adds it once.
func (m *Metrics) Add(p *kprod.Producer) { m.producers.Add(p) }

// Remove stops observing p's metrics.
func (m *Metrics) Remove(p *kprod.Producer) { m.producers.Remove(p) }

// Close unregisters the callback: no producer is observed any more.
func (m *Metrics) Close() error { return m.reg.Unregister() }

// observe is the callback: it reports every metric of the producers still open.
func (m *Metrics) observe(_ context.Context, o metric.Observer) error {
	for _, ms := range m.producers.Read() {
		for _, v := range ms {
			inst, ok := m.inst[v.Group+":"+v.Name]
			if !ok || math.IsNaN(v.Value) {
				continue
			}
			o.ObserveFloat64(inst, v.Value, metric.WithAttributeSet(attributes(v.Tags)))
		}
	}
	return nil
}

// attributes returns Java's tags as KIP-714's attributes.
func attributes(tags map[string]string) attribute.Set {
	kvs := make([]attribute.KeyValue, 0, len(tags))
	for k, v := range tags {
		kvs = append(kvs, attribute.String(metricexport.OTelAttribute(k), v))
	}
	return attribute.NewSet(kvs...)
}
