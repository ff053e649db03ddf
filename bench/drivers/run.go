package drivers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"syscall"
	"time"
)

// producer is one client behind the common loop.
type producer interface {
	// send hands record i (payload i mod len) to the client without waiting for it; s is
	// nil in throughput mode, else the latency slot the acknowledgement must reach via
	// tracker.slotDone. Acknowledgements of s == nil records go to tracker.ack.
	send(ctx context.Context, i int, s *slot) error
	// flush asks the client to send what it buffers now (it may also wait).
	flush(ctx context.Context) error
	close()
	// notes says where the client departs from the options (e.g. no idempotence).
	notes() []string
}

// newProducer builds a client for o; records are payloads[i % len(payloads)].
type newProducer func(o *Options, payloads [][]byte, tr *tracker) (producer, error)

var registry = map[string]newProducer{}

// Result is what one run prints as a JSON line.
type Result struct {
	Client           string   `json:"client"`
	Records          int64    `json:"records"`
	Warmup           int      `json:"warmup"`
	Seconds          float64  `json:"seconds"`
	SendSeconds      float64  `json:"send_seconds"` // until the last record was handed to the client
	RecordsPerSec    float64  `json:"records_per_sec"`
	MBPerSec         float64  `json:"mb_per_sec"` // value bytes, 1e6 bytes per MB
	CPUSeconds       float64  `json:"cpu_seconds"`
	CPUNsPerRecord   float64  `json:"cpu_ns_per_record"`
	MallocsPerRecord float64  `json:"mallocs_per_record"`
	BytesPerRecord   float64  `json:"bytes_per_record"` // Go heap bytes allocated
	GCCycles         uint32   `json:"gc_cycles"`
	MinorFaults      *int64   `json:"minor_faults,omitempty"` // page faults of the measured phase (getrusage ru_minflt); nil: not measured
	PeakRSSMiB       float64  `json:"peak_rss_mib,omitempty"` // the process's resident high-water mark over its whole life (getrusage ru_maxrss)
	Failed           int64    `json:"failed"`
	FirstError       string   `json:"first_error,omitempty"`
	Rate             int      `json:"rate,omitempty"`
	LatencyP50Us     float64  `json:"latency_p50_us,omitempty"`
	LatencyP99Us     float64  `json:"latency_p99_us,omitempty"`
	LatencyP999Us    float64  `json:"latency_p999_us,omitempty"`
	LatencyMaxUs     float64  `json:"latency_max_us,omitempty"`
	GOMAXPROCS       int      `json:"gomaxprocs"`
	Goroutines       int      `json:"goroutines"` // senders sharing the records
	Notes            []string `json:"notes,omitempty"`
}

