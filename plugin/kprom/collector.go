package kprom

import (
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/internal/metricexport"
)

// Collector is a prometheus.Collector of the metrics of kprod producers: register it
// once (prometheus.MustRegister(kprom.NewCollector(p))) and each scrape reads every
// producer's Metrics. The -total metrics are counters and the rest gauges, as the JMX
// exporter's common Kafka rules type them; an average or maximum with nothing in its
// windows is NaN, as Java reports it.
//
// A producer drops out once closed (kprod.Producer.Closed), as Java's JmxReporter
// unregisters a closed producer's MBeans; Remove drops one earlier. Two producers with
// the same client.id would publish the same series: as in Java, where the second's
// MBeans cannot register, the first added is the one published.
//
// A Collector is safe for concurrent use.
type Collector struct {
	descs map[string]metricDesc // by group ":" name, from kprod.MetricTemplates; read only

	producers metricexport.Producers
}

// metricDesc is one metric's Prometheus description and the Java tags its labels hold,
// in the order of the Desc's label names.
type metricDesc struct {
	desc *prometheus.Desc
	kind prometheus.ValueType
	tags []string
}

// NewCollector returns a Collector of the producers ps; Add adds more later.
func NewCollector(ps ...*kprod.Producer) *Collector {
	c := &Collector{descs: map[string]metricDesc{}}
	for _, t := range kprod.MetricTemplates() {
		tags := make([]string, 0, len(t.Tags))
		for tag := range t.Tags {
			tags = append(tags, tag)
		}
		slices.Sort(tags) // client-id, node-id or topic
		labels := make([]string, len(tags))
		for i, tag := range tags {
			labels[i] = metricexport.PrometheusLabel(tag)
		}
		kind := prometheus.GaugeValue
		if t.Kind == kprod.MetricCounter {
			kind = prometheus.CounterValue
		}
		desc := prometheus.NewDesc(metricexport.Prometheus(t.Group, t.Name), t.Description, labels, nil)
		c.descs[t.Group+":"+t.Name] = metricDesc{desc: desc, kind: kind, tags: tags}
	}
	for _, p := range ps {
		c.Add(p)
	}
	return c
}

// Add starts collecting p's metrics; adding a producer twice adds it once.
func (c *Collector) Add(p *kprod.Producer) { c.producers.Add(p) }

// Remove stops collecting p's metrics: the next scrape no longer shows them.
func (c *Collector) Remove(p *kprod.Producer) { c.producers.Remove(p) }

// Describe sends the description of every metric a producer may report
// (kprod.MetricTemplates), so that the registry checks them against its other
// collectors' when the Collector is registered.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d.desc
	}
}

// Collect sends the current value of every metric of the producers still open, and
// forgets the ones closed since the last scrape.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, ms := range c.producers.Read() {
		c.collect(ch, ms)
	}
}

// collect sends one producer's metrics.
func (c *Collector) collect(ch chan<- prometheus.Metric, ms []kprod.Metric) {
	var values []string
	for _, m := range ms {
		d, ok := c.descs[m.Group+":"+m.Name]
		if !ok {
			continue // not in MetricTemplates: a kprod bug that its tests catch
		}
		values = values[:0]
		for _, tag := range d.tags {
			values = append(values, m.Tags[tag])
		}
		ch <- prometheus.MustNewConstMetric(d.desc, d.kind, m.Value, values...)
	}
}
