package kprod_test

import (
	"context"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Deterministic waits for the root package's tests: a test that needs a request held at
// the broker, or some state reached, waits for that very event rather than sleeping and
// hoping the machine was fast enough (issue 10, item 9). Deadlines here only bound a
// test that is already broken; they are generous so that a loaded machine never trips
// them.

// waitLong bounds waits for something that must happen: reaching it fails the test.
const waitLong = 30 * time.Second

// produceHold holds a Produce request at the broker until released, so that a test
// knows the request reached the broker and is unanswered.
type produceHold struct {
	arrived  chan struct{} // closed when the request is held
	released chan struct{} // closed by release
	once     sync.Once

	mu  sync.Mutex
	req *kmsg.ProduceRequest
}

// holdProduce holds the first Produce request for which match returns true (nil matches
// any) at the broker until release, then lets the cluster handle it, faults included.
// kfake answers a connection's requests in order, so later requests on the same
// connection wait behind the held one without reaching the broker; other connections go
// on. The test's cleanup releases it.
func holdProduce(t *testing.T, fake *kfake.Cluster, match func(*kmsg.ProduceRequest) bool) *produceHold {
	t.Helper()
	h := &produceHold{arrived: make(chan struct{}), released: make(chan struct{})}
	var armed sync.Once
	fake.ControlKey(int16(kmsg.Produce), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		req := kreq.(*kmsg.ProduceRequest)
		if match != nil && !match(req) {
			return nil, nil, false // not this one: keep watching
		}
		held := false
		armed.Do(func() { held = true })
		if !held {
			return nil, nil, false
		}
		fake.DropControl()
		h.mu.Lock()
		h.req = req
		h.mu.Unlock()
		close(h.arrived)
		fake.SleepControl(func() { <-h.released })
		return nil, nil, false
	})
	t.Cleanup(h.release)
	return h
}

// wait waits until the request is held at the broker.
func (h *produceHold) wait(t *testing.T) {
	t.Helper()
	select {
	case <-h.arrived:
	case <-time.After(waitLong):
		t.Fatalf("no Produce request reached the broker within %v", waitLong)
	}
}

// release lets the broker handle the held request (or the first matching one to come).
func (h *produceHold) release() { h.once.Do(func() { close(h.released) }) }

// releaseHandled releases the held request and returns once the cluster is handling it:
// a control added now is the first to see it when it resumes (controls that already saw
// a request are skipped), and the cluster's loop handles it before any request that
// reaches the broker after this returns.
func (h *produceHold) releaseHandled(t *testing.T, fake *kfake.Cluster) {
	t.Helper()
	h.wait(t)
	req := h.request()
	resumed := make(chan struct{})
	var once sync.Once
	fake.ControlKey(int16(kmsg.Produce), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		if kreq == req {
			fake.DropControl()
			once.Do(func() { close(resumed) })
		}
		return nil, nil, false
	})
	h.release()
	select {
	case <-resumed:
	case <-time.After(waitLong):
		t.Fatalf("the held Produce request was not handled within %v of its release", waitLong)
	}
}

// request returns the held request, nil before it arrived.
func (h *produceHold) request() *kmsg.ProduceRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.req
}

// carries returns a match for holdProduce: a request with a batch for topic/part.
func carries(topic string, part int32) func(*kmsg.ProduceRequest) bool {
	return func(req *kmsg.ProduceRequest) bool { return mxCarries(req, topic, part) }
}

// waitUntil polls cond until it holds, failing the test after waitLong. Only for state
// no hook reports (a goroutine parked inside the producer, say); an event that a control
// or a tap can signal is waited for on a channel instead.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLong)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %v", what, waitLong)
		}
		time.Sleep(time.Millisecond)
	}
}

// parkedIn reports whether some goroutine is blocked (on a channel, a select, a
// WaitGroup or a lock) directly in fn, a function name as runtime stacks print it, such
// as "github.com/kprod-io/kprod/internal/cluster.(*Cluster).Wait": a Send waiting for metadata or for
// buffer.memory has no other sign. For waitUntil.
func parkedIn(fn string) bool {
	for _, g := range goroutineStacks() {
		lines := strings.Split(g, "\n")
		if !strings.Contains(lines[0], "[select") && !strings.Contains(lines[0], "[chan ") &&
			!strings.Contains(lines[0], "[sync.") && !strings.Contains(lines[0], "[semacquire") {
			continue
		}
		for _, l := range lines[1:] {
			if strings.HasPrefix(l, "\t") || strings.HasPrefix(l, "runtime.") || strings.HasPrefix(l, "sync.") ||
				strings.HasPrefix(l, "internal/sync.") {
				continue // a file:line, or the scheduler's and sync's own frames
			}
			if strings.HasPrefix(l, fn+"(") {
				return true
			}
			break
		}
	}
	return false
}

// Functions a Send parks in, for parkedIn.
const (
	parkedForMetadata = "github.com/kprod-io/kprod/internal/cluster.(*Cluster).Wait"
	parkedForBuffer   = "github.com/kprod-io/kprod/internal/accumulator.(*Budget).Acquire"
	// The sender loop between two passes: nothing to do until woken or a timer fires.
	parkedSender = "github.com/kprod-io/kprod/internal/sender.(*Sender).Run"
)

// goroutineStacks returns the stack of every goroutine, the caller's first.
func goroutineStacks() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Split(string(buf[:n]), "\n\n")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// mxRetryLog is a slog handler that closes seen when the sender logs that it requeued a
// batch of partition (its debug record "kprod: retrying batch"): the sender has handled
// the batch's refusal.
type mxRetryLog struct {
	partition int64
	seen      chan struct{}
	once      sync.Once
}

func (h *mxRetryLog) Enabled(context.Context, slog.Level) bool { return true }
func (h *mxRetryLog) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *mxRetryLog) WithGroup(string) slog.Handler            { return h }
func (h *mxRetryLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "kprod: retrying batch" {
		return nil
	}
	r.Attrs(func(a slog.Attr) bool {
		if v := a.Value.Resolve(); a.Key == "partition" && v.Kind() == slog.KindInt64 && v.Int64() == h.partition {
			h.once.Do(func() { close(h.seen) })
		}
		return true
	})
	return nil
}
