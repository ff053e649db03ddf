package metrics

import (
	"math"
	"testing"
)

// The expectations below are worked by hand from Java's SampledStat, Rate, Avg, Max and
// Meter (org.apache.kafka.common.metrics.stats, Kafka 4.x): Samples+1 windows, a window
// complete once WindowMs old, windows with no event for Samples*WindowMs reset at
// measure time, and Rate's window at least Samples-1 full windows.

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.IsNaN(want) {
		if !math.IsNaN(got) {
			t.Errorf("%s = %v; want NaN", what, got)
		}
		return
	}
	if math.Abs(got-want) > 1e-9 {
		t.Errorf("%s = %v; want %v", what, got, want)
	}
}

func TestStatsWindows(t *testing.T) {
	cfg := Config{Samples: 2, WindowMs: 1000}
	rate, avg, mx := NewRate(cfg), NewAvg(cfg), NewMax(cfg)
	rec := func(v float64, now int64) {
		rate.Record(cfg, v, now)
		avg.Record(cfg, v, now)
		mx.Record(cfg, v, now)
	}
	near(t, "empty avg", avg.Measure(cfg, 0), math.NaN())
	near(t, "empty max", mx.Measure(cfg, 0), math.NaN())

	rec(10, 0) // window A starts at 0
	// 500 ms elapsed, less than Samples-1 full windows: counted as 500+1000 ms.
	near(t, "rate@500", rate.Measure(cfg, 500), 10/1.5)
	rec(20, 1200) // A is complete: window B starts at 1200
	near(t, "rate@1500", rate.Measure(cfg, 1500), 30/1.5)
	near(t, "avg@1500", avg.Measure(cfg, 1500), 15)
	near(t, "max@1500", mx.Measure(cfg, 1500), 20)
	rec(5, 2300) // B complete: the spare window C starts at 2300
	// At 2500, A's last event (0) is 2000 ms old = Samples*WindowMs: A is reset to
	// start at 2500 and empty. The oldest start is B's 1200: 1300 ms.
	near(t, "rate@2500", rate.Measure(cfg, 2500), 25/1.3)
	near(t, "avg@2500", avg.Measure(cfg, 2500), 12.5)
	near(t, "max@2500", mx.Measure(cfg, 2500), 20)
	rec(1, 3400) // C complete: A is reused from 3400
	// At 3400 B (last 1200) is 2200 ms old: gone. C (2300) and A (3400) remain.
	near(t, "avg@3400", avg.Measure(cfg, 3400), 3)
	near(t, "max@3400", mx.Measure(cfg, 3400), 5)
	near(t, "rate@3400", rate.Measure(cfg, 3400), 6/1.1)
	// Long quiet: every window expires.
	near(t, "avg idle", avg.Measure(cfg, 10000), math.NaN())
	near(t, "max idle", mx.Measure(cfg, 10000), math.NaN())
	near(t, "rate idle", rate.Measure(cfg, 10000), 0)
}

// TestRateShortRun: with Java's defaults (2 windows of 30 s) a 10-second run is rated
// over 40 s, not 10: Java's --print-metrics shows record-send-rate as total/40 then.
func TestRateShortRun(t *testing.T) {
	cfg := Config{Samples: 2, WindowMs: 30000}
	m := NewMeter(cfg)
	for i := int64(0); i < 1000; i++ {
		m.Record(cfg, 1, i*10) // 1000 records over 10 s
	}
	near(t, "total", m.Total, 1000)
	near(t, "rate", m.Rate.Measure(cfg, 10000), 1000.0/40)
	// At 50 s the oldest window started more than Samples-1 full windows ago: the span
	// is the real elapsed time.
	m.Record(cfg, 1, 45000)
	near(t, "rate@50s", m.Rate.Measure(cfg, 50000), 1001.0/50)
}

// TestCountMeter: a Meter over a WindowedCount counts recordings, whatever their value
// (request-rate/-total record the request's size).
func TestCountMeter(t *testing.T) {
	cfg := Config{Samples: 2, WindowMs: 1000}
	m := NewCountMeter(cfg)
	m.Record(cfg, 512, 0)
	m.Record(cfg, 100, 100)
	near(t, "total", m.Total, 2)
	near(t, "rate", m.Rate.Measure(cfg, 500), 2/1.5)
}

// TestZeroWindow: with metrics.sample.window.ms=0 every recording starts a new window
// and the expiry age (Samples x 0) resets every window at measure time, as in Java:
// averages read NaN and rates 0. Nothing divides by zero.
func TestZeroWindow(t *testing.T) {
	cfg := Config{Samples: 2, WindowMs: 0}
	a := NewAvg(cfg)
	a.Record(cfg, 1, 0)
	a.Record(cfg, 3, 0)
	a.Record(cfg, 5, 0)
	near(t, "avg", a.Measure(cfg, 0), math.NaN())
	r := NewRate(cfg)
	r.Record(cfg, 4, 0)
	near(t, "rate", r.Measure(cfg, 0), 0)
}

func TestRecordAllocatesNothing(t *testing.T) {
	cfg := Config{Samples: 2, WindowMs: 10}
	r := New(cfg)
	r.Lock()
	r.DrainedLocked("t", 1, 100, 1, 1, 100, 0)
	r.Unlock()
	now := int64(0)
	n := testing.AllocsPerRun(1000, func() {
		now += 3
		r.Lock()
		r.DrainedLocked("t", 10, 1000, 2, 1, 120, now)
		r.RequestLocked(10, now)
		r.Unlock()
	})
	if n != 0 {
		t.Errorf("per-request accounting allocates %v times", n)
	}
}

// BenchmarkDrainedRequest is the sender's accounting of one Produce request of 16
// batches of 128 records (16 partitions, batch.size 16384, 100 B values): one lock, the
// per-batch stats, the per-request stats. ns/record is its share of each record.
func BenchmarkDrainedRequest(b *testing.B) {
	const batches, records = 16, 128
	cfg := Config{Samples: 2, WindowMs: 30000}
	r := New(cfg)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		now := int64(i / 100)
		i++
		r.Lock()
		for range batches {
			r.DrainedLocked("topic", records, 16000, 5, 1, 190, now)
		}
		r.RequestLocked(batches*records, now)
		r.Unlock()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batches*records), "ns/record")
}

// BenchmarkIOSent is a connection's accounting of one written request and its response.
func BenchmarkIOSent(b *testing.B) {
	r := New(Config{Samples: 2, WindowMs: 30000})
	io := r.IO(1)
	sizes := []int64{16 * 16100}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		now := int64(i / 100)
		i++
		io.Sent(sizes, now)
		io.Received(900, now)
	}
}
