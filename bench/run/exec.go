package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kprod-io/kprod/bench/drivers"
)

// pinner prefixes commands with taskset when it exists, so the sink (or broker) and
// the client each own one core.
type pinner struct {
	taskset string // path, "" when missing
}

func (p pinner) command(ctx context.Context, core string, name string, args ...string) *exec.Cmd {
	if p.taskset == "" || core == "" {
		return exec.CommandContext(ctx, name, args...)
	}
	return exec.CommandContext(ctx, p.taskset, append([]string{"-c", core, name}, args...)...)
}

// build compiles the sink and the driver into dir.
func build(ctx context.Context, benchDir, dir string) error {
	for _, b := range []struct{ out, pkg string }{{"sink", "./cmd/sink"}, {"driver", "./cmd/driver"}} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(dir, b.out), b.pkg)
		cmd.Dir = benchDir
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
		}
	}
	return nil
}

// sinkProc is a running sink process.
type sinkProc struct {
	cmd   *exec.Cmd
	Addr  string `json:"addr"`
	HTTP  string `json:"http"`
	TLSCA string `json:"-"` // the CA clients trust, for a TLS sink
}

// startSink starts a sink; with caFile set it serves TLS with a self-signed certificate
// whose CA it writes there.
func startSink(ctx context.Context, pin pinner, core, bin string, verify bool, caFile, logFile string) (*sinkProc, error) {
	args := []string{"-addr", "127.0.0.1:0", "-http", "127.0.0.1:0"}
	if verify {
		args = append(args, "-verify")
	}
	if caFile != "" {
		args = append(args, "-tls", "-tls-ca-out", caFile)
	}
	cmd := pin.command(ctx, core, bin, args...)
	logf, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &sinkProc{cmd: cmd, TLSCA: caFile}
	line, err := bufio.NewReader(out).ReadBytes('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("sink did not start: %v (see %s)", err, logFile)
	}
	if err := json.Unmarshal(line, s); err != nil {
		return nil, fmt.Errorf("sink said %q: %w", line, err)
	}
	return s, nil
}

// sinkPair is a counting sink and a verifying one (in verify mode unless -verify=false)
// on the sink core, both plaintext or both TLS.
type sinkPair struct {
	counting, verifying *sinkProc
}

func startSinks(ctx context.Context, c config, pin pinner, bin string, tls bool) (*sinkPair, error) {
	suffix, caFile := "", func(string) string { return "" }
	if tls {
		suffix = "-tls"
		caFile = func(name string) string { return filepath.Join(bin, name+"-ca.pem") }
	}
	var p sinkPair
	var err error
	p.counting, err = startSink(ctx, pin, c.SinkCore, filepath.Join(bin, "sink"), false, caFile("counting"),
		filepath.Join(bin, "sink-counting"+suffix+".log"))
	if err != nil {
		return nil, err
	}
	p.verifying, err = startSink(ctx, pin, c.SinkCore, filepath.Join(bin, "sink"), c.Verify, caFile("verifying"),
		filepath.Join(bin, "sink"+suffix+".log"))
	if err != nil {
		p.counting.stop()
		return nil, err
	}
	log.Printf("sinks on %s (counting) and %s (verify=%v, tls=%v), pinned to core %s; clients on core %s",
		p.counting.Addr, p.verifying.Addr, c.Verify, tls, c.SinkCore, c.ClientCore)
	return &p, nil
}

func (p *sinkPair) stop() {
	p.counting.stop()
	p.verifying.stop()
}

func (s *sinkProc) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

// topicStats is the sink's answer for one topic.
type topicStats struct {
	Records    int64   `json:"records"`
	Batches    int64   `json:"batches"`
	WireBytes  int64   `json:"wire_bytes"`
	ValueBytes int64   `json:"value_bytes"`
	Errors     int64   `json:"errors"`
	LastError  string  `json:"last_error"`
	CPUSeconds float64 `json:"cpu_seconds"`
}

func (s *sinkProc) topic(name string) (topicStats, error) {
	var ts topicStats
	resp, err := http.Get("http://" + s.HTTP + "/stats?topic=" + name)
	if err != nil {
		return ts, err
	}
	defer resp.Body.Close()
	return ts, json.NewDecoder(resp.Body).Decode(&ts)
}

// runSpec is one driver run.
type runSpec struct {
	Client   string
	Scenario scenario
	Brokers  string
	Topic    string
	Records  int
	Warmup   int
	Rate     int
	Profile  string
	Create   bool
	TLSCA    string // the CA file of Brokers' TLS listener, for TLS scenarios
	settings settings
}

// batchBytes is the scenario's batch size, else the runner's.
func (r runSpec) batchBytes() int {
	if r.Scenario.BatchBytes > 0 {
		return r.Scenario.BatchBytes
	}
	return r.settings.BatchBytes
}

// settings are the knobs equal for every run.
type settings struct {
	Payloads    int
	BatchBytes  int
	BufferBytes int
}

func (r runSpec) args() []string {
	s := r.Scenario
	a := []string{"-client", r.Client, "-brokers", r.Brokers, "-topic", r.Topic,
		"-partitions", strconv.Itoa(s.Partitions), "-records", strconv.Itoa(r.Records),
		"-warmup", strconv.Itoa(r.Warmup), "-value-size", strconv.Itoa(s.ValueSize),
		"-payloads", strconv.Itoa(r.settings.Payloads), "-compression", s.Compression,
		"-acks", s.Acks, "-idempotent=" + strconv.FormatBool(s.Idempotent),
		"-linger", strconv.Itoa(s.LingerMs), "-batch-bytes", strconv.Itoa(r.batchBytes()),
		"-buffer-bytes", strconv.Itoa(r.settings.BufferBytes)}
	o := s.options(r.Client)
	if o.Keys > 0 {
		a = append(a, "-keys", strconv.Itoa(o.Keys))
	}
	if o.Goroutines > 0 {
		a = append(a, "-goroutines", strconv.Itoa(o.Goroutines))
	}
	if s.TLS {
		a = append(a, "-tls-ca", r.TLSCA)
	}
	if o.Observe {
		a = append(a, "-observe")
	}
	if r.Rate > 0 {
		a = append(a, "-rate", strconv.Itoa(r.Rate))
	}
	if r.Profile != "" {
		a = append(a, "-cpuprofile", r.Profile)
	}
	if !r.Create {
		a = append(a, "-create-topic=false")
	}
	return a
}

// runDriver runs the driver binary pinned to core and decodes its JSON line.
func runDriver(ctx context.Context, pin pinner, core, bin string, r runSpec) (drivers.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	cmd := pin.command(ctx, core, bin, r.args()...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	var res drivers.Result
	if err := cmd.Run(); err != nil {
		return res, fmt.Errorf("%v: %s", err, lastLines(stderr.String(), 3))
	}
	if err := json.Unmarshal(bytes.TrimSpace(lastLine(stdout.Bytes())), &res); err != nil {
		return res, fmt.Errorf("driver output %q: %w", stdout.String(), err)
	}
	return res, nil
}

func lastLine(b []byte) []byte {
	b = bytes.TrimRight(b, "\n")
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return b
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// childrenCPU returns the user+system CPU time of this process's waited-for children
// and their descendants (getrusage RUSAGE_CHILDREN): how the JVM's CPU is measured.
func childrenCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
