package chaos

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kprod-io/kprod"
)

// fairLoad is TestFairPause's workload, which kprod's producer and Java's
// (testdata/FairPause.java) run alike: paced senders of fixed-size records, their
// acknowledgements counted per partition.
type fairLoad struct {
	topic      string
	partitions int32
	// byPartition: one sender per partition, each naming its partition (as a keyed
	// record's partition is fixed); otherwise one sender of unkeyed records.
	byPartition bool
	// uniform turns the adaptive partitioner off (partitioner.adaptive.partitioning.enable
	// =false): unkeyed records then go to every partition with a leader alike, however
	// many batches wait for it.
	uniform    bool
	rate       int // records/s per partition
	valueBytes int
	props      fairProps
}

// fairProps are the producer properties both producers get.
type fairProps struct {
	bufferMemory, partitionMax int64 // partitionMax 0: no bound (Java has none)
	batchSize                  int
	linger, maxBlock           time.Duration
	requestTimeout, delivery   time.Duration
}

// fairProducer is a fairLoad running.
type fairProducer interface {
	// counts returns the acknowledged records per partition and the failed ones.
	counts() (acked []int64, failed int64, err error)
	// stop ends the senders and closes the producer, which delivers what it holds; it
	// returns the failed records and the last failure.
	stop(ctx context.Context) (failed int64, lastErr string, err error)
}

// pace calls send perSecond times a second until ctx ends, as FairPause.java paces its
// threads: a sender behind its schedule by more than 100ms (its Send blocked) starts a
// new schedule rather than bursting to catch up, so that a producer that blocked does not
// look faster afterwards.
func pace(ctx context.Context, perSecond float64, send func()) {
	period := time.Duration(float64(time.Second) / perSecond)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	start := time.Now()
	for i := 0; ctx.Err() == nil; i++ {
		wait := time.Until(start.Add(time.Duration(i) * period))
		switch {
		case wait < -100*time.Millisecond:
			start, i = time.Now(), 0
		case wait > time.Millisecond:
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		}
		send()
	}
}

// kprodLoad is a fairLoad on kprod's producer, in this process.
type kprodLoad struct {
	p      *kprod.Producer
	cancel context.CancelFunc
	wg     sync.WaitGroup
	acked  []atomic.Int64
	// accepted counts the records Send took, per partition, of a byPartition load (nil
	// otherwise: the partitioner's choice is known only once acknowledged).
	accepted []atomic.Int64
	failed   atomic.Int64
	lastErr  atomic.Value
}

