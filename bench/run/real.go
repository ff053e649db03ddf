package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// realKafka administers the real Kafka node: each run gets a fresh topic that is
// counted (sum of end offsets, to prove every record arrived) and then deleted so the
// disk does not fill up.
type realKafka struct {
	addr string
	cl   *kgo.Client
}

func dialReal(ctx context.Context, addr string) (*realKafka, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ClientID("bench-admin"))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := cl.Ping(ctx); err != nil {
		cl.Close()
		return nil, fmt.Errorf("real Kafka at %s is not reachable: %w", addr, err)
	}
	return &realKafka{addr: addr, cl: cl}, nil
}

func (r *realKafka) close() { r.cl.Close() }

// create makes topic with partitions and waits until every partition has a leader.
func (r *realKafka) create(ctx context.Context, topic string, partitions int) error {
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 30000
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, int32(partitions), 1
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, r.cl)
	if err != nil {
		return err
	}
	for _, t := range resp.Topics {
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil && err != kerr.TopicAlreadyExists {
			return fmt.Errorf("create %s: %w", topic, err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		meta := kmsg.NewPtrMetadataRequest()
		mt := kmsg.NewMetadataRequestTopic()
		mt.Topic = kmsg.StringPtr(topic)
		meta.Topics = append(meta.Topics, mt)
		mr, err := meta.RequestWith(ctx, r.cl)
		if err == nil && len(mr.Topics) == 1 && mr.Topics[0].ErrorCode == 0 && len(mr.Topics[0].Partitions) == partitions {
			ready := true
			for _, p := range mr.Topics[0].Partitions {
				ready = ready && p.Leader >= 0 && p.ErrorCode == 0
			}
			if ready {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("topic %s has no leaders after 30s", topic)
}

// count sums the end offsets of topic's partitions: without transactions, the number
// of records written.
func (r *realKafka) count(ctx context.Context, topic string, partitions int) (int64, error) {
	req := kmsg.NewPtrListOffsetsRequest()
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	for p := range partitions {
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition, rp.Timestamp = int32(p), -1 // latest
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, r.cl)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return 0, fmt.Errorf("list offsets %s/%d: %w", topic, p.Partition, err)
			}
			n += p.Offset
		}
	}
	return n, nil
}

// remove deletes topic.
func (r *realKafka) remove(ctx context.Context, topic string) error {
	req := kmsg.NewPtrDeleteTopicsRequest()
	req.TimeoutMillis = 30000
	req.TopicNames = []string{topic}
	dt := kmsg.NewDeleteTopicsRequestTopic()
	dt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, dt)
	resp, err := req.RequestWith(ctx, r.cl)
	if err != nil {
		return err
	}
	for _, t := range resp.Topics {
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			return fmt.Errorf("delete %s: %w", topic, err)
		}
	}
	return nil
}

// brokerPID finds the process listening on addr's port (ss from iproute2), so the
// broker can be pinned to the sink's core; 0 when it cannot be found.
func brokerPID(addr string) int {
	_, port, _ := strings.Cut(addr, ":")
	out, err := exec.Command("ss", "-Hltnp", "sport = :"+port).Output()
	if err != nil {
		return 0
	}
	m := regexp.MustCompile(`pid=(\d+)`).FindSubmatch(out)
	if m == nil {
		return 0
	}
	pid, _ := strconv.Atoi(string(m[1]))
	return pid
}

// javaRunner runs Kafka's ProducerPerformance on the real node.
type javaRunner struct {
	benchDir string
	cluster  string
	fullJIT  bool   // run java directly with the default JIT instead of scripts/kafka
	jars     string // lib folder of the cluster's Kafka version, for fullJIT
	warmupOK bool   // the tool knows --warmup-records
	propsOpt string // --command-property (Kafka 4.2+) or the older --producer-props
}

func newJavaRunner(ctx context.Context, benchDir, cluster string, fullJIT bool) (*javaRunner, error) {
	j := &javaRunner{benchDir: benchDir, cluster: cluster, fullJIT: fullJIT}
	if fullJIT {
		cache := os.Getenv("KPROD_KAFKA_CACHE")
		if cache == "" {
			cache = filepath.Join(benchDir, "..", ".cache", "kafka")
		}
		v, err := os.ReadFile(filepath.Join(cache, "clusters", cluster, "version"))
		if err != nil {
			return nil, fmt.Errorf("-java-full-jit: cannot tell the cluster's Kafka version: %w", err)
		}
		j.jars = filepath.Join(cache, "jars", strings.TrimSpace(string(v)), "lib")
	}
	help, _ := j.command(ctx, pinner{}, "", "--help").CombinedOutput()
	j.warmupOK = strings.Contains(string(help), "--warmup-records")
	j.propsOpt = "--producer-props"
	if strings.Contains(string(help), "--command-property") {
		j.propsOpt = "--command-property"
	}
	if !strings.Contains(string(help), "--payload-file") {
		return nil, fmt.Errorf("ProducerPerformance did not start: %s", lastLines(string(help), 3))
	}
	return j, nil
}

