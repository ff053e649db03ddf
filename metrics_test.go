package kprod_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
)

// metricIndex finds metrics by "group:name" plus the topic or node-id tag ("" for
// producer-metrics).
type metricIndex map[string]kprod.Metric

func indexMetrics(ms []kprod.Metric) metricIndex {
	ix := metricIndex{}
	for _, m := range ms {
		ix[m.Group+":"+m.Name+":"+m.Tags["topic"]+m.Tags["node-id"]] = m
	}
	return ix
}

func (ix metricIndex) get(t *testing.T, group, name, tag string) float64 {
	t.Helper()
	m, ok := ix[group+":"+name+":"+tag]
	if !ok {
		t.Fatalf("metric %s %s {%s} missing", group, name, tag)
	}
	return m.Value
}

// sendN sends n records of size bytes to topic and waits for all of them.
func sendN(t *testing.T, p *kprod.Producer, topic string, n, size int) {
	t.Helper()
	ctx := context.Background()
	errs := make(chan error, n)
	val := make([]byte, size)
	for i := range n {
		if err := p.Send(ctx, &kprod.Record{Topic: topic, Key: []byte(fmt.Sprint(i)), Value: val}, func(_ kprod.RecordMetadata, err error) { errs <- err }); err != nil {
			t.Fatal(err)
		}
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestMetricsEmbedded: after a run, the producer's metrics say what happened, with
// Java's names: every record sent is counted once in record-send-total (the producer's
// and its topic's), the bytes of the batches agree between the topic and the batch
// sizes, every Produce request has an answer and a latency, and the brokers' traffic
// shows under their node-id.
func TestMetricsEmbedded(t *testing.T) {
	const topic, n = "metrics", 2000
	c := kafkatest.New(t, kafkatest.Brokers(2), kafkatest.Topic(topic, 4))
	p := newProducer(t, c.Bootstrap(), nil)
	sendN(t, p, topic, n, 100)
	ix := indexMetrics(p.Metrics())
	P, T, N := "producer-metrics", "producer-topic-metrics", "producer-node-metrics"

	if got := ix.get(t, P, "record-send-total", ""); got != n {
		t.Errorf("record-send-total = %v; want %d", got, n)
	}
	if got := ix.get(t, T, "record-send-total", topic); got != n {
		t.Errorf("topic record-send-total = %v; want %d", got, n)
	}
	for _, name := range []string{"record-error-total", "record-retry-total", "batch-split-total", "buffer-exhausted-total"} {
		if got := ix.get(t, P, name, ""); got != 0 {
			t.Errorf("%s = %v; want 0", name, got)
		}
	}
	// Java's Rate: total over at least (samples-1) full windows of 30 s.
	if got, max := ix.get(t, P, "record-send-rate", ""), float64(n)/30; got <= 0 || got > max {
		t.Errorf("record-send-rate = %v; want in (0, %v]", got, max)
	}
	reqs := ix.get(t, P, "records-per-request-avg", "")
	if reqs <= 0 || reqs > n {
		t.Errorf("records-per-request-avg = %v", reqs)
	}
	bytes := ix.get(t, T, "byte-total", topic)
	if bytes < n*100 {
		t.Errorf("topic byte-total = %v; want at least the %d value bytes", bytes, n*100)
	}
	if avg, mx := ix.get(t, P, "batch-size-avg", ""), ix.get(t, P, "batch-size-max", ""); avg <= 0 || mx < avg || mx > 16384 {
		t.Errorf("batch-size-avg = %v, max = %v", avg, mx)
	}
	// Java's record-size is the upper bound of a record with its batch header: 61 + 21
	// (record overhead at its widest) + the largest key ("1999") and the value with their
	// zigzag length varints (100 takes 2 bytes) + the header count.
	if mx := ix.get(t, P, "record-size-max", ""); mx != 61+21+1+4+2+100+1 {
		t.Errorf("record-size-max = %v", mx)
	}
	if got := ix.get(t, P, "compression-rate-avg", ""); got != 1 {
		t.Errorf("compression-rate-avg = %v; want 1 uncompressed", got)
	}
	if got := ix.get(t, P, "request-latency-avg", ""); math.IsNaN(got) || got < 0 {
		t.Errorf("request-latency-avg = %v", got)
	}
	if got := ix.get(t, P, "record-queue-time-max", ""); math.IsNaN(got) || got < 0 {
		t.Errorf("record-queue-time-max = %v", got)
	}
	out, in := ix.get(t, P, "outgoing-byte-total", ""), ix.get(t, P, "incoming-byte-total", "")
	if out < bytes || in <= 0 {
		t.Errorf("outgoing-byte-total = %v (batches %v), incoming-byte-total = %v", out, bytes, in)
	}
	if r, s := ix.get(t, P, "request-total", ""), ix.get(t, P, "response-total", ""); r <= 0 || s != r {
		t.Errorf("request-total = %v, response-total = %v; want equal and positive after a flush", r, s)
	}
	if got := ix.get(t, P, "buffer-total-bytes", ""); got != 32<<20 {
		t.Errorf("buffer-total-bytes = %v", got)
	}
	if got := ix.get(t, P, "connection-count", ""); got < 1 {
		t.Errorf("connection-count = %v", got)
	}
	// Node metrics add up to the producer's: every request went to a node.
	var nodeOut float64
	nodes := 0
	for _, m := range p.Metrics() {
		if m.Group == N && m.Name == "outgoing-byte-total" {
			nodeOut += m.Value
			nodes++
			if m.Tags["client-id"] == "" || m.Kind != kprod.MetricCounter {
				t.Errorf("node metric %+v: want a client-id tag and a counter", m)
			}
		}
	}
	if nodes < 2 || nodeOut != out {
		t.Errorf("%d nodes sent %v bytes; the producer counted %v", nodes, nodeOut, out)
	}
}

// TestMetricsRetriesAndErrors: a retried batch counts in record-retry-total and, as in
// Java, again in record-send-total; a batch failing for good counts in
// record-error-total.
func TestMetricsRetriesAndErrors(t *testing.T) {
	const topic = "metrics-faults"
	c := kafkatest.New(t, kafkatest.Topic(topic, 1))
	p := newProducer(t, c.Bootstrap(), nil)
	ctx := context.Background()
	h := c.Fake().Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.NotLeaderForPartition})
	if _, err := p.SendSync(ctx, &kprod.Record{Topic: topic, Value: []byte("retried")}); err != nil {
		t.Fatal(err)
	}
	if h.Hits() != 1 {
		t.Fatalf("fault hit %d times", h.Hits())
	}
	c.Fake().Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.InvalidRecord})
	if _, err := p.SendSync(ctx, &kprod.Record{Topic: topic, Value: []byte("refused")}); err == nil {
		t.Fatal("the refused record succeeded")
	}
	ix := indexMetrics(p.Metrics())
	for _, want := range []struct {
		group, name, tag string
		v                float64
	}{
		{"producer-metrics", "record-send-total", "", 3}, // 1 + its retry + the refused one
		{"producer-metrics", "record-retry-total", "", 1},
		{"producer-metrics", "record-error-total", "", 1},
		{"producer-topic-metrics", "record-retry-total", topic, 1},
		{"producer-topic-metrics", "record-error-total", topic, 1},
		{"producer-topic-metrics", "record-send-total", topic, 3},
	} {
		if got := ix.get(t, want.group, want.name, want.tag); got != want.v {
			t.Errorf("%s %s = %v; want %v", want.group, want.name, got, want.v)
		}
	}
}