// Run runs one measured send of o.Records records with o.Client.
func Run(ctx context.Context, o Options) (Result, error) {
	if err := o.Validate(); err != nil {
		return Result{}, err
	}
	payloads := o.payloads
	if payloads == nil {
		payloads = Payloads(o.Payloads, o.ValueSize, o.Seed)
	}
	if o.CreateTopic {
		if err := createTopic(ctx, o.Brokers, o.Topic, o.Partitions, o.TLSCA); err != nil {
			return Result{}, err
		}
	}
	tr := newTracker(o.Rate > 0)
	p, err := registry[o.Client](&o, payloads, tr)
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", o.Client, err)
	}
	defer p.close()
	res := Result{Client: o.Client, Records: int64(o.Records), Warmup: o.Warmup, Rate: o.Rate,
		GOMAXPROCS: runtime.GOMAXPROCS(0), Goroutines: max(o.Goroutines, 1), Notes: p.notes()}

	// Warm-up: connections, metadata, producer id, pools; not measured.
	tr.phase(int64(o.Warmup))
	if err := sendAll(ctx, p, tr, o, 0, o.Warmup, false); err != nil {
		return res, fmt.Errorf("warm-up: %w", err)
	}
	if err := wait(ctx, p, tr); err != nil {
		return res, fmt.Errorf("warm-up: %w", err)
	}
	if tr.failed.Load() > 0 {
		return res, fmt.Errorf("warm-up: %d records failed: %s", tr.failed.Load(), *tr.firstErr.Load())
	}

	tr.phase(int64(o.Records))
	if o.Rate > 0 {
		tr.lat = make([]int64, o.Records)
		tr.period = 1e9 / float64(o.Rate)
	}
	if o.MemProfile != "" {
		runtime.MemProfileRate = 1
	}
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	if o.CPUProfile != "" {
		f, err := os.Create(o.CPUProfile)
		if err != nil {
			return res, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return res, err
		}
	}
	cpu0, flt0 := processCPU()
	t0 := time.Now()
	err = sendAll(ctx, p, tr, o, o.Warmup, o.Records, o.Rate > 0)
	res.SendSeconds = time.Since(t0).Seconds()
	if err == nil {
		err = wait(ctx, p, tr)
	}
	elapsed := time.Since(t0)
	cpu1, flt1 := processCPU()
	if o.CPUProfile != "" {
		pprof.StopCPUProfile()
	}
	runtime.ReadMemStats(&m1)
	if err != nil {
		return res, err
	}
	if o.MemProfile != "" {
		f, err := os.Create(o.MemProfile)
		if err != nil {
			return res, err
		}
		defer f.Close()
		// The profile is as of the last completed GC: without one, the measured phase's
		// allocations since then would be missing from it.
		runtime.GC()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			return res, err
		}
	}

	if ob, ok := p.(interface{ observed() []string }); ok {
		res.Notes = append(res.Notes, ob.observed()...)
	}
	n := float64(o.Records)
	res.Seconds = elapsed.Seconds()
	res.RecordsPerSec = n / res.Seconds
	res.MBPerSec = n * float64(o.ValueSize) / res.Seconds / 1e6
	res.CPUSeconds = (cpu1 - cpu0).Seconds()
	res.CPUNsPerRecord = float64(cpu1-cpu0) / n
	res.MallocsPerRecord = float64(m1.Mallocs-m0.Mallocs) / n
	res.BytesPerRecord = float64(m1.TotalAlloc-m0.TotalAlloc) / n
	res.GCCycles = m1.NumGC - m0.NumGC
	faults := flt1 - flt0
	res.MinorFaults = &faults
	res.PeakRSSMiB = peakRSSMiB()
	res.Failed = tr.failed.Load()
	if e := tr.firstErr.Load(); e != nil {
		res.FirstError = *e
	}
	if o.Rate > 0 {
		lat := tr.lat[:min(int(tr.nlat.Load()), len(tr.lat))]
		slices.Sort(lat)
		res.LatencyP50Us = percentile(lat, 0.50)
		res.LatencyP99Us = percentile(lat, 0.99)
		res.LatencyP999Us = percentile(lat, 0.999)
		res.LatencyMaxUs = percentile(lat, 1)
	}
	return res, nil
}

func percentile(sorted []int64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return float64(sorted[i]) / 1e3
}

// errTimeout is returned when acknowledgements stop arriving.
var errTimeout = errors.New("timed out waiting for acknowledgements")

// wait flushes the client and waits for the phase's last acknowledgement; it gives up
// when no acknowledgement arrives for 60 s.
func wait(ctx context.Context, p producer, tr *tracker) error {
	if err := p.flush(ctx); err != nil {
		return err
	}
	last, lastChange := tr.done.Load(), time.Now()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-tr.finished:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			if d := tr.done.Load(); d != last {
				last, lastChange = d, time.Now()
			} else if time.Since(lastChange) > 60*time.Second {
				return fmt.Errorf("%w: %d of %d", errTimeout, d, tr.target.Load())
			}
		}
	}
}

// processCPU returns the user+system CPU time of the process (every thread, including
// the client's goroutines and, for librdkafka, its C threads) and its minor page faults
// so far: a client that touches fresh memory during the measured phase pays for it there.
func processCPU() (time.Duration, int64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), int64(ru.Minflt) // int32 on some 32-bit platforms
}

// peakRSSMiB is the process's peak resident set so far (ru_maxrss, KiB on Linux) in
// MiB. It spans the whole process, payload generation and warm-up included: the same
// for every client, and what an operator sizing a container sees.
func peakRSSMiB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024
}
