// Package metrics computes the producer's metrics as Java's org.apache.kafka.common.metrics
// does: windowed stats (SampledStat: Avg, Max, WindowedSum, WindowedCount) over
// metrics.num.samples windows of metrics.sample.window.ms, Rate with Java's elapsed-time
// rule, Meter (a rate and its cumulative total) and CumulativeSum. Times are Unix
// milliseconds, as Java's time.milliseconds().
//
// Stats are not safe for concurrent use: each owner (the sender, the connections' I/O
// accounting) guards its own with one mutex taken per batch or per request, never per
// record. Recording allocates nothing once a stat has its windows.
package metrics

import "math"

// Config is Java's MetricConfig: how many windows a stat keeps and how long each is.
type Config struct {
	// Samples is metrics.num.samples; 0 means Java's default, 2.
	Samples int
	// WindowMs is metrics.sample.window.ms, as resolved (the producer's default is
	// 30000); 0 is Java's 0: every recording starts a new window.
	WindowMs int64
}

// withDefaults fills an unset Samples with Java's default. Stats are built and recorded
// with the same Config.
func (c Config) withDefaults() Config {
	if c.Samples <= 0 {
		c.Samples = 2
	}
	return c
}

// sample is one window of a SampledStat (Java's SampledStat.Sample).
type sample struct {
	value float64
	count int64
	start int64 // startTimeMs
	last  int64 // lastEventMs
}

func (s *sample) reset(now int64, initial float64) {
	s.value, s.count, s.start, s.last = initial, 0, now, now
}

// kind is what a SampledStat folds its values into.
type kind uint8

const (
	kindSum   kind = iota // WindowedSum
	kindCount             // WindowedCount: each record adds 1
	kindAvg               // Avg: sum / count
	kindMax               // Max
)

// SampledStat is Java's SampledStat with the combine of one of Avg, Max, WindowedSum or
// WindowedCount. It keeps Samples+1 windows, the extra one for a window overlapping
// the monitored span (Java's "overlapping sample" placeholder).
type SampledStat struct {
	kind    kind
	current int
	slots   int      // Samples+1
	samples []sample // windows in use (Java's samples list), grown up to slots
}

func newSampled(k kind, cfg Config) SampledStat {
	// Windows are added as time passes, as Java's list grows: a huge metrics.num.samples
	// costs memory only as its windows fill. Common configurations never grow.
	return SampledStat{kind: k, slots: cfg.Samples + 1, samples: make([]sample, 0, min(cfg.Samples+1, 4))}
}

// NewAvg returns Java's Avg: the mean of the values recorded in the live windows, NaN
// when none.
func NewAvg(cfg Config) *SampledStat { s := newSampled(kindAvg, cfg.withDefaults()); return &s }

// NewMax returns Java's Max: the largest value recorded in the live windows, NaN when
// none.
func NewMax(cfg Config) *SampledStat { s := newSampled(kindMax, cfg.withDefaults()); return &s }

func (s *SampledStat) initial() float64 {
	if s.kind == kindMax {
		return math.Inf(-1)
	}
	return 0
}

// current returns the window being filled, creating the first one at now.
func (s *SampledStat) cur(now int64) *sample {
	if len(s.samples) == 0 {
		s.samples = append(s.samples, sample{})
		s.samples[0].reset(now, s.initial())
	}
	return &s.samples[s.current]
}

// Record adds value at now (Java's SampledStat.record): a window that is complete
// (WindowMs old) gives way to the next, reusing the oldest.
func (s *SampledStat) Record(cfg Config, value float64, now int64) {
	x := s.cur(now)
	if now-x.start >= cfg.WindowMs {
		s.current = (s.current + 1) % s.slots
		if s.current >= len(s.samples) {
			s.samples = append(s.samples, sample{})
		}
		x = &s.samples[s.current]
		x.reset(now, s.initial())
	}
	switch s.kind {
	case kindSum, kindAvg:
		x.value += value
	case kindCount:
		x.value++
	case kindMax:
		x.value = max(x.value, value)
	}
	x.count++
	x.last = now
}

