package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kprod-io/kprod/internal/spool"
	"github.com/kprod-io/kprod/kafkatest"
)

// TestProduceSpoolChild is the kprod produce process TestProduceSpoolSurvivesKill kills;
// it does nothing unless run by it.
func TestProduceSpoolChild(t *testing.T) {
	args := os.Getenv("KPROD_PRODUCE_CHILD_ARGS")
	if args == "" {
		return
	}
	os.Exit(run(t.Context(), strings.Split(args, "\x1f"), os.Stdin, os.Stdout, os.Stderr))
}

// spooledRecords counts the whole frames in dir's segment files.
func spooledRecords(t *testing.T, dir string) int {
	files, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		res, _ := spool.Scan(data, nil)
		n += res.Records
	}
	return n
}

// TestProduceSpoolSurvivesKill: lines piped into kprod produce while the cluster is
// unreachable are in spool.dir once read; the process is killed with SIGKILL; the next
// kprod produce on that spool.dir, with the cluster up, delivers every line, in order.
func TestProduceSpoolSurvivesKill(t *testing.T) {
	dir := t.TempDir()
	const n = 50
	cmd := exec.Command(os.Args[0], "-test.run=^TestProduceSpoolChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "KPROD_PRODUCE_CHILD_ARGS="+strings.Join([]string{"produce",
		"--bootstrap-server", "127.0.0.1:1", "--topic", "lines", "--producer-property", "spool.dir=" + dir,
		"--producer-property", "spool.sync=none"}, "\x1f"))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		fmt.Fprintf(stdin, "line-%02d\n", i)
	}
	// stdin stays open: the tool is still reading when it dies. Wait until every line is
	// in the spool (observable in its files), then kill it.
	deadline := time.Now().Add(30 * time.Second)
	for spooledRecords(t, dir) < n {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("%d of %d lines spooled", spooledRecords(t, dir), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	stdin.Close()

	c := kafkatest.New(t, kafkatest.Topic("lines", 1))
	code, _, errOut := runCmd(t, "", "produce", "--bootstrap-server", c.BootstrapServers(), "--topic", "lines",
		"--producer-property", "spool.dir="+dir)
	if code != 0 || !strings.Contains(errOut, fmt.Sprintf("delivered %d line(s) left in spool.dir", n)) {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	recs := consume(t, c.BootstrapServers(), "lines", n)
	if len(recs) != n {
		t.Fatalf("read %d lines, want %d", len(recs), n)
	}
	for i, r := range recs {
		if want := fmt.Sprintf("line-%02d", i); string(r.Value) != want {
			t.Fatalf("line %d is %q, want %q", i, r.Value, want)
		}
	}
}

// TestProduceSpoolClusterDown: with the cluster unreachable to the end, kprod produce
// keeps the lines in spool.dir and exits 1 saying so.
func TestProduceSpoolClusterDown(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := runCmd(t, "a\nb\n", "produce", "--bootstrap-server", "127.0.0.1:1", "--topic", "lines",
		"--producer-property", "spool.dir="+dir, "--producer-property", "max.block.ms=300")
	if code != 1 || !strings.Contains(errOut, "2 line(s) not delivered yet: they stay in spool.dir="+dir) {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if got := spooledRecords(t, dir); got != 2 {
		t.Fatalf("%d lines in the spool, want 2", got)
	}
}
