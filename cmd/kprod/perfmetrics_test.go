package main

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/internal/testcluster"
	"github.com/kprod-io/kprod/kafkatest"
)

// metricLine is one line of Java's --print-metrics: "group:name:{tags}   : value".
var metricLine = regexp.MustCompile(`^([a-z-]+):([a-z-]+):(\{[^}]*\}) *: (\S+)$`)

// parsePrintedMetrics reads the metrics block --print-metrics printed, keyed
// "group:name:{tags}"; it fails the test unless the block has Java's header and every
// line is padded to the same width.
func parsePrintedMetrics(t *testing.T, out string) map[string]float64 {
	t.Helper()
	i := strings.Index(out, "\nMetric Name")
	if i < 0 {
		t.Fatalf("no metrics header in:\n%s", out)
	}
	lines := strings.Split(strings.TrimRight(out[i+1:], "\n"), "\n")
	valueCol := strings.Index(lines[0], "   Value")
	got := map[string]float64{}
	for _, l := range lines[1:] {
		m := metricLine.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("line %q is not Java's name:group:{tags} : value", l)
		}
		if strings.Index(l, " : ") != valueCol {
			t.Errorf("line %q: value not aligned at column %d", l, valueCol)
		}
		v, err := strconv.ParseFloat(m[4], 64)
		if err != nil && m[4] != "NaN" && m[1] != "app-info" { // Java's app-info values are strings
			t.Errorf("line %q: value %q", l, m[4])
		}
		got[m[1]+":"+m[2]+":"+m[3]] = v
	}
	return got
}

func TestJavaTagsAndDoubles(t *testing.T) {
	if got := javaTags(map[string]string{"topic": "t", "client-id": "c"}); got != "{client-id=c, topic=t}" {
		t.Errorf("javaTags = %s", got)
	}
	var b strings.Builder
	printProducerMetrics(&b, []kprod.Metric{
		{Name: "record-send-total", Group: "producer-metrics", Tags: map[string]string{"client-id": "c"}, Value: 5},
		{Name: "request-latency-avg", Group: "producer-node-metrics", Tags: map[string]string{"client-id": "c", "node-id": "node-1"}, Value: 0.5},
		{Name: "batch-size-avg", Group: "producer-metrics", Tags: map[string]string{"client-id": "c"}, Value: math.NaN()},
	})
	// Java pads every name to the longest, sorts by the printed name and prints NaN as NaN.
	want := "\nMetric Name                                                               Value\n" +
		"producer-metrics:batch-size-avg:{client-id=c}                           : NaN\n" +
		"producer-metrics:record-send-total:{client-id=c}                        : 5.000\n" +
		"producer-node-metrics:request-latency-avg:{client-id=c, node-id=node-1} : 0.500\n"
	if b.String() != want {
		t.Errorf("printed:\n%q\nwant:\n%q", b.String(), want)
	}
}

// TestPerfPrintMetricsEmbedded: `kprod perf --print-metrics` prints the producer's
// metrics in Java's format, with true values: record-send-total equals the records sent.
func TestPerfPrintMetricsEmbedded(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Topic("pm", 3))
	const n = 5000
	code, out, errOut := runCmd(t, "", "perf", "--topic", "pm", "--num-records", fmt.Sprint(n), "--record-size", "100",
		"--throughput", "-1", "--bootstrap-server", c.BootstrapServers(), "--print-metrics",
		"--producer-props", "client.id=pm-client")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	m := parsePrintedMetrics(t, out)
	checkPerfMetrics(t, m, "pm-client", "pm", n, 100)
}

// checkPerfMetrics checks what a perf run of n records of size bytes to topic must show.
func checkPerfMetrics(t *testing.T, m map[string]float64, client, topic string, n, size int) {
	t.Helper()
	get := func(group, name, tags string) float64 {
		t.Helper()
		key := group + ":" + name + ":{client-id=" + client + tags + "}"
		v, ok := m[key]
		if !ok {
			t.Fatalf("%s not printed", key)
		}
		return v
	}
	P, T := "producer-metrics", "producer-topic-metrics"
	tt := ", topic=" + topic
	// As Java's, record-send-total counts a batch's records at every send, its retries
	// too: a real broker may refuse a first attempt (a new topic's leader not yet known
	// everywhere: NOT_LEADER_OR_FOLLOWER), and then more than n were sent (CI once saw
	// 20296 of 20000 here).
	retried, topicRetried := get(P, "record-retry-total", ""), get(T, "record-retry-total", tt)
	if got := get(P, "record-send-total", ""); got != float64(n)+retried {
		t.Errorf("record-send-total = %v; want %d records plus the %v retried", got, n, retried)
	}
	if got := get(T, "record-send-total", tt); got != float64(n)+topicRetried {
		t.Errorf("topic record-send-total = %v; want %d records plus the %v retried", got, n, topicRetried)
	}
	if got := get(P, "record-error-total", ""); got != 0 {
		t.Errorf("record-error-total = %v", got)
	}
	if got := get(P, "request-total", ""); got <= 0 {
		t.Errorf("request-total = %v", got)
	}
	batches := get(T, "byte-total", tt)
	if batches < float64(n*size) {
		t.Errorf("topic byte-total = %v; less than the %d payload bytes", batches, n*size)
	}
	// Produce requests carry the batches plus headers; metadata and ApiVersions add more.
	if out := get(P, "outgoing-byte-total", ""); out < batches {
		t.Errorf("outgoing-byte-total = %v < the batches' %v", out, batches)
	}
	if in := get(P, "incoming-byte-total", ""); in <= 0 {
		t.Errorf("incoming-byte-total = %v", in)
	}
}

