package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod/kafkatest"
)

func runCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := run(ctx, args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func consume(t *testing.T, bootstrap, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < n && ctx.Err() == nil {
		recs = append(recs, cl.PollFetches(ctx).Records()...)
	}
	if len(recs) != n {
		t.Fatalf("read %d records, want %d", len(recs), n)
	}
	return recs
}

var summary = regexp.MustCompile(`^(\d+) records sent, [0-9.]+ records/sec \([0-9.]+ MB/sec\), [0-9.]+ ms avg latency, [0-9.]+ ms max latency, \d+ ms 50th, \d+ ms 95th, \d+ ms 99th, \d+ ms 99\.9th\.$`)

func TestPerfPrintsJavasSummary(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Topic("perf", 3))
	code, out, errOut := runCmd(t, "", "perf", "--topic", "perf", "--num-records", "5000", "--record-size", "100",
		"--throughput", "-1", "--bootstrap-server", c.BootstrapServers(), "--producer-props", "linger.ms=1", "acks=1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	m := summary.FindStringSubmatch(lines[len(lines)-1])
	if m == nil || m[1] != "5000" {
		t.Fatalf("last line %q does not match Java's summary for 5000 records", lines[len(lines)-1])
	}
	recs := consume(t, c.BootstrapServers(), "perf", 5000)
	for _, r := range recs {
		if len(r.Value) != 100 {
			t.Fatalf("record of %d bytes, want 100", len(r.Value))
		}
	}
}

func TestPerfPayloadFile(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Topic("pl", 1))
	file := filepath.Join(t.TempDir(), "payloads")
	if err := os.WriteFile(file, []byte("alpha|beta|gamma"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCmd(t, "", "perf", "--topic", "pl", "--num-records", "60", "--payload-file", file,
		"--payload-delimiter", "|", "--throughput", "-1", "--bootstrap-server", c.BootstrapServers(), "--print-metrics")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	seen := map[string]int{}
	for _, r := range consume(t, c.BootstrapServers(), "pl", 60) {
		seen[string(r.Value)]++
	}
	// Java draws each record's payload at random from the file's.
	if len(seen) != 3 || seen["alpha"] == 0 || seen["beta"] == 0 || seen["gamma"] == 0 {
		t.Fatalf("payloads seen %v, want only and all of alpha, beta, gamma", seen)
	}
}

func TestPerfUsesTheEmbeddedClusterByDefault(t *testing.T) {
	code, out, errOut := runCmd(t, "", "perf", "--topic", "p", "--num-records", "100", "--record-size", "10", "--throughput", "-1")
	if code != 0 || !strings.Contains(errOut, "embedded") || !strings.Contains(out, "100 records sent") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
}

func TestPerfRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"perf", "--num-records", "1", "--record-size", "1"},                                               // no topic
		{"perf", "--topic", "t", "--num-records", "1"},                                                     // no size
		{"perf", "--topic", "t", "--num-records", "1", "--record-size", "1", "--bogus"},                    // unknown flag
		{"perf", "--topic", "t", "--num-records", "1", "--record-size", "1", "--producer-props", "acks=7"}, // bad property
	} {
		if code, _, _ := runCmd(t, "", args...); code == 0 {
			t.Errorf("%v: exit 0, want an error", args)
		}
	}
}

func TestProduceParsesKeysAndHeaders(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Topic("lines", 1))
	stdin := "h1:a,h2:b\tk1\tv1\n\tk2\tv2\n"
	code, _, errOut := runCmd(t, stdin, "produce", "--bootstrap-server", c.BootstrapServers(), "--topic", "lines",
		"--property", "parse.key=true", "--property", "parse.headers=true")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	recs := consume(t, c.BootstrapServers(), "lines", 2)
	if string(recs[0].Key) != "k1" || string(recs[0].Value) != "v1" || len(recs[0].Headers) != 2 ||
		recs[0].Headers[1].Key != "h2" || string(recs[0].Headers[1].Value) != "b" {
		t.Fatalf("record 0: %+v", recs[0])
	}
	if string(recs[1].Key) != "k2" || string(recs[1].Value) != "v2" || len(recs[1].Headers) != 0 {
		t.Fatalf("record 1: %+v", recs[1])
	}
}

func TestProduceCountsFailedLines(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Topic("lines", 1))
	// Two lines lack the key separator; one is fine.
	code, _, errOut := runCmd(t, "nokey\nk\tv\nalso-no-key\n", "produce", "--bootstrap-server", c.BootstrapServers(),
		"--topic", "lines", "--property", "parse.key=true", "--sync")
	if code == 0 || !strings.Contains(errOut, "2 line(s) failed") {
		t.Fatalf("exit %d, stderr %q; want non-zero and 2 failed lines", code, errOut)
	}
	consume(t, c.BootstrapServers(), "lines", 1)
}

// TestProduceSaysWhetherWritten: each failed line says whether its record may be in the
// topic: a Produce the broker received but did not answer (the connection closed, no
// retries) may have been written; a line that does not parse was not.
func TestProduceSaysWhetherWritten(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Topic("lines", 1))
	var once sync.Once
	c.Fake().ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.Fake().KeepControl()
		var drop bool
		once.Do(func() { drop = true })
		if drop {
			return nil, errors.New("connection dropped after the request"), true
		}
		return nil, nil, false
	})
	code, _, errOut := runCmd(t, "k\tv\nnokey\n", "produce", "--bootstrap-server", c.BootstrapServers(),
		"--topic", "lines", "--property", "parse.key=true", "--sync",
		"--producer-property", "retries=0", "--producer-property", "enable.idempotence=false")
	if code == 0 || !strings.Contains(errOut, "line 1 (may have been written): ") || !strings.Contains(errOut, "line 2 (not written): ") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

