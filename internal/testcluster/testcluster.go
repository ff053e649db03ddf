// Package testcluster hands a test a Kafka cluster: the embedded one (kafkatest), or a real
// Apache Kafka cluster that scripts/kafka started and published in its cache.
//
// Real Kafka is required when KPROD_REQUIRE_KAFKA=1 (CI and scripts/test set it): a test
// that needs it and cannot find it fails and says how to start it. Without that variable
// the test skips with the same explanation, so `go test ./...` works on a laptop with no
// Java while the full suite never silently skips.
package testcluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kprod-io/kprod/kafkatest"
)

// Cluster is a cluster a test may produce to.
type Cluster struct {
	// Kind is "embedded" or "real".
	Kind string
	// Bootstrap lists the brokers' host:port addresses.
	Bootstrap []string
	// Nodes is the number of brokers.
	Nodes int
	// Version is the Apache Kafka version of a real cluster ("" when embedded).
	Version string
	// Name is the scripts/kafka cluster name of a real cluster.
	Name string
	// Embedded is set when Kind is "embedded": its fault hooks are there.
	Embedded *kafkatest.Cluster

	root     string // repository root, for scripts/kafka
	security string // its security.env when started with `up --security`, else ""
	// dir is a real cluster's scripts/kafka state folder, <cache>/clusters/NAME.
	// Exclusive's lock lives there, not in the temporary folder: it belongs to this
	// cluster, and sandboxes that share /tmp but not the network run clusters of the
	// same name apart (their tests need not wait for one another).
	dir string
}

// BootstrapServers returns Bootstrap comma-separated.
func (c *Cluster) BootstrapServers() string { return strings.Join(c.Bootstrap, ",") }

// Required reports whether real Kafka is required (KPROD_REQUIRE_KAFKA=1).
func Required() bool { return os.Getenv("KPROD_REQUIRE_KAFKA") == "1" }

// Embedded starts an embedded cluster closed at the end of the test.
func Embedded(t testing.TB, opts ...kafkatest.Option) *Cluster {
	t.Helper()
	e := kafkatest.New(t, opts...)
	return &Cluster{Kind: "embedded", Bootstrap: e.Bootstrap(), Nodes: len(e.Bootstrap()), Embedded: e}
}

// Real returns a running real cluster with the given number of nodes that scripts/kafka
// published, failing (KPROD_REQUIRE_KAFKA=1) or skipping the test when there is none.
// When several match, a 4.x one is preferred, then the newest. Clusters with secure
// listeners are left to Secure: they deny by default, and their tests own them.
func Real(t testing.TB, nodes int) *Cluster {
	t.Helper()
	return RealVersion(t, nodes, "")
}

// RealVersion is Real restricted to versions starting with prefix ("3.9", "4"); "" is any.
func RealVersion(t testing.TB, nodes int, prefix string) *Cluster {
	t.Helper()
	cs, err := Find()
	if err != nil {
		absent(t, err.Error())
		return nil
	}
	var best *Cluster
	for _, c := range cs {
		if c.Nodes != nodes || !strings.HasPrefix(c.Version, prefix) || c.security != "" {
			continue
		}
		if best == nil || newer(c.Version, best.Version) {
			best = c
		}
	}
	if best == nil {
		var have []string
		for _, c := range cs {
			what := ""
			if c.security != "" {
				what = ", secure"
			}
			have = append(have, fmt.Sprintf("%s (%d nodes, Kafka %s%s)", c.Name, c.Nodes, c.Version, what))
		}
		absent(t, fmt.Sprintf("no running %d-node Kafka %s* cluster (running: %s)",
			nodes, prefix, strings.Join(have, ", ")))
		return nil
	}
	return best
}

func absent(t testing.TB, why string) {
	t.Helper()
	absentKind(t, "real Kafka", why, "`scripts/kafka up --nodes N`")
}

// absentKind fails (KPROD_REQUIRE_KAFKA=1) or skips the test: what is missing, why, and
// the command that starts it.
func absentKind(t testing.TB, what, why, start string) {
	t.Helper()
	Absent(t, what, why, "start one with "+start+" (or run the full suite with scripts/test)")
}

// Absent fails the test when KPROD_REQUIRE_KAFKA=1, else skips it, saying what is
// absent (real Kafka, a schema registry), why, and how to get it; Main counts the skips
// and tells the user once that tests were skipped.
func Absent(t testing.TB, what, why, how string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s required (KPROD_REQUIRE_KAFKA=1) but absent: %s; %s", what, why, how)
	}
	recordSkip(what)
	t.Skipf("%s absent: %s; %s", what, why, how)
}