// notProduced are the producer-metrics names of Java's that kprod does not produce, as
// the README's metrics section explains: Java NIO selector internals, SASL
// (re)authentication counters, and two-phase commit (KIP-939), which kprod refuses.
var notProduced = map[string]bool{
	"network-io-rate": true, "network-io-total": true, "select-rate": true, "select-total": true,
	"io-wait-time-ns-avg": true, "io-wait-time-ns-total": true, "io-wait-ratio": true,
	"io-time-ns-avg": true, "io-time-ns-total": true, "io-ratio": true,
	"successful-authentication-rate": true, "successful-authentication-total": true,
	"failed-authentication-rate": true, "failed-authentication-total": true,
	"successful-reauthentication-rate": true, "successful-reauthentication-total": true,
	"failed-reauthentication-rate": true, "failed-reauthentication-total": true,
	"reauthentication-latency-avg": true, "reauthentication-latency-max": true,
	"successful-authentication-no-reauth-total": true, "txn-prepare-time-ns-total": true,
}

// TestRealPerfPrintMetrics: on a real single-node cluster, kprod perf --print-metrics
// shows true values (record-send-total equals the records sent, bytes consistent with
// what was sent), and every name it prints for the producer-metrics and
// producer-topic-metrics groups is one Java's ProducerPerformance prints too. The Java
// names kprod does not print are logged (the README says why).
func TestRealPerfPrintMetrics(t *testing.T) {
	c := testcluster.Real(t, 1)
	admin, err := kgo.NewClient(kgo.SeedBrokers(c.Bootstrap...))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	topic := fmt.Sprintf("kprod-perf-metrics-%d", time.Now().UnixNano())
	testcluster.CreateTopic(t, admin, topic, 3, 1, nil)
	testcluster.WaitTopicKnown(t, admin, topic)
	const n, size = 20000, 100
	code, out, errOut := runCmd(t, "", "perf", "--topic", topic, "--num-records", fmt.Sprint(n), "--record-size", fmt.Sprint(size),
		"--throughput", "-1", "--bootstrap-server", c.BootstrapServers(), "--print-metrics", "--producer-props", "client.id=kprod-pm")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	ours := parsePrintedMetrics(t, out)
	checkPerfMetrics(t, ours, "kprod-pm", topic, n, size)

	jout, _, err := c.Java("", "ProducerPerformance", "--topic", topic, "--num-records", "1000", "--record-size", "100",
		"--throughput", "-1", "--print-metrics", "--producer-props", "bootstrap.servers="+c.BootstrapServers(), "client.id=kprod-pm")
	if err != nil {
		t.Fatal(err)
	}
	java := parsePrintedMetrics(t, jout)
	names := func(m map[string]float64) map[string]bool {
		out := map[string]bool{}
		for k := range m {
			group, rest, _ := strings.Cut(k, ":")
			name, _, _ := strings.Cut(rest, ":")
			out[group+":"+name] = true
		}
		return out
	}
	on, jn := names(ours), names(java)
	var missing []string
	for k := range jn {
		if !on[k] && (strings.HasPrefix(k, "producer-metrics:") || strings.HasPrefix(k, "producer-topic-metrics:") || strings.HasPrefix(k, "producer-node-metrics:")) {
			missing = append(missing, k)
		}
	}
	t.Logf("Java names kprod does not print (%d): %v", len(missing), missing)
	for _, k := range missing {
		if !notProduced[strings.TrimPrefix(k, "producer-metrics:")] {
			t.Errorf("Java prints %s; kprod does not and the README does not say why", k)
		}
	}
	for k := range on {
		if !jn[k] {
			t.Errorf("kprod prints %s, which Java's ProducerPerformance does not", k)
		}
	}
}
