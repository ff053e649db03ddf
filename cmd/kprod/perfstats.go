package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kprod-io/kprod"
)

// perfStats is Java ProducerPerformance's Stats: a window line every 5 s and a summary
// with latency percentiles from sampled latencies (at most 500,000 samples).
//
// The tool must not be the bottleneck it measures (issue 13: it once spent 2.7x the
// library's CPU per record). Every record shares one callback, bound once; a record's
// latency is its RecordMetadata's Timing.Latency, which the producer derives per batch,
// so the tool reads no clock per record; and the counters take no lock, since kprod
// runs every callback on one goroutine.
type perfStats struct {
	out, errOut io.Writer
	total       int64
	start       time.Time
	sampling    int64
	errors      atomic.Int64
	done        atomic.Int64 // records completed, published every 1,024 for the progress bar

	// The callback goroutine's alone while records complete; the sending goroutine reads
	// them for the summary after Close, which waits for every callback.
	completed          int64
	count, bytes       int64
	totalLatency, maxL int64
	latencies          []int32
	iteration          int64
	// window
	windowStart                            time.Time
	windowCount, windowBytes, windowTotalL int64
	windowMaxL                             int64
	// windowDue is set every --reporting-interval; the next callback prints the window
	// line, as Java's Stats.record prints it from the callback once the interval passed.
	windowDue atomic.Bool

	// steady summarises the records after --warmup-records apart (Kafka 4.x's
	// steady-state Stats); nil without warmup. Its start is set when the first record
	// after the warmup is sent.
	steady   *perfStats
	warmup   int64
	interval time.Duration // --reporting-interval

	cb     func(kprod.RecordMetadata, error) // s.onDone, bound once
	outMu  sync.Mutex                        // orders the window lines and the progress bar
	stop   chan struct{}
	wg     sync.WaitGroup
	isTerm bool
}

func newPerfStats(total int64, interval time.Duration, warmup int64, out, errOut io.Writer) *perfStats {
	s := &perfStats{out: out, errOut: errOut, total: total, start: time.Now(), stop: make(chan struct{}), interval: interval}
	s.cb = s.onDone
	if warmup > 0 {
		s.warmup = warmup
		s.steady = &perfStats{out: out, errOut: errOut, total: total - warmup, sampling: 1}
		if s.steady.total > 500000 {
			s.steady.sampling = s.steady.total / 500000
		}
	}
	s.windowStart = s.start
	s.sampling = 1
	if total > 500000 {
		s.sampling = total / 500000
	}
	s.latencies = make([]int32, 0, min(total/s.sampling+1, 500001))
	if f, ok := errOut.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			s.isTerm = true
		}
	}
	s.wg.Add(1)
	go s.ticker()
	return s
}

// onDone is every record's send callback.
func (s *perfStats) onDone(md kprod.RecordMetadata, err error) {
	if s.completed++; s.completed&1023 == 0 {
		s.done.Store(s.completed)
	}
	if err != nil {
		if s.errors.Add(1) <= 5 {
			fmt.Fprintf(s.errOut, "kprod perf: error sending a record: %v\n", err)
		}
		return
	}
	// Java's latency is whole milliseconds from send to completion.
	s.record(md.Timing.Latency.Milliseconds(), int64(max(md.SerializedValueSize, 0)))
	if s.windowDue.Load() {
		s.windowDue.Store(false)
		s.printWindow()
	}
}

func (s *perfStats) record(latency, size int64) {
	s.count++
	s.bytes += size
	s.totalLatency += latency
	s.maxL = max(s.maxL, latency)
	s.windowCount++
	s.windowBytes += size
	s.windowTotalL += latency
	s.windowMaxL = max(s.windowMaxL, latency)
	if s.iteration%s.sampling == 0 {
		s.latencies = append(s.latencies, int32(latency))
	}
	if s.steady != nil && s.iteration >= s.warmup {
		s.steady.record(latency, size) // completions come in send order per partition
	}
	s.iteration++
}

