package kprod

import (
	"sync/atomic"
	"time"

	"github.com/kprod-io/kprod/internal/metrics"
)

// MetricKind says how a metric's value behaves, for exporters.
type MetricKind int8

const (
	// MetricGauge is a value that goes up and down: a windowed rate, average or
	// maximum, or a current level (buffer-available-bytes).
	MetricGauge MetricKind = iota
	// MetricCounter is a cumulative total since the producer started (the -total
	// metrics); it never decreases.
	MetricCounter
)

// String returns "gauge" or "counter".
func (k MetricKind) String() string {
	if k == MetricCounter {
		return "counter"
	}
	return "gauge"
}

// Metric is one of the producer's metrics at the time Metrics was called: Java's
// MetricName (name, group, tags) and its value.
//
// Names and groups are Java's: producer-metrics (tag client-id), producer-topic-metrics
// (tags client-id, topic) and producer-node-metrics (tags client-id, node-id). Windowed
// values (-rate, -avg, -max, -ratio) are computed as Java computes them, over
// metrics.num.samples windows of metrics.sample.window.ms (Config.MetricsNumSamples,
// Config.MetricsSampleWindow); an average or maximum with nothing recorded in the
// windows is NaN, as in Java.
type Metric struct {
	// Name is Java's metric name, e.g. "record-send-rate".
	Name string
	// Group is "producer-metrics", "producer-topic-metrics" or "producer-node-metrics".
	Group string
	// Description says what the value measures.
	Description string
	// Tags are Java's: client-id, plus topic or node-id ("node-1"; a bootstrap
	// address before its id is known is "node--1", "node--2"...).
	Tags map[string]string
	// Kind is MetricCounter for the cumulative -total metrics, MetricGauge otherwise.
	Kind MetricKind
	// Value is the current value.
	Value float64
}

// Metrics returns the current value of every producer metric, like Java's
// KafkaProducer.metrics(), sorted by group, name and tags. Records are accounted per
// batch and per request by the sender, never per record on Send's path. The list grows
// as topics and brokers are first used. See the README for the names produced.
func (p *Producer) Metrics() []Metric {
	vals := p.metrics.Snapshot(time.Now().UnixMilli())
	out := make([]Metric, len(vals))
	for i, v := range vals {
		tags := map[string]string{"client-id": p.set.ClientID}
		if v.Topic != "" {
			tags["topic"] = v.Topic
		}
		if v.Node != "" {
			tags["node-id"] = v.Node
		}
		kind := MetricGauge
		if v.Counter {
			kind = MetricCounter
		}
		out[i] = Metric{Name: v.Name, Group: v.Group, Description: v.Description, Tags: tags, Kind: kind, Value: v.V}
	}
	return out
}

// MetricTemplates returns every metric a producer may report, without a value: its
// name, group, description and kind, and its tags' keys (Tags holds "" for each), like
// Java's ProducerMetrics and SenderMetricsRegistry templates. Metrics reports the
// producer-metrics group at once and the other groups once per topic or broker used;
// an exporter that must declare its instruments before it reads a value
// (OpenTelemetry's) declares these.
func MetricTemplates() []Metric {
	// A registry that saw one batch, one answer and one request of one topic and node
	// reports every name once: the names come from the code that reports them.
	var p Producer
	m := metrics.New(metrics.Config{})
	p.gauges(m, time.Time{}, func(func() float64) func() float64 { return func() float64 { return 0 } })
	m.Lock()
	m.DrainedLocked("t", 1, 1, 0, 1, 1, 0)
	m.Unlock()
	m.Answered(1, 0, 0, 0)
	m.IO(1).Sent([]int64{1}, 0)
	var out []Metric
	for _, v := range m.Snapshot(0) {
		tags := map[string]string{"client-id": ""}
		switch v.Group {
		case metrics.GroupTopic:
			tags["topic"] = ""
		case metrics.GroupNode:
			tags["node-id"] = ""
		}
		kind := MetricGauge
		if v.Counter {
			kind = MetricCounter
		}
		out = append(out, Metric{Name: v.Name, Group: v.Group, Description: v.Description, Tags: tags, Kind: kind})
	}
	return out
}

// newMetrics builds the producer's registry and its gauges, read at each Metrics call.
func (p *Producer) newMetrics() *metrics.Registry {
	m := metrics.New(metrics.Config{Samples: p.set.MetricsNumSamples, WindowMs: p.set.MetricsSampleWindow.Milliseconds()})
	p.gauges(m, time.Now(), func(f func() float64) func() float64 { return f })
	return m
}

// gauges adds the producer-metrics read from the producer's state at each Metrics call;
// wrap gets each reader first (MetricTemplates replaces them, for a Producer that has
// no state).
func (p *Producer) gauges(m *metrics.Registry, started time.Time, wrap func(func() float64) func() float64) {
	m.Gauge("buffer-total-bytes", "The bytes of buffer.memory.", wrap(func() float64 { return float64(p.acc.Budget.Max()) }))
	m.Gauge("buffer-available-bytes", "The bytes of buffer.memory not held by records.", wrap(func() float64 {
		return float64(p.acc.Budget.Max() - p.acc.Budget.Used())
	}))
	m.Gauge("waiting-threads", "The sends blocked waiting for buffer.memory.", wrap(func() float64 { return float64(p.acc.Budget.Waiting()) }))
	m.Gauge("requests-in-flight", "The Produce requests sent and not yet answered.", wrap(func() float64 {
		if p.snd == nil {
			return 0
		}
		return float64(p.snd.InFlightRequests())
	}))
	m.Gauge("metadata-age", "The seconds since metadata was last refreshed (since the producer started, before the first refresh).", wrap(func() float64 {
		last := p.meta.LastSuccess()
		if last.IsZero() {
			last = started
		}
		return time.Since(last).Seconds()
	}))
}

// Closed reports whether Close has returned (for any caller): the producer sends
// nothing more and its metrics, still readable, no longer change. The exporters
// (plugin/kprom, plugin/kotel) stop publishing a closed producer's metrics, as Java's
// JmxReporter unregisters a closed producer's MBeans.
func (p *Producer) Closed() bool {
	select {
	case <-p.closeDone:
		return true
	default:
		return false
	}
}

// timed adds the time since start to a -time-ns-total counter; deferred by the calls
// Java times (flush, the transaction calls).
func (p *Producer) timed(total *atomic.Int64, start time.Time) {
	total.Add(time.Since(start).Nanoseconds())
}

// timedOK is timed for the transaction calls, which Java times only when they succeed:
// it adds the time since start when err is nil, and returns err.
func (p *Producer) timedOK(total *atomic.Int64, start time.Time, err error) error {
	if err == nil {
		p.timed(total, start)
	}
	return err
}
