package kprod_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
)

// Per-record Timing (issue 13 item 2): the figures are real durations, checked against
// what the test itself controls: linger.ms, a Flush after a measured wait, a broker that
// holds the request, faults that force retries.

// checkTiming holds what every Timing must satisfy.
func checkTiming(t *testing.T, what string, tm kprod.Timing) {
	t.Helper()
	if tm.QueueTime < 0 || tm.RequestTime < 0 || tm.Retries < 0 {
		t.Errorf("%s: negative figure in %+v", what, tm)
	}
	if tm.Latency < tm.QueueTime+tm.RequestTime {
		t.Errorf("%s: Latency %v < QueueTime %v + RequestTime %v", what, tm.Latency, tm.QueueTime, tm.RequestTime)
	}
}

// TestTimingLinger: a record alone in its batch waits linger.ms in the accumulator.
func TestTimingLinger(t *testing.T) {
	const topic, linger = "linger", 150 * time.Millisecond
	c := kafkatest.New(t, kafkatest.Topic(topic, 1))
	p := newProducer(t, c.Bootstrap(), func(cfg *kprod.Config) { cfg.Linger = linger })
	ctx := context.Background()
	if _, err := p.PartitionsFor(ctx, topic); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	md, err := p.SendSync(ctx, &kprod.Record{Topic: topic, Value: []byte("v")})
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	tm := md.Timing
	checkTiming(t, "lingered record", tm)
	if tm.QueueTime < linger {
		t.Errorf("QueueTime %v < linger.ms %v", tm.QueueTime, linger)
	}
	if tm.RequestTime <= 0 || tm.Retries != 0 {
		t.Errorf("RequestTime %v, Retries %d; want > 0 and 0", tm.RequestTime, tm.Retries)
	}
	if tm.Latency > took {
		t.Errorf("Latency %v > %v measured around SendSync", tm.Latency, took)
	}
}

// TestTimingPerRecord: records of one batch each count from their own Send. With
// linger.ms an hour, the batch leaves at Flush; a record sent a measured gap before
// another queued at least that much longer.
func TestTimingPerRecord(t *testing.T) {
	const topic, gap = "per-record", 30 * time.Millisecond
	c := kafkatest.New(t, kafkatest.Topic(topic, 1))
	p := newProducer(t, c.Bootstrap(), func(cfg *kprod.Config) { cfg.Linger = time.Hour })
	ctx := context.Background()
	if _, err := p.PartitionsFor(ctx, topic); err != nil {
		t.Fatal(err)
	}
	mds := make(chan kprod.RecordMetadata, 2)
	cb := func(md kprod.RecordMetadata, err error) {
		if err != nil {
			t.Error(err)
		}
		mds <- md
	}
	if err := p.Send(ctx, &kprod.Record{Topic: topic, Value: []byte("first")}, cb); err != nil {
		t.Fatal(err)
	}
	afterFirst := time.Now()
	time.Sleep(gap) // the gap being measured, not a wait for an event
	beforeSecond := time.Now()
	if err := p.Send(ctx, &kprod.Record{Topic: topic, Value: []byte("second")}, cb); err != nil {
		t.Fatal(err)
	}
	afterSecond := time.Now()
	time.Sleep(gap)
	beforeFlush := time.Now()
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	first, second := <-mds, <-mds
	if second.Offset != first.Offset+1 {
		t.Fatalf("offsets %d, %d: want one batch in send order", first.Offset, second.Offset)
	}
	checkTiming(t, "first", first.Timing)
	checkTiming(t, "second", second.Timing)
	const slack = 2 * time.Microsecond // send times are kept to the microsecond
	if d := first.Timing.QueueTime - second.Timing.QueueTime; d < beforeSecond.Sub(afterFirst)-slack {
		t.Errorf("first queued %v longer than second; they were sent at least %v apart", d, beforeSecond.Sub(afterFirst))
	}
	if second.Timing.QueueTime < beforeFlush.Sub(afterSecond)-slack {
		t.Errorf("second QueueTime %v < %v between its Send and Flush", second.Timing.QueueTime, beforeFlush.Sub(afterSecond))
	}
	if first.Timing.RequestTime != second.Timing.RequestTime {
		t.Errorf("RequestTime %v and %v differ within one request", first.Timing.RequestTime, second.Timing.RequestTime)
	}
}

// delayProduce makes the broker hold the next Produce request for d before handling it.
// The sleep is the fault injected, not a wait for an event.
func delayProduce(fake *kfake.Cluster, d time.Duration) {
	fake.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		fake.SleepControl(func() { time.Sleep(d) })
		return nil, nil, false // then handled as usual (faults included)
	})
}

