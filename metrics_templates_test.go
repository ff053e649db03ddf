package kprod_test

import (
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
)

// TestMetricTemplatesMatchMetrics: MetricTemplates lists exactly the metrics a producer
// that used a topic and a broker reports, with the same description, kind and tag
// keys, each once; so an exporter declaring the templates misses none.
func TestMetricTemplatesMatchMetrics(t *testing.T) {
	const topic = "templates"
	c := kafkatest.New(t, kafkatest.Topic(topic, 1))
	p := newProducer(t, c.Bootstrap(), nil)
	sendN(t, p, topic, 10, 10)

	key := func(m kprod.Metric) string { return m.Group + ":" + m.Name }
	templates := map[string]kprod.Metric{}
	for _, m := range kprod.MetricTemplates() {
		if _, dup := templates[key(m)]; dup {
			t.Errorf("template %s listed twice", key(m))
		}
		for k, v := range m.Tags {
			if v != "" {
				t.Errorf("template %s has tag %s=%q; want no value", key(m), k, v)
			}
		}
		templates[key(m)] = m
	}
	seen := map[string]bool{}
	for _, m := range p.Metrics() {
		if m.Tags["node-id"] != "" && m.Tags["node-id"] != "node-0" {
			continue // the bootstrap connection's node--1: the same names again
		}
		tm, ok := templates[key(m)]
		switch {
		case !ok:
			t.Errorf("metric %s has no template", key(m))
		case tm.Description != m.Description || tm.Kind != m.Kind:
			t.Errorf("template %s = %q %v, metric %q %v", key(m), tm.Description, tm.Kind, m.Description, m.Kind)
		case !slices.Equal(slices.Sorted(maps.Keys(tm.Tags)), slices.Sorted(maps.Keys(m.Tags))):
			t.Errorf("template %s tags %v, metric's %v", key(m), tm.Tags, m.Tags)
		}
		seen[key(m)] = true
	}
	for k := range templates {
		if !seen[k] {
			t.Errorf("template %s is not reported by a producer that sent", k)
		}
	}
}

// TestClosed: Closed is false until Close returns, true after.
func TestClosed(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Topic("closed", 1))
	p := newProducer(t, c.Bootstrap(), nil)
	if p.Closed() {
		t.Fatal("Closed before Close")
	}
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !p.Closed() {
		t.Fatal("not Closed after Close")
	}
}