// beginSteady starts the steady-state figures: the warmup records have been sent. Called
// on the sending goroutine, which alone reads steady.start (printTotal, after Close).
func (s *perfStats) beginSteady() { s.steady.start = time.Now() }

func (s *perfStats) ticker() {
	defer s.wg.Done()
	window := time.NewTicker(s.interval)
	defer window.Stop()
	var bar <-chan time.Time
	if s.isTerm {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		bar = t.C
	}
	for {
		select {
		case <-s.stop:
			return
		case <-window.C:
			s.windowDue.Store(true)
		case <-bar:
			s.printBar()
		}
	}
}

// printWindow prints the window line; on the callback goroutine.
func (s *perfStats) printWindow() {
	now := time.Now()
	el := now.Sub(s.windowStart).Seconds()
	line := fmt.Sprintf("%d records sent, %.1f records/sec (%.2f MB/sec), %.1f ms avg latency, %.1f ms max latency.\n",
		s.windowCount, float64(s.windowCount)/el, float64(s.windowBytes)/el/1024/1024,
		float64(s.windowTotalL)/float64(max(s.windowCount, 1)), float64(s.windowMaxL))
	s.windowStart, s.windowCount, s.windowBytes, s.windowTotalL, s.windowMaxL = now, 0, 0, 0, 0
	s.outMu.Lock()
	defer s.outMu.Unlock()
	if s.isTerm {
		fmt.Fprint(s.errOut, "\r\033[K")
	}
	fmt.Fprint(s.out, line)
}

func (s *perfStats) printBar() {
	done := s.done.Load()
	frac := 1.0
	if s.total > 0 {
		frac = float64(done) / float64(s.total)
	}
	const width = 30
	fill := int(frac * width)
	rate := float64(done) / time.Since(s.start).Seconds()
	s.outMu.Lock()
	defer s.outMu.Unlock()
	fmt.Fprintf(s.errOut, "\r\033[K[%s%s] %3.0f%% %d/%d records, %.0f records/sec",
		strings.Repeat("=", fill), strings.Repeat(" ", width-fill), frac*100, done, s.total, rate)
}

// finish stops the window lines and prints the summary.
func (s *perfStats) finish() {
	close(s.stop)
	s.wg.Wait()
	if s.isTerm {
		fmt.Fprint(s.errOut, "\r\033[K")
	}
	s.printTotal("")
	if s.steady != nil {
		s.steady.printTotal(" steady state") // Kafka 4.x's second line with --warmup-records
	}
}

// printTotal prints the summary line; label follows the count.
func (s *perfStats) printTotal(label string) {
	el := time.Since(s.start).Seconds()
	lat := slices.Clone(s.latencies)
	slices.Sort(lat)
	pct := func(p float64) int32 {
		if len(lat) == 0 {
			return 0
		}
		return lat[int(p*float64(len(lat)))]
	}
	fmt.Fprintf(s.out, "%d%s records sent, %f records/sec (%.2f MB/sec), %.2f ms avg latency, %.2f ms max latency, %d ms 50th, %d ms 95th, %d ms 99th, %d ms 99.9th.\n",
		s.count, label, float64(s.count)/el, float64(s.bytes)/el/1024/1024, float64(s.totalLatency)/float64(max(s.count, 1)),
		float64(s.maxL), pct(0.5), pct(0.95), pct(0.99), pct(0.999))
}

// throttler is Java's ThroughputThrottler: it sleeps whenever sending runs ahead of the
// target rate.
type throttler struct {
	target float64
	start  time.Time
}

func newThrottler(target float64, start time.Time) *throttler {
	return &throttler{target: target, start: start}
}

func (t *throttler) shouldThrottle(sent int64, now time.Time) bool {
	if t.target <= 0 {
		return false
	}
	return float64(sent) > now.Sub(t.start).Seconds()*t.target
}

func (t *throttler) throttle(ctx context.Context) {
	timer := time.NewTimer(time.Millisecond)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
}
