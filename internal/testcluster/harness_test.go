package testcluster_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod/internal/testcluster"
	"github.com/kprod-io/kprod/kafkatest"
)

func uniqueTopic(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano(), rand.IntN(1e6))
}

func client(t *testing.T, c *testcluster.Cluster, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.Bootstrap...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// consumeAll reads n records from topic with kgo, failing after timeout.
func consumeAll(t *testing.T, c *testcluster.Cluster, topic string, n int, timeout time.Duration) []*kgo.Record {
	t.Helper()
	cl := client(t, c, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records from %s before the timeout", len(recs), n, topic)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Logf("fetch %s/%d: %v", topic, p, err) })
		recs = append(recs, fs.Records()...)
	}
	return recs
}

// TestEmbeddedClusterRoundTrip proves the embedded cluster: three brokers, a seeded topic,
// records written and read back by franz-go, and a leader move through the fault hooks.
func TestEmbeddedClusterRoundTrip(t *testing.T) {
	c := testcluster.Embedded(t, kafkatest.Brokers(3), kafkatest.Topic("seeded", 3))
	if c.Nodes != 3 {
		t.Fatalf("nodes = %d, want 3", c.Nodes)
	}
	cl := client(t, c, kgo.DefaultProduceTopic("seeded"))
	ctx := context.Background()
	for i := 0; i < 300; i++ {
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte(fmt.Sprint(i)), Partition: -1}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if i == 150 {
			fake := c.Embedded.Fake()
			from := fake.LeaderFor("seeded", 0)
			if err := fake.MoveTopicPartition("seeded", 0, (from+1)%3); err != nil {
				t.Fatal(err)
			}
		}
	}
	recs := consumeAll(t, c, "seeded", 300, 30*time.Second)
	seen := map[string]bool{}
	for _, r := range recs {
		seen[string(r.Value)] = true
	}
	if len(seen) != 300 {
		t.Fatalf("read %d distinct values, want 300", len(seen))
	}
}

// TestRealJavaToolsRoundTrip writes 100,000 records with Java's ProducerPerformance to a
// 3-partition topic on one real node, then reads every one back with Java's console
// consumer and with franz-go, on the newest Kafka 4.x and 3.9.x.
func TestRealJavaToolsRoundTrip(t *testing.T) {
	for _, version := range []string{"4.", "3.9."} {
		t.Run(strings.TrimSuffix(version, "."), func(t *testing.T) {
			javaToolsRoundTrip(t, testcluster.RealVersion(t, 1, version))
		})
	}
}

func javaToolsRoundTrip(t *testing.T, c *testcluster.Cluster) {
	topic := uniqueTopic("harness")
	if _, _, err := c.Java("", "TopicCommand", "--bootstrap-server", c.BootstrapServers(),
		"--create", "--topic", topic, "--partitions", "3", "--replication-factor", "1"); err != nil {
		t.Fatal(err)
	}
	const n = 100000
	out, _, err := c.Java("", "ProducerPerformance", "--topic", topic, "--num-records", fmt.Sprint(n),
		"--record-size", "100", "--throughput", "-1", "--producer-props",
		"bootstrap.servers="+c.BootstrapServers(), "acks=all")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, fmt.Sprintf("%d records sent", n)) {
		t.Fatalf("ProducerPerformance did not report %d records sent:\n%s", n, out)
	}
	t.Logf("ProducerPerformance: %s", lastLine(out))

	consumed, stderr, err := c.Java("", "ConsoleConsumer", "--bootstrap-server", c.BootstrapServers(),
		"--topic", topic, "--from-beginning", "--max-messages", fmt.Sprint(n), "--timeout-ms", "30000",
		"--property", "print.partition=true")
	if err != nil {
		t.Fatal(err)
	}
	// Kafka 4.2+ prints a deprecation notice for --property on stdout: count records only.
	var lines []string
	for _, l := range strings.Split(consumed, "\n") {
		if strings.HasPrefix(l, "Partition:") {
			lines = append(lines, l)
		}
	}
	if len(lines) != n {
		t.Fatalf("console consumer printed %d lines, want %d (stderr: %s)", len(lines), n, stderr)
	}
	perPartition := map[string]int{}
	for _, l := range lines {
		perPartition[strings.SplitN(l, "\t", 2)[0]]++
	}
	if len(perPartition) != 3 {
		t.Fatalf("console consumer saw partitions %v, want 3", perPartition)
	}

	recs := consumeAll(t, c, topic, n, 60*time.Second)
	if len(recs) != n {
		t.Fatalf("kgo read %d records, want %d", len(recs), n)
	}
	parts := map[int32]int{}
	for _, r := range recs {
		if len(r.Value) != 100 {
			t.Fatalf("record at %d/%d has %d bytes, want 100", r.Partition, r.Offset, len(r.Value))
		}
		parts[r.Partition]++
	}
	if len(parts) != 3 {
		t.Fatalf("kgo saw partitions %v, want 3", parts)
	}
}

