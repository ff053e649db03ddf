package chaos

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testLog sends progress lines to t.Log.
type testLog struct{ t *testing.T }

func (w testLog) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// TestChaosShort runs a short chaos run (75s of faults; KPROD_CHAOS_DURATION changes it)
// with both producers on a three-node cluster of its own ("chaostest", ports 19892-19894,
// controllers 19992-19994), started with scripts/kafka and stopped at the end. It runs
// when KPROD_REQUIRE_KAFKA=1 (the full suite: failing to start Kafka fails the test) or
// KPROD_CHAOS=1 (failing to start Kafka skips it); KPROD_CHAOS_SEED fixes the seed.
// KPROD_CHAOS_CLUSTER and KPROD_CHAOS_PORT move it to another scripts/kafka cluster and
// base port (to run beside another suite's); KPROD_CHAOS_OUT names a folder that keeps
// the JSON report, kprod's debug log and the ledger of every send, to diagnose a failure.
func TestChaosShort(t *testing.T) {
	c, bootstrap := testCluster(t)
	duration := 75 * time.Second
	if d, err := time.ParseDuration(os.Getenv("KPROD_CHAOS_DURATION")); err == nil {
		duration = d
	}
	seed := time.Now().UnixNano() % 1_000_000_007
	if s, err := strconv.ParseInt(os.Getenv("KPROD_CHAOS_SEED"), 10, 64); err == nil {
		seed = s
	}
	ctx, cancel := context.WithTimeout(context.Background(), duration+15*time.Minute)
	defer cancel()

	t.Logf("seed %d (KPROD_CHAOS_SEED=%d reproduces the schedule), %s of faults", seed, seed, duration)
	o := Options{Bootstrap: bootstrap, Nodes: c, Duration: duration, Seed: seed,
		Transactional: true, Rate: 500, Log: testLog{t}}
	out := os.Getenv("KPROD_CHAOS_OUT")
	if out != "" {
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range []struct {
			w    *io.Writer
			name string
		}{{&o.ProducerLog, "producer.log"}, {&o.Ledger, "ledger"}} {
			file, err := os.Create(filepath.Join(out, fmt.Sprintf("chaos-%d.%s", seed, f.name)))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { file.Close() })
			*f.w = file
		}
	}
	rep, err := Run(ctx, o)
	if rep != nil {
		dir := out
		if dir == "" {
			dir = t.TempDir()
		}
		path := filepath.Join(dir, fmt.Sprintf("chaos-%d.report.json", seed))
		if werr := rep.WriteJSON(path); werr != nil {
			t.Log(werr)
		}
		for _, n := range rep.Notes {
			t.Log("note:", n)
		}
		for _, ex := range rep.Examples {
			t.Log("anomaly:", ex)
		}
		for _, l := range rep.Lines() {
			t.Log(l)
		}
	}
	if err != nil {
		t.Fatalf("chaos run did not complete: %v", err)
	}
	if rep.Counts.Acked == 0 || rep.Faults == 0 {
		t.Fatalf("nothing tested: acked=%d faults=%d", rep.Counts.Acked, rep.Faults)
	}
	if !rep.OK() {
		t.Fatalf("%d anomalies (seed %d)", rep.Anomalies(), seed)
	}
}
