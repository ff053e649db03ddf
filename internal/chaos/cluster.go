package chaos

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Nodes injects process faults into the brokers of a cluster, by node id (1..n).
type Nodes interface {
	// Kill sends SIGKILL to node n.
	Kill(ctx context.Context, n int) error
	// Stop shuts node n down cleanly (SIGTERM) and waits for it to exit.
	Stop(ctx context.Context, n int) error
	// Start starts node n and waits until it serves requests.
	Start(ctx context.Context, n int) error
	// Pause sends SIGSTOP to node n; Resume SIGCONT.
	Pause(ctx context.Context, n int) error
	Resume(ctx context.Context, n int) error
}

// Cluster is a real Kafka cluster that scripts/kafka runs. Its state lives in a cache
// folder of its own (the main cache's "chaos" subfolder, sharing the jars), so the test
// suite's cluster discovery (internal/testcluster) never hands it to other tests while
// the chaos run kills its nodes.
type Cluster struct {
	// Root is the repository root (it holds scripts/kafka).
	Root string
	// Name is the scripts/kafka cluster name.
	Name string
	// Port is the base client port; node i listens on Port+i-1, its controller on
	// Port+100+i-1.
	Port int
	// Cache is the KPROD_KAFKA_CACHE this cluster lives in.
	Cache string
}

// NewCluster describes the cluster name on port under the repository root; it starts
// nothing.
func NewCluster(root, name string, port int) *Cluster {
	main := os.Getenv("KPROD_KAFKA_CACHE")
	if main == "" {
		main = filepath.Join(root, ".cache", "kafka")
	}
	return &Cluster{Root: root, Name: name, Port: port, Cache: filepath.Join(main, "chaos")}
}

// stateDir is where scripts/kafka keeps the cluster's pid files and logs.
func (c *Cluster) stateDir() string { return filepath.Join(c.Cache, "clusters", c.Name) }

// prepareCache links the main cache's jars and version lists into ours, so starting the
// chaos cluster resolves nothing again.
func (c *Cluster) prepareCache() error {
	if err := os.MkdirAll(c.Cache, 0o755); err != nil {
		return err
	}
	main := filepath.Dir(c.Cache)
	for _, d := range []string{"jars", "versions"} {
		if err := os.MkdirAll(filepath.Join(main, d), 0o755); err != nil {
			return err
		}
		link := filepath.Join(c.Cache, d)
		if _, err := os.Lstat(link); err == nil {
			continue
		}
		if err := os.Symlink(filepath.Join("..", d), link); err != nil {
			return err
		}
	}
	return nil
}

// command is scripts/kafka --cluster Name args... in our cache, not started.
func (c *Cluster) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.Root, "scripts", "kafka"), append([]string{"--cluster", c.Name}, args...)...)
	cmd.Env = append(os.Environ(), "KPROD_KAFKA_CACHE="+c.Cache, "KPROD_KAFKA_CLUSTER=")
	return cmd
}

// Java is the command running a Kafka tool class, or a single-file Java program by its
// path, on the cluster's own jars (scripts/kafka java), not started: the caller wires
// its stdin and stdout. ctx's end kills it.
func (c *Cluster) Java(ctx context.Context, class string, args ...string) *exec.Cmd {
	return c.command(ctx, append([]string{"java", class}, args...)...)
}

// script runs scripts/kafka --cluster Name args... in our cache.
func (c *Cluster) script(ctx context.Context, args ...string) (string, error) {
	out, err := c.command(ctx, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("scripts/kafka --cluster %s %s: %w: %s", c.Name, strings.Join(args, " "), err, tail(string(out), 1500))
	}
	return string(out), nil
}

// Running reports whether all three nodes of the cluster run (paused counts as running).
func (c *Cluster) Running(ctx context.Context) bool {
	out, err := c.script(ctx, "status")
	if err != nil {
		return false
	}
	n := 0
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "node ") && (strings.Contains(l, ": running") || strings.Contains(l, ": paused")) {
			n++
		}
	}
	return n == 3
}