func readCommitted(t *testing.T, bootstrap, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < n && ctx.Err() == nil {
		recs = append(recs, cl.PollFetches(ctx).Records()...)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	return append(recs, cl.PollFetches(short).Records()...)
}

// TestProduceTransactionalExactlyOnce: an abortable error in the middle makes the command
// abort and send that transaction's lines again; read_committed sees every line once.
func TestProduceTransactionalExactlyOnce(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Topic("tx", 2))
	h := c.Fake().Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: "tx", Err: kerr.TransactionAbortable, Count: 1})
	defer h.Remove()
	var in strings.Builder
	for i := range 25 {
		fmt.Fprintf(&in, "line-%02d\n", i)
	}
	code, _, errOut := runCmd(t, in.String(), "produce", "--bootstrap-server", c.BootstrapServers(), "--topic", "tx",
		"--transactional-id", "console", "--transaction-size", "10")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if h.Hits() == 0 || !strings.Contains(errOut, "aborting and sending them again") {
		t.Fatalf("the abortable error was not injected or not handled; stderr: %s", errOut)
	}
	seen := map[string]int{}
	for _, r := range readCommitted(t, c.BootstrapServers(), "tx", 25) {
		seen[string(r.Value)]++
	}
	for i := range 25 {
		if v := fmt.Sprintf("line-%02d", i); seen[v] != 1 {
			t.Fatalf("%s committed %d times; all: %v", v, seen[v], seen)
		}
	}
	if len(seen) != 25 {
		t.Fatalf("read_committed saw %d distinct lines, want 25", len(seen))
	}
}

func TestProduceTransactionalFatalExitsNonZero(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Topic("tx", 1))
	h := c.Fake().Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: "tx", Err: kerr.ProducerFenced})
	defer h.Remove()
	code, _, errOut := runCmd(t, "a\nb\n", "produce", "--bootstrap-server", c.BootstrapServers(), "--topic", "tx",
		"--transactional-id", "fenced")
	if code == 0 {
		t.Fatalf("exit 0 after a fatal error; stderr: %s", errOut)
	}
}

func TestPerfTransactional(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Topic("ptx", 3))
	code, out, errOut := runCmd(t, "", "perf", "--topic", "ptx", "--num-records", "3000", "--record-size", "50",
		"--throughput", "-1", "--bootstrap-server", c.BootstrapServers(), "--transactional-id", "perf-tx",
		"--transaction-duration-ms", "20")
	if code != 0 || !strings.Contains(out, "3000 records sent") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if got := len(readCommitted(t, c.BootstrapServers(), "ptx", 3000)); got != 3000 {
		t.Fatalf("read_committed saw %d records, want 3000", got)
	}
}

// TestPerfLatencyIsTheRecordsTiming: perf's latency is the producer's per-record Timing,
// not a clock the tool reads. The run is throttled to last well over linger.ms (the
// throttler sleeps at least 1 ms per record once ahead), so the first batch leaves at
// linger.ms, not at Close: its first record reports at least linger.ms.
func TestPerfLatencyIsTheRecordsTiming(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Topic("lat", 1))
	code, out, errOut := runCmd(t, "", "perf", "--topic", "lat", "--num-records", "600", "--record-size", "10",
		"--throughput", "1000", "--reporting-interval", "100000", "--bootstrap-server", c.BootstrapServers(),
		"--producer-props", "linger.ms=300")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1]
	if summary.FindStringSubmatch(last) == nil {
		t.Fatalf("last line %q does not match Java's summary", last)
	}
	var n int
	var rate, mb, avg, maxL float64
	if _, err := fmt.Sscanf(last, "%d records sent, %f records/sec (%f MB/sec), %f ms avg latency, %f ms max latency",
		&n, &rate, &mb, &avg, &maxL); err != nil {
		t.Fatalf("parsing %q: %v", last, err)
	}
	if n != 600 || maxL < 300 || avg <= 0 {
		t.Errorf("%d records, avg %v ms, max %v ms; want 600, the first record waiting linger.ms=300", n, avg, maxL)
	}
}

// TestPerfWindowLines: window lines come every --reporting-interval while records
// complete, in Java's format.
func TestPerfWindowLines(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Topic("win", 1))
	code, out, errOut := runCmd(t, "", "perf", "--topic", "win", "--num-records", "400", "--record-size", "10",
		"--throughput", "1000", "--reporting-interval", "50", "--bootstrap-server", c.BootstrapServers())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	window := regexp.MustCompile(`^\d+ records sent, [0-9.]+ records/sec \([0-9.]+ MB/sec\), [0-9.]+ ms avg latency, [0-9.]+ ms max latency\.$`)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 {
		t.Fatalf("output %q: want window lines before the summary (400 records at 1000/s, 50 ms windows)", out)
	}
	for _, l := range lines[:len(lines)-1] {
		if !window.MatchString(l) {
			t.Errorf("window line %q is not in Java's format", l)
		}
	}
	if summary.FindStringSubmatch(lines[len(lines)-1]) == nil {
		t.Errorf("last line %q is not Java's summary", lines[len(lines)-1])
	}
}
