package kprod_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"kprod"
	"kprod/internal/accumulator"
	"kprod/kafkatest"
)

// Resource tests: buffer.memory is given back whole however waits end, Close releases
// every pending record, and every goroutine the producer starts has an owner that
// waits for it on Close (architecture.md, convention 6): after Close, no goroutine with
// a kprod frame may remain, whatever state the producer was in.

// kprodFrame matches a stack line of a function in package kprod or below (not
// kprod_test, not kfake).
var kprodFrame = regexp.MustCompile(`(?m)^(created by )?kprod[./]`)

// kprodGoroutines returns the stacks of goroutines running kprod code, by goroutine id,
// except the caller's own.
func kprodGoroutines() map[int]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := map[int]string{}
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 { // runtime.Stack lists the caller first
			continue
		}
		var id int
		if _, err := fmt.Sscanf(g, "goroutine %d ", &id); err != nil {
			continue
		}
		if kprodFrame.MatchString(g) {
			out[id] = g
		}
	}
	return out
}

// checkNoLeak waits briefly for the goroutines started since before to end.
func checkNoLeak(t *testing.T, before map[int]string) {
	t.Helper()
	var left map[int]string
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		left = kprodGoroutines()
		for id := range before {
			delete(left, id)
		}
		if len(left) == 0 {
			return
		}
	}
	var sb strings.Builder
	for id, g := range left {
		sb.WriteString("\n--- goroutine " + strconv.Itoa(id) + ":\n" + g)
	}
	t.Errorf("%d kprod goroutines still run after Close:%s", len(left), sb.String())
}

// closeWithin closes p with ctx and fails if Close takes longer than d.
func closeWithin(t *testing.T, p *kprod.Producer, ctx context.Context, d time.Duration) {
	t.Helper()
	start := time.Now()
	p.Close(ctx)
	if took := time.Since(start); took > d {
		t.Errorf("Close took %v, want under %v", took, d)
	}
}