// purge resets windows with no event within the monitored span, Samples x WindowMs
// (Java's purgeObsoleteSamples).
func (s *SampledStat) purge(cfg Config, now int64) {
	expire := int64(cfg.Samples) * cfg.WindowMs
	for i := range s.samples {
		if now-s.samples[i].last >= expire {
			s.samples[i].reset(now, s.initial())
		}
	}
}

// oldest returns the start of the oldest window (Java's SampledStat.oldest).
func (s *SampledStat) oldest(now int64) int64 {
	s.cur(now)
	o := s.samples[0].start
	for _, x := range s.samples[1:] {
		o = min(o, x.start)
	}
	return o
}

// Measure returns the stat's value at now (Java's SampledStat.measure).
func (s *SampledStat) Measure(cfg Config, now int64) float64 {
	s.purge(cfg, now)
	var total float64
	var count int64
	best := math.Inf(-1)
	for _, x := range s.samples {
		total += x.value
		count += x.count
		if x.count > 0 {
			best = max(best, x.value)
		}
	}
	switch s.kind {
	case kindAvg:
		if count == 0 {
			return math.NaN()
		}
		return total / float64(count)
	case kindMax:
		if count == 0 {
			return math.NaN()
		}
		return best
	}
	return total
}

// Rate is Java's Rate in seconds over a WindowedSum (or WindowedCount): the windows'
// sum divided by the elapsed time, counted as at least Samples-1 full windows, so a
// rate shortly after the start is not inflated (Rate.windowSize).
type Rate struct{ stat SampledStat }

// NewRate returns a rate of the values recorded per second.
func NewRate(cfg Config) *Rate { return &Rate{newSampled(kindSum, cfg.withDefaults())} }

// NewCountRate returns a rate of the recordings per second (Java's Rate over a
// WindowedCount).
func NewCountRate(cfg Config) *Rate { return &Rate{newSampled(kindCount, cfg.withDefaults())} }

// Record adds value at now.
func (r *Rate) Record(cfg Config, value float64, now int64) { r.stat.Record(cfg, value, now) }

// Measure returns the rate per second at now.
func (r *Rate) Measure(cfg Config, now int64) float64 {
	v := r.stat.Measure(cfg, now)
	return v / (float64(r.windowSize(cfg, now)) / 1000)
}

// windowSize is Java's Rate.windowSize in ms: the time since the oldest live window
// started, at least Samples-1 full windows, at least 1 ms.
func (r *Rate) windowSize(cfg Config, now int64) int64 {
	r.stat.purge(cfg, now)
	elapsed := now - r.stat.oldest(now)
	full := int64(0)
	if cfg.WindowMs > 0 {
		full = elapsed / cfg.WindowMs
	}
	if minFull := int64(cfg.Samples - 1); full < minFull {
		elapsed += (minFull - full) * cfg.WindowMs
	}
	return max(elapsed, 1)
}

// Meter is Java's Meter: a Rate of the values (or of the recordings) and their
// cumulative total (-rate and -total metrics).
type Meter struct {
	Rate  Rate
	Total float64
	count bool
}

// NewMeter returns a meter summing the values recorded (Meter over a WindowedSum).
func NewMeter(cfg Config) *Meter { return &Meter{Rate: *NewRate(cfg)} }

// NewCountMeter returns a meter counting recordings (Meter over a WindowedCount): its
// total adds 1 per recording, as Java's.
func NewCountMeter(cfg Config) *Meter { return &Meter{Rate: *NewCountRate(cfg), count: true} }

// Record adds value at now to the rate and the total.
func (m *Meter) Record(cfg Config, value float64, now int64) {
	m.Rate.Record(cfg, value, now)
	if m.count {
		m.Total++
	} else {
		m.Total += value
	}
}
