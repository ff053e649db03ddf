package kprod_test

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// On one P the sender holds a Send that sealed a batch while every in-flight slot is
// taken and a whole request waits behind them (internal/sender/pace.go), so the runtime
// polls the network for the answers instead of the caller filling buffer.memory.

const (
	paceValue   = 1000
	paceBatch   = 4 << 10
	paceRequest = 8 << 10
	paceBuffer  = 1 << 20
)

// paceSetup is a one-partition topic whose Produce answers wait until release is called,
// a producer on it with GOMAXPROCS=1, and a goroutine sending 2 MiB (twice
// buffer.memory) to it. sent counts the Sends that returned and acked the
// acknowledgements; errs gets every failure.
type paceSetup struct {
	p       *kprod.Producer
	release func()
	sent    atomic.Int64
	acked   atomic.Int64
	errs    chan error
	done    chan struct{} // closed when the sending goroutine returns
}

const paceRecords = 2 * paceBuffer / paceValue

func newPaceSetup(t *testing.T, bound time.Duration) *paceSetup {
	t.Helper()
	prev := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
	c := kafkatest.New(t, kafkatest.Brokers(1), kafkatest.Topic("pace", 1))
	fake := c.Fake()
	hold := make(chan struct{})
	var holding atomic.Bool
	fake.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		if holding.Load() {
			fake.SleepControl(func() { <-hold })
		}
		return nil, nil, false
	})
	var once sync.Once
	s := &paceSetup{release: func() { once.Do(func() { close(hold) }) }, errs: make(chan error, paceRecords),
		done: make(chan struct{})}
	t.Cleanup(s.release)
	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: c.Bootstrap(), BatchSize: paceBatch,
		MaxRequestSize: paceRequest, BufferMemory: paceBuffer, Linger: time.Millisecond,
		MaxBlock: time.Minute, RequestTimeout: 5 * time.Minute, DeliveryTimeout: 10 * time.Minute},
		kprod.WithPauseBound(bound))
	if err != nil {
		t.Fatal(err)
	}
	s.p = p
	t.Cleanup(func() { closeNow(p) })
	// One record delivered first, so that the Sends below find the connection open and
	// wait for nothing but the pacer and memory.
	if err := p.Send(context.Background(), &kprod.Record{Topic: "pace", Value: []byte("first")}, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	holding.Store(true)
	runtime.GOMAXPROCS(1)
	go func() {
		defer close(s.done)
		value := make([]byte, paceValue)
		for range paceRecords {
			err := p.Send(context.Background(), &kprod.Record{Topic: "pace", Value: value}, func(_ kprod.RecordMetadata, err error) {
				if err != nil {
					s.errs <- err
					return
				}
				s.acked.Add(1)
			})
			if err != nil {
				s.errs <- err
				return
			}
			s.sent.Add(1)
		}
	}()
	t.Cleanup(func() { closeNow(p); <-s.done })
	return s
}

// returned waits for the sending goroutine to return, failing the test after a minute.
func (s *paceSetup) returned(t *testing.T, after string) {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(time.Minute):
		t.Fatalf("a held Send did not return within a minute after %s", after)
	}
}

// TestOnePPausesSendsBehindFullPipeline: with the answers held, the Send that seals a batch
// once five requests are in flight and max.request.size waits behind them is held there,
// with a small fraction of buffer.memory used; without the pacer it would fill all of
// it. When the answers come every record is delivered; when the producer closes instead,
// the held Send returns.
func TestOnePPausesSendsBehindFullPipeline(t *testing.T) {
	for _, end := range []string{"answered", "closed"} {
		t.Run(end, func(t *testing.T) {
			s := newPaceSetup(t, time.Hour)
			waitUntil(t, "a Send held back or waiting for memory", func() bool {
				_, waiting := kprod.BufferUsed(s.p)
				return kprod.PausedSends(s.p) > 0 || waiting > 0
			})
			used, waiting := kprod.BufferUsed(s.p)
			// Five requests of one batch in flight, max.request.size and the sealed and
			// open batches behind them: well under 64 KiB of the 1 MiB.
			if kprod.PausedSends(s.p) != 1 || waiting != 0 || used > 64<<10 {
				t.Fatalf("with every answer held: %d Sends paused, %d waiting for memory, %d bytes of buffer.memory used; want 1 paused, none waiting, at most 64 KiB",
					kprod.PausedSends(s.p), waiting, used)
			}
			if end == "closed" {
				closeNow(s.p)
				s.returned(t, "Close")
				return
			}
			s.release()
			s.returned(t, "the answers came")
			if err := s.p.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-s.errs:
				t.Fatalf("a record failed: %v", err)
			default:
			}
			if got := s.acked.Load(); got != paceRecords {
				t.Fatalf("%d records acknowledged, want %d", got, paceRecords)
			}
		})
	}
}

// TestOnePPauseIsBounded: a broker that never answers does not hold Sends for good: after
// the bound they fill buffer.memory and wait for memory, as Java's do. (That the sender
// wakes at the bound by itself is TestPaceHoldEndsAtBound in internal/sender.)
func TestOnePPauseIsBounded(t *testing.T) {
	s := newPaceSetup(t, 0) // the default, 10 ms
	waitUntil(t, "a Send waiting for buffer.memory", func() bool {
		_, waiting := kprod.BufferUsed(s.p)
		return waiting > 0
	})
	if used, _ := kprod.BufferUsed(s.p); used < paceBuffer-2*paceBatch {
		t.Fatalf("a Send waits for memory with %d of %d bytes used", used, paceBuffer)
	}
}
