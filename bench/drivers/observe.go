package drivers

import (
	"fmt"
	"io"
	"log/slog"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kprod-io/kprod"
)

// kprod has no switch for its metrics or its per-record Timing: both are always
// recorded (metrics.recording.level is accepted and changes nothing, as every kprod
// metric is INFO level; Timing is computed per batch whatever the callback reads). What
// a user adds to see them is what -observe adds, so the scenario prices that:
//   - a scrape of Producer.Metrics every second, as an exporter (plugin/kprom) does on
//     each Prometheus scrape, only more often than Prometheus' default 15 s;
//   - a logger at debug level (kprod logs retries there), writing to io.Discard;
//   - each record's Timing read in its callback and folded into a histogram, as a
//     user feeding a latency histogram would, so none of it is optimised away.
//
// Tracing (WithSendHook) is left out: its cost is the tracer's (plugin/kotel's
// OpenTelemetry spans, which have their own benchmarks there), and a hook that does
// nothing would price an allocation per record that no traced producer runs without.

// scrapeEvery is how often -observe reads every metric.
const scrapeEvery = time.Second

// observer holds what -observe reads back, for the run's notes.
type observer struct {
	records  atomic.Int64
	queue    atomic.Int64 // ns summed over records
	request  atomic.Int64
	latency  atomic.Int64
	retries  atomic.Int64
	hist     [40]atomic.Int64 // records by bits.Len64(latency in ns)
	scrapes  atomic.Int64
	series   atomic.Int64 // metrics in the last scrape
	stop     chan struct{}
	stopOnce sync.Once
	done     sync.WaitGroup
}

// observeOptions returns the producer options -observe adds.
func observeOptions() []kprod.Option {
	return []kprod.Option{kprod.WithLogger(slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug})))}
}

// start scrapes p's metrics every scrapeEvery until close.
func (ob *observer) start(p *kprod.Producer) {
	ob.stop = make(chan struct{})
	ob.done.Go(func() {
		t := time.NewTicker(scrapeEvery)
		defer t.Stop()
		for {
			select {
			case <-ob.stop:
				return
			case <-t.C:
				// Metrics computes every value; an exporter's copy of them is cheap beside it.
				ob.series.Store(int64(len(p.Metrics())))
				ob.scrapes.Add(1)
			}
		}
	})
}

func (ob *observer) close() {
	ob.stopOnce.Do(func() { close(ob.stop) })
	ob.done.Wait()
}

// record folds one record's Timing in; it runs in the callback.
func (ob *observer) record(md kprod.RecordMetadata) {
	t := md.Timing
	ob.records.Add(1)
	ob.queue.Add(int64(t.QueueTime))
	ob.request.Add(int64(t.RequestTime))
	ob.latency.Add(int64(t.Latency))
	ob.retries.Add(int64(t.Retries))
	ob.hist[min(bits.Len64(uint64(max(t.Latency, 0))), len(ob.hist)-1)].Add(1)
}

// notes says what was observed: means of the Timing figures, the latency histogram's
// median bucket and the scrapes.
func (ob *observer) notes() []string {
	n := ob.records.Load()
	if n == 0 {
		return []string{"observe: no record timed"}
	}
	var seen, p50 int64
	for i := range ob.hist {
		if seen += ob.hist[i].Load(); seen*2 >= n {
			p50 = 1 << max(i-1, 0)
			break
		}
	}
	us := func(total int64) float64 { return float64(total) / float64(n) / 1e3 }
	return []string{fmt.Sprintf("observe: %d records timed: mean queue %.0f µs, request %.0f µs, latency %.0f µs "+
		"(median in [%s, %s)), %d retries; %d scrapes of %d metrics",
		n, us(ob.queue.Load()), us(ob.request.Load()), us(ob.latency.Load()), time.Duration(p50), time.Duration(2*p50),
		ob.retries.Load(), ob.scrapes.Load(), ob.series.Load())}
}
