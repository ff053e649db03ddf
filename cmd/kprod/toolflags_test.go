package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kprod-io/kprod/kafkatest"
)

// Issue 13 item 5: kafka-console-producer's per-setting options map to the producer
// properties ConsoleProducer.producerProps maps them to, and win over --producer-property.
func TestProduceSettingFlagsMapToProperties(t *testing.T) {
	for _, tc := range []struct {
		args []string
		prop string
		want string
	}{
		{[]string{"--timeout", "250"}, "linger.ms", "250"},
		{[]string{"--request-required-acks", "1"}, "acks", "1"},
		{[]string{"--request-timeout-ms", "4000"}, "request.timeout.ms", "4000"},
		{[]string{"--message-send-max-retries", "7"}, "retries", "7"},
		{[]string{"--retry-backoff-ms", "250"}, "retry.backoff.ms", "250"},
		{[]string{"--socket-buffer-size", "65536"}, "send.buffer.bytes", "65536"},
		{[]string{"--max-memory-bytes", "10000000"}, "buffer.memory", "10000000"},
		{[]string{"--batch-size", "2000"}, "batch.size", "2000"},
		{[]string{"--max-partition-memory-bytes", "3000"}, "batch.size", "3000"},
		{[]string{"--batch-size", "2000", "--max-partition-memory-bytes", "3000"}, "batch.size", "3000"},   // Java merges it last
		{[]string{"--producer-property", "batch.size=1000", "--batch-size", "2000"}, "batch.size", "2000"}, // the option wins
		{[]string{"--command-property", "linger.ms=9", "--timeout", "3"}, "linger.ms", "3"},
		{[]string{"--metadata-expiry-ms", "60000"}, "metadata.max.age.ms", "60000"},
		{[]string{"--max-block-ms", "5000"}, "max.block.ms", "5000"},
		{[]string{"--compression-codec", "lz4"}, "compression.type", "lz4"},
		{[]string{"--compression-codec"}, "compression.type", "gzip"},           // alone: gzip, as Java
		{[]string{"--compression-codec", "--sync"}, "compression.type", "gzip"}, // followed by an option
		{[]string{"--compression-codec=zstd"}, "compression.type", "zstd"},      // --name=value
		{[]string{"--producer-property", "linger.ms=42"}, "linger.ms", "42"},    // untouched without the option
	} {
		args := append([]string{"--topic", "t"}, tc.args...)
		a, err := parseArgs(produceFlags, args)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		cfg, closer, err := producerConfig("", append(append(a.all("producer-property"), a.all("command-property")...), consoleSettingProps(a)...),
			"127.0.0.1:1", 1, nil)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		closer()
		if got := cfg.Properties()[tc.prop]; got != tc.want {
			t.Errorf("%v: %s=%q, want %q", tc.args, tc.prop, got, tc.want)
		}
	}
}

// An option not given leaves the producer's default (not the Java tool's linger.ms=1000).
func TestProduceSettingFlagsAbsentLeaveDefaults(t *testing.T) {
	a, err := parseArgs(produceFlags, []string{"--topic", "t"})
	if err != nil {
		t.Fatal(err)
	}
	if kvs := consoleSettingProps(a); len(kvs) != 0 {
		t.Fatalf("no option given, yet %v", kvs)
	}
}