func startKprod(bootstrap []string, l fairLoad) (*kprodLoad, error) {
	pr := l.props
	cfg := kprod.Config{BootstrapServers: bootstrap,
		BufferMemory: pr.bufferMemory, BufferMemoryPartitionMax: pr.partitionMax,
		BatchSize: pr.batchSize, Linger: pr.linger, MaxBlock: pr.maxBlock,
		RequestTimeout: pr.requestTimeout, DeliveryTimeout: pr.delivery}
	if l.uniform {
		cfg.PartitionerAdaptive = kprod.ToggleOff
	}
	p, err := kprod.NewProducer(cfg, kprod.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	k := &kprodLoad{p: p, cancel: cancel, acked: make([]atomic.Int64, l.partitions)}
	value := make([]byte, l.valueBytes)
	sender := func(part kprod.OptionalPartition) func() {
		n, pinned := part.Get()
		return func() {
			err := p.Send(ctx, &kprod.Record{Topic: l.topic, Partition: part, Value: value}, func(md kprod.RecordMetadata, err error) {
				if err != nil {
					k.fail(err)
					return
				}
				k.acked[md.Partition].Add(1)
			})
			switch {
			case err == nil && pinned:
				k.accepted[n].Add(1)
			case err != nil && ctx.Err() == nil: // a Send that stop cut short is no failure
				k.fail(err)
			}
		}
	}
	if l.byPartition {
		k.accepted = make([]atomic.Int64, l.partitions)
		for part := range l.partitions {
			k.wg.Go(func() { pace(ctx, float64(l.rate), sender(kprod.InPartition(part))) })
		}
	} else {
		k.wg.Go(func() { pace(ctx, float64(l.rate)*float64(l.partitions), sender(kprod.OptionalPartition{})) })
	}
	return k, nil
}

func (k *kprodLoad) fail(err error) {
	k.failed.Add(1)
	k.lastErr.Store(err.Error())
}

func (k *kprodLoad) counts() ([]int64, int64, error) {
	out := make([]int64, len(k.acked))
	for i := range k.acked {
		out[i] = k.acked[i].Load()
	}
	return out, k.failed.Load(), nil
}

func (k *kprodLoad) stop(ctx context.Context) (int64, string, error) {
	k.cancel()
	k.wg.Wait()
	err := k.p.Close(ctx)
	last, _ := k.lastErr.Load().(string)
	return k.failed.Load(), last, err
}

// javaLoad is a fairLoad on Java's KafkaProducer: testdata/FairPause.java on the
// cluster's jars, driven over its stdin and stdout.
type javaLoad struct {
	cmd        *exec.Cmd
	in         io.WriteCloser
	out        *bufio.Scanner
	stderr     string // file name
	partitions int32
	mu         sync.Mutex // one request/answer at a time
}

func startJava(ctx context.Context, c *Cluster, bootstrap []string, l fairLoad, stderrDir string) (*javaLoad, error) {
	src, err := filepath.Abs(filepath.Join("testdata", "FairPause.java"))
	if err != nil {
		return nil, err
	}
	mode := "unkeyed"
	if l.byPartition {
		mode = "partition"
	}
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
	pr := l.props
	args := []string{strings.Join(bootstrap, ","), l.topic, mode, strconv.Itoa(l.rate),
		strconv.Itoa(l.valueBytes), strconv.Itoa(int(l.partitions)),
		"acks=all", "buffer.memory=" + strconv.FormatInt(pr.bufferMemory, 10),
		"batch.size=" + strconv.Itoa(pr.batchSize), "linger.ms=" + ms(pr.linger),
		"max.block.ms=" + ms(pr.maxBlock), "request.timeout.ms=" + ms(pr.requestTimeout),
		"delivery.timeout.ms=" + ms(pr.delivery),
		"partitioner.adaptive.partitioning.enable=" + strconv.FormatBool(!l.uniform)}
	cmd := c.Java(ctx, src, args...)
	j := &javaLoad{cmd: cmd, stderr: filepath.Join(stderrDir, "fairpause-java.stderr"), partitions: l.partitions}
	errFile, err := os.Create(j.stderr)
	if err != nil {
		return nil, err
	}
	defer errFile.Close() // the child holds its own descriptor
	cmd.Stderr = errFile
	if j.in, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	j.out = bufio.NewScanner(stdout)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	if line, err := j.line(); err != nil || line != "ready" {
		j.in.Close()
		cmd.Wait()
		return nil, fmt.Errorf("FairPause.java did not start (%q, %v): %s", line, err, j.stderrTail())
	}
	return j, nil
}

// line reads the program's next line of output.
func (j *javaLoad) line() (string, error) {
	if !j.out.Scan() {
		if err := j.out.Err(); err != nil {
			return "", err
		}
		return "", io.ErrUnexpectedEOF
	}
	return j.out.Text(), nil
}

func (j *javaLoad) stderrTail() string {
	b, _ := os.ReadFile(j.stderr)
	return tail(string(b), 1500)
}

func (j *javaLoad) counts() ([]int64, int64, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := io.WriteString(j.in, "count\n"); err != nil {
		return nil, 0, err
	}
	line, err := j.line()
	if err != nil {
		return nil, 0, fmt.Errorf("FairPause.java: %v: %s", err, j.stderrTail())
	}
	f := strings.Fields(line)
	if len(f) != int(j.partitions)+2 || f[0] != "count" {
		return nil, 0, fmt.Errorf("FairPause.java answered %q", line)
	}
	n := make([]int64, len(f)-1)
	for i, s := range f[1:] {
		if n[i], err = strconv.ParseInt(s, 10, 64); err != nil {
			return nil, 0, fmt.Errorf("FairPause.java answered %q", line)
		}
	}
	return n[:j.partitions], n[j.partitions], nil
}

// stop ends the program; the ctx startJava got bounds it.
func (j *javaLoad) stop(context.Context) (int64, string, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	_, err := io.WriteString(j.in, "stop\n")
	var line string
	if err == nil {
		line, err = j.line()
	}
	j.in.Close()
	if werr := j.cmd.Wait(); err == nil && werr != nil {
		err = werr
	}
	if err != nil {
		return 0, "", fmt.Errorf("FairPause.java: %v: %s", err, j.stderrTail())
	}
	f := strings.SplitN(line, " ", 3)
	if len(f) < 2 || f[0] != "closed" {
		return 0, "", fmt.Errorf("FairPause.java answered %q", line)
	}
	failed, _ := strconv.ParseInt(f[1], 10, 64)
	last := ""
	if len(f) == 3 {
		last = f[2]
	}
	return failed, last, nil
}