// Find lists the real clusters scripts/kafka published whose every node answers on its port.
func Find() ([]*Cluster, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	cache := os.Getenv("KPROD_KAFKA_CACHE")
	if cache == "" {
		cache = filepath.Join(root, ".cache", "kafka")
	}
	dirs, _ := filepath.Glob(filepath.Join(cache, "clusters", "*"))
	sort.Strings(dirs)
	var out []*Cluster
	for _, dir := range dirs {
		c, err := load(dir)
		if err != nil {
			continue
		}
		c.root = root
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no cluster published under %s", filepath.Join(cache, "clusters"))
	}
	return out, nil
}

func load(dir string) (*Cluster, error) {
	read := func(name string) string {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		return strings.TrimSpace(string(b))
	}
	boot := read("bootstrap")
	nodes, err := strconv.Atoi(read("nodes"))
	if boot == "" || err != nil {
		return nil, errors.New("incomplete")
	}
	c := &Cluster{Kind: "real", Bootstrap: strings.Split(boot, ","), Nodes: nodes,
		Version: read("version"), Name: filepath.Base(dir), dir: dir}
	if _, err := os.Stat(filepath.Join(dir, "security.env")); err == nil {
		c.security = filepath.Join(dir, "security.env")
	}
	// A cluster counts only if at least one node answers now; a test that kills nodes
	// checks the others itself.
	for _, addr := range c.Bootstrap {
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			return c, nil
		}
	}
	return nil, errors.New("not answering")
}

// RepoRoot finds the folder holding this module's go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		f, err := os.Open(filepath.Join(dir, "go.mod"))
		if err == nil {
			sc := bufio.NewScanner(f)
			sc.Scan()
			f.Close()
			if strings.TrimSpace(sc.Text()) == "module github.com/kprod-io/kprod" {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("kprod module root not found above the working directory")
		}
		dir = parent
	}
}

func newer(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		x, _ := strconv.Atoi(pa[i])
		y, _ := strconv.Atoi(pb[i])
		if x != y {
			return x > y
		}
	}
	return len(pa) > len(pb)
}

// Exclusive holds the cluster for this test alone until it ends: tests in other packages
// (go test runs packages in parallel) that also call Exclusive wait. Tests that kill,
// pause or restart nodes must call it; tests that only produce need not.
func (c *Cluster) Exclusive(t testing.TB) {
	t.Helper()
	if c.Kind != "real" {
		return
	}
	t.Cleanup(lockFile(t, filepath.Join(c.dir, "exclusive.lock")))
}

// lockFile takes an exclusive lock on path (created if need be), shared by every test
// process on this machine that uses path, and returns its release.
func lockFile(t testing.TB, path string) (unlock func()) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatalf("lock %s: %v", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		t.Fatalf("lock %s: %v", path, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}
}

// Script runs scripts/kafka on this real cluster (kill N, start N, pause N, resume N, java
// CLASS ...) and returns its combined output.
func (c *Cluster) Script(args ...string) (string, error) {
	if c.Kind != "real" {
		return "", errors.New("scripts/kafka acts on real clusters only")
	}
	cmd := exec.Command(filepath.Join(c.root, "scripts", "kafka"), append([]string{"--cluster", c.Name}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("scripts/kafka %s: %w: %s", strings.Join(args, " "), err, tail(string(out), 2000))
	}
	return string(out), nil
}

// Java runs a Kafka tool class (TopicCommand, ConsoleConsumer, ConsoleProducer,
// ProducerPerformance or a full class name) on the cluster's own jars, with stdin, and
// returns stdout and stderr separately.
func (c *Cluster) Java(stdin string, class string, args ...string) (stdout, stderr string, err error) {
	return c.JavaWith(nil, stdin, class, args...)
}

// JavaWith is Java with extra JVM flags (KPROD_KAFKA_JAVA_OPTS), e.g. a system property
// such as -Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=URL. The tool is killed if it
// runs longer than five minutes.
func (c *Cluster) JavaWith(jvm []string, stdin string, class string, args ...string) (stdout, stderr string, err error) {
	if c.Kind != "real" {
		return "", "", errors.New("the Java tools run against real clusters only")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(c.root, "scripts", "kafka"), append([]string{"--cluster", c.Name, "java", class}, args...)...)
	if len(jvm) > 0 {
		cmd.Env = append(os.Environ(), "KPROD_KAFKA_JAVA_OPTS="+strings.Join(jvm, " "))
	}
	cmd.Stdin = strings.NewReader(stdin)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	if err != nil {
		err = fmt.Errorf("%s: %w: %s", class, err, tail(e.String(), 2000))
	}
	return o.String(), e.String(), err
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