// silentListener accepts connections and never answers: a broker that hangs.
func silentListener(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

func TestLeakAfterClose(t *testing.T) {
	const topic = "leaky"
	stall := func(c *kafkatest.Cluster) {
		fake := c.Fake()
		fake.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
			fake.KeepControl()
			return nil, nil, true
		})
	}
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, before map[int]string)
	}{
		{"never used", func(t *testing.T, before map[int]string) {
			c := kafkatest.New(t, kafkatest.Topic(topic, 2))
			p, err := kprod.NewProducer(kprod.Config{BootstrapServers: c.Bootstrap()})
			if err != nil {
				t.Fatal(err)
			}
			closeWithin(t, p, context.Background(), time.Second)
			checkNoLeak(t, before)
		}},
		{"records delivered", func(t *testing.T, before map[int]string) {
			c := kafkatest.New(t, kafkatest.Brokers(2), kafkatest.Topic(topic, 4))
			p, err := kprod.NewProducer(kprod.Config{BootstrapServers: c.Bootstrap(), Compression: kprod.CompressionZstd})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			for i := range 200 {
				if err := p.Send(ctx, &kprod.Record{Topic: topic, Key: []byte(strconv.Itoa(i)), Value: []byte("v")}, nil); err != nil {
					t.Fatal(err)
				}
			}
			if err := p.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			closeWithin(t, p, ctx, time.Second)
			checkNoLeak(t, before)
		}},
		{"broker stalled, Close gives up", func(t *testing.T, before map[int]string) {
			c := kafkatest.New(t, kafkatest.Topic(topic, 2))
			p, err := kprod.NewProducer(kprod.Config{BootstrapServers: c.Bootstrap(), RequestTimeout: 300 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if _, err := p.PartitionsFor(ctx, topic); err != nil {
				t.Fatal(err)
			}
			stall(c)
			var failed atomic.Int32
			for range 50 {
				if err := p.Send(ctx, &kprod.Record{Topic: topic, Value: []byte("v")}, func(_ kprod.RecordMetadata, err error) {
					if err != nil {
						failed.Add(1)
					}
				}); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(500 * time.Millisecond) // a request timeout, a reconnect, a retry
			cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			closeWithin(t, p, cctx, time.Second)
			if failed.Load() != 50 {
				t.Errorf("%d of 50 callbacks failed by the time Close returned", failed.Load())
			}
			checkNoLeak(t, before)
		}},
		{"Sends blocked on buffer and metadata", func(t *testing.T, before map[int]string) {
			c := kafkatest.New(t, kafkatest.Topic(topic, 1))
			p, err := kprod.NewProducer(kprod.Config{BootstrapServers: c.Bootstrap(), BufferMemory: 2048, MaxBlock: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if _, err := p.PartitionsFor(ctx, topic); err != nil {
				t.Fatal(err)
			}
			stall(c)
			errs := make(chan error, 2)
			go func() {
				var err error
				for err == nil {
					err = p.Send(ctx, &kprod.Record{Topic: topic, Value: make([]byte, 500)}, nil)
				}
				errs <- err
			}()
			go func() { errs <- p.Send(ctx, &kprod.Record{Topic: "absent"}, nil) }()
			time.Sleep(200 * time.Millisecond)
			cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			closeWithin(t, p, cctx, time.Second)
			for range 2 {
				if err := <-errs; !errors.Is(err, kprod.ErrClosed) {
					t.Errorf("blocked Send = %v; want ErrClosed", err)
				}
			}
			checkNoLeak(t, before)
		}},
		{"bootstrap never answers", func(t *testing.T, before map[int]string) {
			addr := silentListener(t)
			p, err := kprod.NewProducer(kprod.Config{BootstrapServers: []string{addr}, MaxBlock: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			sent := make(chan error, 1)
			go func() { sent <- p.Send(context.Background(), &kprod.Record{Topic: topic}, nil) }()
			time.Sleep(200 * time.Millisecond)
			closeWithin(t, p, context.Background(), time.Second)
			select {
			case err := <-sent:
				if !errors.Is(err, kprod.ErrClosed) {
					t.Errorf("Send blocked on metadata = %v; want ErrClosed", err)
				}
			case <-time.After(time.Second):
				t.Error("Send blocked on metadata did not return after Close")
			}
			checkNoLeak(t, before)
		}},
		{"broker connections fail", func(t *testing.T, before map[int]string) {
			c := kafkatest.New(t, kafkatest.Topic(topic, 1))
			var dials atomic.Int32
			dialer := func(ctx context.Context, network, addr string) (net.Conn, error) {
				if dials.Add(1) > 1 { // the metadata connection only
					return nil, errors.New("injected dial failure")
				}
				var d net.Dialer
				return d.DialContext(ctx, network, addr)
			}
			p, err := kprod.NewProducer(kprod.Config{BootstrapServers: c.Bootstrap()}, kprod.WithDialer(dialer))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			for range 10 {
				if err := p.Send(ctx, &kprod.Record{Topic: topic, Value: []byte("v")}, nil); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(300 * time.Millisecond)
			if dials.Load() < 3 {
				t.Errorf("%d dials; the producer should keep trying", dials.Load())
			}
			cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			closeWithin(t, p, cctx, time.Second)
			checkNoLeak(t, before)
		}},
		{"many producers", func(t *testing.T, before map[int]string) {
			c := kafkatest.New(t, kafkatest.Topic(topic, 1))
			ctx := context.Background()
			for i := range 10 {
				p, err := kprod.NewProducer(kprod.Config{BootstrapServers: c.Bootstrap()})
				if err != nil {
					t.Fatal(err)
				}
				if i%2 == 0 {
					if _, err := p.SendSync(ctx, &kprod.Record{Topic: topic, Value: []byte("v")}); err != nil {
						t.Fatal(err)
					}
				}
				closeWithin(t, p, ctx, time.Second)
			}
			checkNoLeak(t, before)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, kprodGoroutines())
		})
	}
}

// TestFaultBufferExhausted: with the broker silent, Send blocks for buffer.memory up to
// max.block.ms and fails with ErrBufferExhausted; cancelling ctx frees a blocked Send at
// once; once the broker answers, the whole budget is free again.
func TestFaultBufferExhausted(t *testing.T) {
	const topic = "full"
	const budget, maxBlock = 8192, 500 * time.Millisecond
	c := kafkatest.New(t, kafkatest.Topic(topic, 1))
	p := newProducer(t, c.Bootstrap(), func(cfg *kprod.Config) {
		cfg.BufferMemory, cfg.MaxBlock, cfg.RequestTimeout = budget, maxBlock, 800*time.Millisecond
	})
	ctx := context.Background()
	if _, err := p.PartitionsFor(ctx, topic); err != nil {
		t.Fatal(err)
	}
	fake := c.Fake()
	var stalled atomic.Bool
	fake.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		return nil, nil, stalled.Load() // stalled: swallowed, never answered
	})
	stalled.Store(true)

	tr := newFTTracker(topic)
	value := make([]byte, 300)
	var accepted int
	var exhausted error
	var took time.Duration
	for i := 0; i < 1000 && exhausted == nil; i++ {
		v := fmt.Sprintf("b%04d-%s", i, value)
		tr.wg.Add(1)
		start := time.Now()
		err := p.Send(ctx, &kprod.Record{Topic: topic, Partition: kprod.InPartition(0), Value: []byte(v)},
			func(md kprod.RecordMetadata, err error) {
				defer tr.wg.Done()
				tr.mu.Lock()
				defer tr.mu.Unlock()
				tr.calls[v]++
				if err != nil {
					tr.errs[v] = err
				}
			})
		if err != nil {
			tr.wg.Done()
			exhausted, took = err, time.Since(start)
			break
		}
		accepted++
	}
	switch {
	case !errors.Is(exhausted, kprod.ErrBufferExhausted):
		t.Fatalf("after %d records Send returned %v; want ErrBufferExhausted", accepted, exhausted)
	case took < maxBlock-50*time.Millisecond || took > maxBlock+500*time.Millisecond:
		t.Errorf("Send blocked %v before ErrBufferExhausted; max.block.ms=%v", took, maxBlock)
	case kprod.MaybeWritten(exhausted):
		t.Errorf("MaybeWritten(%v) = true", exhausted)
	}
	if accepted*300 > budget || accepted < budget/600 {
		t.Errorf("%d records of 300 bytes fit in buffer.memory=%d", accepted, budget)
	}

	t.Run("ctx cancel unblocks Send", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		time.AfterFunc(100*time.Millisecond, cancel)
		start := time.Now()
		err := p.Send(cctx, &kprod.Record{Topic: topic, Partition: kprod.InPartition(0), Value: value}, nil)
		took := time.Since(start)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Send = %v; want context.Canceled", err)
		}
		if took > 300*time.Millisecond {
			t.Errorf("Send returned %v after a cancel at 100ms", took)
		}
		if kprod.MaybeWritten(err) {
			t.Errorf("MaybeWritten(%v) = true for a record Send refused (Send's doc: certainly not written)", err)
		}
	})

	stalled.Store(false)
	fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := p.Flush(fctx); err != nil {
		t.Fatalf("Flush after the broker recovered: %v", err)
	}
	tr.wait(t, time.Second)
	tr.mu.Lock()
	if len(tr.calls) != accepted || len(tr.errs) != 0 {
		t.Errorf("%d of %d callbacks ran, %d failed: %v", len(tr.calls), accepted, len(tr.errs), tr.errs)
	}
	tr.mu.Unlock()

	t.Run("whole budget free again", func(t *testing.T) {
		// A record whose upper-bound size is exactly buffer.memory is accepted at once
		// only if not a byte of the budget leaked.
		v := make([]byte, budget-100)
		for accumulator.MaxRecordSize(nil, v, nil) < budget {
			v = append(v, 'x')
		}
		if accumulator.MaxRecordSize(nil, v, nil) != budget {
			t.Skip("no value size makes the record exactly buffer.memory")
		}
		stalled.Store(true) // nothing gets sent meanwhile: only the budget matters
		defer stalled.Store(false)
		start := time.Now()
		err := p.Send(ctx, &kprod.Record{Topic: topic, Partition: kprod.InPartition(0), Value: v}, nil)
		if err != nil || time.Since(start) > maxBlock/2 {
			t.Fatalf("a record of exactly buffer.memory: Send = %v after %v; the budget leaked", err, time.Since(start))
		}
	})
	stalled.Store(false)
	fctx2, cancel2 := context.WithTimeout(ctx, 5*time.Second)
	defer cancel2()
	if err := p.Flush(fctx2); err != nil {
		t.Fatal(err)
	}
	for i := range 3 * budget / 300 { // three budgets' worth: all must fit as the broker answers
		if err := p.Send(ctx, &kprod.Record{Topic: topic, Partition: kprod.InPartition(0), Value: value}, nil); err != nil {
			t.Fatalf("record %d after recovery: %v", i, err)
		}
	}
}