func TestToolsRejectUnknownFlagsByName(t *testing.T) {
	for _, args := range [][]string{
		{"perf", "--topic", "t", "--num-records", "1", "--record-size", "1", "--throughput", "-1", "--no-such-flag", "1"},
		{"produce", "--topic", "t", "--no-such-flag"},
	} {
		code, _, errOut := runCmd(t, "", args...)
		if code == 0 || !strings.Contains(errOut, "unknown option --no-such-flag") {
			t.Errorf("%v: exit %d, stderr %q: want a failure naming --no-such-flag", args, code, errOut)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"perf", "--version"}, {"produce", "--version"}} {
		code, out, errOut := runCmd(t, "", args...)
		if code != 0 || !strings.HasPrefix(out, "kprod ") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	if code, _, errOut := runCmd(t, "", "perf", "-h"); code != 0 || !strings.Contains(errOut, "--payload-monotonic") {
		t.Errorf("perf -h: exit %d, %q", code, errOut)
	}
}

func TestProduceReaderConfig(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Topic("rc", 1))
	file := filepath.Join(t.TempDir(), "reader.properties")
	if err := os.WriteFile(file, []byte("parse.key=true\nkey.separator=|\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The file's key.separator is overridden by --reader-property, its parse.key kept.
	code, _, errOut := runCmd(t, "k1:v1\n", "produce", "--bootstrap-server", c.BootstrapServers(), "--topic", "rc",
		"--reader-config", file, "--reader-property", "key.separator=:")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r := consume(t, c.BootstrapServers(), "rc", 1)[0]
	if string(r.Key) != "k1" || string(r.Value) != "v1" {
		t.Fatalf("key %q value %q, want k1 v1", r.Key, r.Value)
	}
}

func TestPerfPayloadMonotonicAndRangeKeys(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Topic("mono", 1))
	code, _, errOut := runCmd(t, "", "perf", "--topic", "mono", "--num-records", "20", "--payload-monotonic",
		"--key-distribution", "range", "--record-key-range", "3", "--throughput", "-1", "--bootstrap-server", c.BootstrapServers())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for i, r := range consume(t, c.BootstrapServers(), "mono", 20) { // one partition: send order
		if string(r.Value) != strconv.Itoa(i) || string(r.Key) != strconv.Itoa(i%3) {
			t.Fatalf("record %d: key %q value %q, want key %d value %d", i, r.Key, r.Value, i%3, i)
		}
	}
}

func TestPerfRandomKeysStayInRange(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Topic("rk", 1))
	code, _, errOut := runCmd(t, "", "perf", "--topic", "rk", "--num-records", "50", "--record-size", "5",
		"--key-distribution", "random", "--record-key-range", "4", "--random-seed", "7", "--throughput", "-1",
		"--bootstrap-server", c.BootstrapServers())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	seen := map[string]bool{}
	for _, r := range consume(t, c.BootstrapServers(), "rk", 50) {
		k, err := strconv.Atoi(string(r.Key))
		if err != nil || k < 0 || k >= 4 {
			t.Fatalf("key %q outside [0, 4)", r.Key)
		}
		seen[string(r.Key)] = true
	}
	if len(seen) < 2 {
		t.Fatalf("50 random keys took %d value(s)", len(seen))
	}
}

func TestPerfWarmupPrintsSteadyState(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Topic("wu", 1))
	code, out, errOut := runCmd(t, "", "perf", "--topic", "wu", "--num-records", "300", "--record-size", "10",
		"--warmup-records", "100", "--reporting-interval", "100000", "--throughput", "-1", "--bootstrap-server", c.BootstrapServers())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "300 records sent") || !strings.HasPrefix(lines[1], "200 steady state records sent") {
		t.Fatalf("output %q: want the whole run's summary, then the steady state's after 100 warmup records", out)
	}
}

func TestPerfRejectsBadNewFlags(t *testing.T) {
	base := []string{"perf", "--topic", "t", "--num-records", "10", "--throughput", "-1", "--bootstrap-server", "127.0.0.1:1"}
	for _, extra := range [][]string{
		{"--record-size", "1", "--payload-monotonic"},          // two payload kinds
		{"--payload-monotonic", "--warmup-records", "10"},      // warmup not fewer than the records
		{"--payload-monotonic", "--warmup-records", "-1"},      //
		{"--payload-monotonic", "--reporting-interval", "0"},   //
		{"--payload-monotonic", "--key-distribution", "range"}, // no --record-key-range
		{"--payload-monotonic", "--key-distribution", "zipf", "--record-key-range", "3"},
		{"--payload-monotonic", "--random-seed", "x"},
	} {
		if code, _, errOut := runCmd(t, "", append(base, extra...)...); code == 0 {
			t.Errorf("%v: exit 0, want an error (%s)", extra, errOut)
		}
	}
}