// TestMetricsConnectionsAfterClose: every connection counted as created is counted as
// closed once the producer closed, so connection-count goes back to 0; the metrics stay
// readable after Close.
func TestMetricsConnectionsAfterClose(t *testing.T) {
	const topic = "metrics-close"
	c := kafkatest.New(t, kafkatest.Brokers(2), kafkatest.Topic(topic, 2))
	p := newProducer(t, c.Bootstrap(), nil)
	sendN(t, p, topic, 100, 10)
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	ix := indexMetrics(p.Metrics())
	created, closed := ix.get(t, "producer-metrics", "connection-creation-total", ""), ix.get(t, "producer-metrics", "connection-close-total", "")
	if created < 2 || closed != created {
		t.Errorf("connections created %v, closed %v; want every one closed", created, closed)
	}
	if got := ix.get(t, "producer-metrics", "connection-count", ""); got != 0 {
		t.Errorf("connection-count = %v after Close", got)
	}
}

// TestMetricsQueueTimeAtLeastLinger: a lone record waits linger.ms in its batch before
// the sender takes it, so record-queue-time-max is at least linger.ms, and no request's
// latency exceeds the time both sends took.
func TestMetricsQueueTimeAtLeastLinger(t *testing.T) {
	const topic, linger = "metrics-linger", 40 * time.Millisecond
	c := kafkatest.New(t, kafkatest.Topic(topic, 1))
	p := newProducer(t, c.Bootstrap(), func(cfg *kprod.Config) { cfg.Linger = linger })
	ctx := context.Background()
	start := time.Now()
	// The first send waits for metadata and the producer id too.
	if _, err := p.SendSync(ctx, &kprod.Record{Topic: topic, Value: []byte("warm")}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.SendSync(ctx, &kprod.Record{Topic: topic, Value: []byte("timed")}); err != nil {
		t.Fatal(err)
	}
	whole := float64(time.Since(start).Milliseconds())
	ix := indexMetrics(p.Metrics())
	if got := ix.get(t, "producer-metrics", "record-queue-time-max", ""); got < float64(linger.Milliseconds()) {
		t.Errorf("record-queue-time-max = %v ms; a lone record waits linger.ms = %v", got, linger)
	}
	if got := ix.get(t, "producer-metrics", "request-latency-max", ""); got < 0 || got > whole+1 {
		t.Errorf("request-latency-max = %v ms; both sends took %v ms", got, whole)
	}
}