func (j *javaRunner) command(ctx context.Context, pin pinner, core string, args ...string) *exec.Cmd {
	if j.fullJIT {
		base := []string{"-Xmx1g", "-cp", j.jars + "/*", "org.apache.kafka.tools.ProducerPerformance"}
		return pin.command(ctx, core, "java", append(base, args...)...)
	}
	script := filepath.Join(j.benchDir, "..", "scripts", "kafka")
	base := []string{"--cluster", j.cluster, "java", "ProducerPerformance"}
	return pin.command(ctx, core, script, append(base, args...)...)
}

// javaResult is what ProducerPerformance's summary line says, plus its process CPU.
type javaResult struct {
	RecordsPerSec float64
	MBPerSec      float64
	P50, P99      float64 // ms, as the tool reports them
	P999          float64
	CPUSeconds    float64 // the whole JVM, start-up and JIT included
	Args          []string
}

var javaSummary = regexp.MustCompile(`(\d+) (?:steady state )?records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\).*?(\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99.9th`)

// run runs the tool for spec's records at spec.Rate (0: unthrottled) with the same
// producer properties as the drivers.
func (j *javaRunner) run(ctx context.Context, pin pinner, core, payloadFile string, r runSpec) (javaResult, error) {
	s := r.Scenario
	throughput := "-1"
	if r.Rate > 0 {
		throughput = strconv.Itoa(r.Rate)
	}
	props := []string{"bootstrap.servers=" + r.Brokers, "client.id=bench-java", "acks=" + s.Acks,
		"enable.idempotence=" + strconv.FormatBool(s.Idempotent), "linger.ms=" + strconv.Itoa(s.LingerMs),
		"batch.size=" + strconv.Itoa(r.batchBytes()), "buffer.memory=" + strconv.Itoa(r.settings.BufferBytes),
		"compression.type=" + s.Compression}
	if r.batchBytes()+(64<<10) > 1<<20 {
		props = append(props, "max.request.size="+strconv.Itoa(r.batchBytes()+64<<10))
	}
	if s.TLS {
		props = append(props, "security.protocol=SSL", "ssl.truststore.type=PEM", "ssl.truststore.location="+r.TLSCA)
	}
	args := []string{"--topic", r.Topic, "--num-records", strconv.Itoa(r.Records), "--payload-file", payloadFile,
		"--throughput", throughput}
	if j.warmupOK && r.Warmup > 0 {
		args = []string{"--topic", r.Topic, "--num-records", strconv.Itoa(r.Records + r.Warmup),
			"--warmup-records", strconv.Itoa(r.Warmup), "--payload-file", payloadFile, "--throughput", throughput}
	}
	args = append(append(args, j.propsOpt), props...)
	res := javaResult{Args: args}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	cmd := j.command(ctx, pin, core, args...)
	before := childrenCPU()
	out, err := cmd.CombinedOutput()
	res.CPUSeconds = (childrenCPU() - before).Seconds()
	if err != nil {
		return res, fmt.Errorf("%v: %s", err, lastLines(string(out), 3))
	}
	// With --warmup-records the tool prints the whole run's summary, then the
	// steady-state one: the last match is the one to keep.
	var m []string
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if mm := javaSummary.FindStringSubmatch(sc.Text()); mm != nil {
			m = mm
		}
	}
	if m == nil {
		return res, fmt.Errorf("no summary line in: %s", lastLines(string(out), 3))
	}
	res.RecordsPerSec, _ = strconv.ParseFloat(m[2], 64)
	res.MBPerSec, _ = strconv.ParseFloat(m[3], 64)
	res.P50, _ = strconv.ParseFloat(m[4], 64)
	res.P99, _ = strconv.ParseFloat(m[6], 64)
	res.P999, _ = strconv.ParseFloat(m[7], 64)
	return res, nil
}

// writePayloadFile writes the drivers' payloads one per line for --payload-file: the
// JSON-like values contain no newline.
func writePayloadFile(path string, payloads [][]byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, p := range payloads {
		w.Write(p)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