// Up starts the three-node cluster unless it already runs, and returns its bootstrap
// servers and whether it started it (the caller then stops it with Down).
func (c *Cluster) Up(ctx context.Context) (bootstrap []string, started bool, err error) {
	if err := c.prepareCache(); err != nil {
		return nil, false, fmt.Errorf("chaos: cache %s: %w", c.Cache, err)
	}
	started = !c.Running(ctx)
	out, err := c.script(ctx, "up", "--nodes", "3", "--port", strconv.Itoa(c.Port))
	if err != nil {
		return nil, started, err
	}
	for _, l := range strings.Split(out, "\n") {
		if b, ok := strings.CutPrefix(strings.TrimSpace(l), "BOOTSTRAP="); ok {
			return strings.Split(b, ","), started, nil
		}
	}
	return nil, started, fmt.Errorf("chaos: scripts/kafka up printed no BOOTSTRAP line: %s", tail(out, 500))
}

// Down stops the cluster and deletes its data.
func (c *Cluster) Down(ctx context.Context) error {
	_, err := c.script(ctx, "down")
	return err
}

// Kill implements Nodes.
func (c *Cluster) Kill(ctx context.Context, n int) error {
	_, err := c.script(ctx, "kill", strconv.Itoa(n))
	return err
}

// Start implements Nodes.
func (c *Cluster) Start(ctx context.Context, n int) error {
	_, err := c.script(ctx, "start", strconv.Itoa(n))
	return err
}

// Pause implements Nodes.
func (c *Cluster) Pause(ctx context.Context, n int) error {
	_, err := c.script(ctx, "pause", strconv.Itoa(n))
	return err
}

// Resume implements Nodes.
func (c *Cluster) Resume(ctx context.Context, n int) error {
	_, err := c.script(ctx, "resume", strconv.Itoa(n))
	return err
}

// Stop implements Nodes. scripts/kafka has no command to stop one node cleanly, so it
// signals the pid scripts/kafka recorded, after checking that the process is that node's
// broker, and waits up to a minute before falling back to SIGKILL.
func (c *Cluster) Stop(ctx context.Context, n int) error {
	pid, err := c.nodePid(n)
	if err != nil {
		return err
	}
	syscall.Kill(pid, syscall.SIGCONT) // a paused JVM cannot handle SIGTERM
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return fmt.Errorf("chaos: SIGTERM node %d (pid %d): %w", n, pid, err)
	}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if !c.isNode(pid, n) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	syscall.Kill(pid, syscall.SIGKILL)
	return fmt.Errorf("chaos: node %d (pid %d) ignored SIGTERM for a minute; killed", n, pid)
}

func (c *Cluster) nodePid(n int) (int, error) {
	b, err := os.ReadFile(filepath.Join(c.stateDir(), fmt.Sprintf("node%d", n), "pid"))
	if err != nil {
		return 0, fmt.Errorf("chaos: node %d has no pid file: %w", n, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || !c.isNode(pid, n) {
		return 0, fmt.Errorf("chaos: node %d is not running", n)
	}
	return pid, nil
}

// isNode reports whether pid is alive and is node n's broker (not a reused pid).
func (c *Cluster) isNode(pid, n int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// A zombie (state Z) has exited but not been reaped yet.
		if i := strings.LastIndexByte(string(st), ')'); i > 0 && i+2 < len(st) && st[i+2] == 'Z' {
			return false
		}
	}
	props := filepath.Join(c.stateDir(), fmt.Sprintf("node%d", n), "server.properties")
	return strings.Contains(strings.ReplaceAll(string(b), "\x00", " "), "kafka.Kafka "+props)
}

// RepoRoot finds the folder holding the kprod module's go.mod, from the working
// directory up.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			first, _, _ := strings.Cut(string(b), "\n")
			if strings.TrimSpace(first) == "module github.com/kprod-io/kprod" {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("chaos: kprod module root not found above the working directory")
		}
		dir = parent
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
