package kprom_test

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/internal/testcluster"
	"github.com/kprod-io/kprod/plugin/kprom"
)

// TestMain tells, once per go test run, that tests needing real Kafka were skipped.
func TestMain(m *testing.M) { testcluster.Main(m) }

// TestRealCollectorScrape: on a real 3-node cluster, the scrape's record-send-total,
// the producer's and its topic's, equals the records an independent client reads back,
// and the node metrics carry the brokers' own ids.
func TestRealCollectorScrape(t *testing.T) {
	const n = 300
	cluster := testcluster.Real(t, 3)
	topic := fmt.Sprintf("kprom-real-%d", time.Now().UnixNano())
	admin, err := kgo.NewClient(kgo.SeedBrokers(cluster.Bootstrap...))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	testcluster.CreateTopic(t, admin, topic, 3, 3, nil)
	testcluster.WaitTopicKnown(t, admin, topic)

	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: cluster.Bootstrap, ClientID: "kprom-real"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeProducer(t, p) })
	send(t, p, topic, n)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(kprom.NewCollector(p))
	got := gather(t, reg)

	if read := readBack(t, cluster.Bootstrap, topic, n); read != n {
		t.Fatalf("read back %d records, want %d", read, n)
	}
	for _, series := range []string{
		`kafka_producer_record_send_total{client_id="kprom-real"}`,
		`kafka_producer_topic_record_send_total{client_id="kprom-real",topic="` + topic + `"}`,
	} {
		if m, ok := got[series]; !ok || m.GetCounter().GetValue() != n {
			t.Errorf("%s = %v (present %v), want %d, the records read back", series, m.GetCounter().GetValue(), ok, n)
		}
	}
	nodes := map[string]bool{}
	for series := range got {
		if rest, ok := strings.CutPrefix(series, `kafka_producer_node_request_latency_avg{client_id="kprom-real",node_id="`); ok {
			nodes[strings.TrimSuffix(rest, `"}`)] = true
		}
	}
	if want := leaders(t, admin, topic); !maps.Equal(nodes, want) {
		t.Errorf("Produce request latency for nodes %v, want the partitions' leaders %v", nodes, want)
	}
}

// leaders returns the node-id tags ("node-1") of the brokers leading topic's partitions.
func leaders(t *testing.T, cl *kgo.Client, topic string) map[string]bool {
	t.Helper()
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, p := range resp.Topics[0].Partitions {
		out[fmt.Sprintf("node-%d", p.Leader)] = true
	}
	return out
}

// readBack counts the records of topic, reading until it has want or 30 s pass.
func readBack(t *testing.T, bootstrap []string, topic string, want int) int {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got := 0
	for got < want && ctx.Err() == nil {
		fetches := cl.PollFetches(ctx)
		got += fetches.NumRecords()
	}
	return got
}
