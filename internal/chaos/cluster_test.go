package chaos

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"
)

// shared is the package's three-node cluster, started once by the first test that
// needs it and stopped by TestMain if a test started it.
var shared struct {
	once      sync.Once
	c         *Cluster
	bootstrap []string
	started   bool
	err       error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.started {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		if err := shared.c.Down(ctx); err != nil {
			os.Stderr.WriteString("chaos: stopping the test cluster: " + err.Error() + "\n")
		}
		cancel()
	}
	os.Exit(code)
}

// testCluster returns the package's three-node cluster ("chaostest", ports 19892-19894,
// controllers 19992-19994, in a cache folder of its own so no other package's tests
// are handed a cluster whose nodes these tests kill). Its tests run when
// KPROD_REQUIRE_KAFKA=1 (the full suite: failing to start Kafka fails the test) or
// KPROD_CHAOS=1 (failing to start Kafka skips it). KPROD_CHAOS_CLUSTER and
// KPROD_CHAOS_PORT move it to another scripts/kafka cluster and base port.
func testCluster(t *testing.T) (*Cluster, []string) {
	t.Helper()
	required := os.Getenv("KPROD_REQUIRE_KAFKA") == "1"
	if !required && os.Getenv("KPROD_CHAOS") != "1" {
		t.Skip("skipped: set KPROD_CHAOS=1 (or KPROD_REQUIRE_KAFKA=1) to run it on a real three-node cluster")
	}
	unavailable := func(format string, args ...any) {
		t.Helper()
		if required {
			t.Fatalf(format, args...)
		}
		t.Skipf(format, args...)
	}
	if _, err := exec.LookPath("java"); err != nil {
		unavailable("real Kafka needs Java: %v", err)
	}
	shared.once.Do(func() {
		root, err := RepoRoot()
		if err != nil {
			shared.err = err
			return
		}
		name, port := "chaostest", 19892
		if n := os.Getenv("KPROD_CHAOS_CLUSTER"); n != "" {
			name = n
		}
		if p, err := strconv.Atoi(os.Getenv("KPROD_CHAOS_PORT")); err == nil {
			port = p
		}
		shared.c = NewCluster(root, name, port)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		shared.bootstrap, shared.started, shared.err = shared.c.Up(ctx)
	})
	if shared.err != nil {
		unavailable("cannot start a three-node Kafka cluster: %v", shared.err)
	}
	return shared.c, shared.bootstrap
}