// TestRealLeaderKillAndRejoin kills -9 the leader of a partition on three real nodes: a new
// leader is elected and producing continues; the restarted node rejoins the ISR.
func TestRealLeaderKillAndRejoin(t *testing.T) {
	c := testcluster.Real(t, 3)
	c.Exclusive(t)
	topic := uniqueTopic("failover")
	cl := client(t, c, kgo.DefaultProduceTopic(topic), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	testcluster.CreateTopic(t, cl, topic, 1, 3, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	produce := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			r := &kgo.Record{Value: []byte(fmt.Sprint(i)), Partition: 0}
			if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatalf("produce %d: %v", i, err)
			}
		}
	}
	produce(0, 100)

	leader, _ := partitionState(t, ctx, cl, topic)
	if _, err := c.Script("kill", fmt.Sprint(leader)); err != nil {
		t.Fatal(err)
	}
	restarted := false
	t.Cleanup(func() {
		if !restarted { // leave the shared cluster whole for the next test
			c.Script("start", fmt.Sprint(leader))
		}
	})
	var newLeader int32
	waitFor(t, ctx, "a new leader", func() bool {
		newLeader, _ = partitionState(t, ctx, cl, topic)
		return newLeader >= 0 && newLeader != leader
	})
	t.Logf("leader %d killed; new leader %d", leader, newLeader)
	produce(100, 200) // acks=all with min.insync.replicas=2 on the two survivors

	if _, err := c.Script("start", fmt.Sprint(leader)); err != nil {
		t.Fatal(err)
	}
	restarted = true
	waitFor(t, ctx, fmt.Sprintf("node %d back in the ISR", leader), func() bool {
		_, isr := partitionState(t, ctx, cl, topic)
		for _, r := range isr {
			if r == leader {
				return true
			}
		}
		return false
	})
	produce(200, 300)
	recs := consumeAll(t, c, topic, 300, time.Minute)
	for i, r := range recs {
		if string(r.Value) != fmt.Sprint(i) || r.Offset != int64(i) {
			t.Fatalf("record %d: value %q offset %d", i, r.Value, r.Offset)
		}
	}
}

func partitionState(t *testing.T, ctx context.Context, cl *kgo.Client, topic string) (leader int32, isr []int32) {
	t.Helper()
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil || len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return -1, nil
	}
	p := resp.Topics[0].Partitions[0]
	if p.ErrorCode != 0 {
		return -1, nil
	}
	return p.Leader, p.ISR
}

func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// TestScriptUpTwiceIsHarmless runs `up` on a running cluster: it must report the same
// bootstrap and leave the nodes' processes alone.
func TestScriptUpTwiceIsHarmless(t *testing.T) {
	c := testcluster.Real(t, 1)
	before, err := c.Script("status")
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Script("up", "--nodes", "1", "--version", c.Version)
	if err != nil {
		t.Fatal(err)
	}
	if got := lastLine(out); got != "BOOTSTRAP="+c.BootstrapServers() {
		t.Fatalf("last line %q, want BOOTSTRAP=%s", got, c.BootstrapServers())
	}
	after, err := c.Script("status")
	if err != nil {
		t.Fatal(err)
	}
	if before != after {
		t.Fatalf("status changed:\n%s\n---\n%s", before, after)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}
