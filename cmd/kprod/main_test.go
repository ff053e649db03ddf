package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"kprod/kafkatest"
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