// TestTimingRequestDelay: a request the broker holds reports at least the hold as
// RequestTime, on success and on failure.
func TestTimingRequestDelay(t *testing.T) {
	const delay = 200 * time.Millisecond
	t.Run("success", func(t *testing.T) {
		const topic = "delayed"
		c := kafkatest.New(t, kafkatest.Topic(topic, 1))
		p := newProducer(t, c.Bootstrap(), func(cfg *kprod.Config) { cfg.Linger = kprod.ZeroDuration })
		ctx := context.Background()
		if _, err := p.PartitionsFor(ctx, topic); err != nil {
			t.Fatal(err)
		}
		delayProduce(c.Fake(), delay)
		md, err := p.SendSync(ctx, &kprod.Record{Topic: topic, Value: []byte("v")})
		if err != nil {
			t.Fatal(err)
		}
		checkTiming(t, "delayed record", md.Timing)
		if md.Timing.RequestTime < delay {
			t.Errorf("RequestTime %v < the broker's delay %v", md.Timing.RequestTime, delay)
		}
	})
	t.Run("failure", func(t *testing.T) {
		const topic = "delayed-bad"
		c := kafkatest.New(t, kafkatest.Topic(topic, 1))
		p := newProducer(t, c.Bootstrap(), func(cfg *kprod.Config) { cfg.Linger = kprod.ZeroDuration })
		ctx := context.Background()
		if _, err := p.PartitionsFor(ctx, topic); err != nil {
			t.Fatal(err)
		}
		c.Fake().Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.InvalidRecord})
		delayProduce(c.Fake(), delay)
		_, err := p.SendSync(ctx, &kprod.Record{Topic: topic, Value: []byte("v")})
		var de *kprod.DeliveryError
		if !errors.As(err, &de) {
			t.Fatalf("err = %v (%T); want *kprod.DeliveryError", err, err)
		}
		checkTiming(t, "failed record", de.Timing)
		if de.Timing.RequestTime < delay || de.Timing.Retries != 0 {
			t.Errorf("Timing %+v; want RequestTime >= %v, no retries", de.Timing, delay)
		}
	})
}

// TestTimingRetries: a record whose batch was retried says how often, whether it was
// written in the end or failed; each failed record has its own error and Timing.
func TestTimingRetries(t *testing.T) {
	t.Run("success", func(t *testing.T) {
		const topic = "retried"
		c := kafkatest.New(t, kafkatest.Topic(topic, 1))
		p := newProducer(t, c.Bootstrap(), func(cfg *kprod.Config) { cfg.RetryBackoff = 5 * time.Millisecond })
		ctx := context.Background()
		if _, err := p.PartitionsFor(ctx, topic); err != nil {
			t.Fatal(err)
		}
		h := c.Fake().Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.NotEnoughReplicas, Count: 2})
		md, err := p.SendSync(ctx, &kprod.Record{Topic: topic, Value: []byte("v")})
		if err != nil {
			t.Fatal(err)
		}
		checkTiming(t, "retried record", md.Timing)
		if md.Timing.Retries != 2 || h.Hits() != 2 {
			t.Errorf("Retries = %d with %d faulted requests; want 2", md.Timing.Retries, h.Hits())
		}
		if md.Timing.Latency < md.Timing.QueueTime+md.Timing.RequestTime+2*4*time.Millisecond {
			t.Errorf("Latency %v leaves no room for two backoffs of >= 4 ms beyond QueueTime %v + RequestTime %v",
				md.Timing.Latency, md.Timing.QueueTime, md.Timing.RequestTime)
		}
	})
	t.Run("failure", func(t *testing.T) {
		const topic = "retried-bad"
		c := kafkatest.New(t, kafkatest.Topic(topic, 1))
		p := newProducer(t, c.Bootstrap(), func(cfg *kprod.Config) {
			cfg.Retries, cfg.RetryBackoff, cfg.Linger = 2, 5*time.Millisecond, time.Hour
			cfg.Idempotence = kprod.ToggleOff
		})
		ctx := context.Background()
		if _, err := p.PartitionsFor(ctx, topic); err != nil {
			t.Fatal(err)
		}
		c.Fake().Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.NotEnoughReplicas, Count: -1})
		errs := make(chan error, 2)
		for _, v := range []string{"a", "b"} {
			if err := p.Send(ctx, &kprod.Record{Topic: topic, Value: []byte(v)}, func(_ kprod.RecordMetadata, err error) { errs <- err }); err != nil {
				t.Fatal(err)
			}
		}
		if err := p.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		var des [2]*kprod.DeliveryError
		for i := range des {
			if err := <-errs; !errors.As(err, &des[i]) {
				t.Fatalf("err = %v (%T); want *kprod.DeliveryError", err, err)
			}
			checkTiming(t, "failed record", des[i].Timing)
			if des[i].Timing.Retries != 2 || des[i].Timing.RequestTime <= 0 {
				t.Errorf("Timing %+v; want 2 retries (retries=2) and a RequestTime", des[i].Timing)
			}
		}
		if des[0] == des[1] {
			t.Error("the two records of the failed batch share one *DeliveryError; each needs its own Timing")
		}
		if des[0].Timing.QueueTime < des[1].Timing.QueueTime {
			t.Errorf("first record queued %v, less than the later one's %v", des[0].Timing.QueueTime, des[1].Timing.QueueTime)
		}
	})
}
