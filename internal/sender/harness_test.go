package sender

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod/internal/accumulator"
	"github.com/kprod-io/kprod/internal/config"
	"github.com/kprod-io/kprod/internal/pool"
	"github.com/kprod-io/kprod/internal/txn"
)

// A sender driven by hand, without a network: batches are "sent" by putting them in a
// request as sendToNode does, and answered by handing Produce response bytes to the
// request as the connection's read loop does. The clock is the test's.

// testMeta is a cluster view where every partition is led by node 1.
type testMeta struct{}

func (testMeta) Leader(string, int32) (int32, bool)     { return 1, true }
func (testMeta) PartitionCount(string) int32            { return 0 }
func (testMeta) Refresh()                               {}
func (testMeta) HintLeader(string, int32, int32, int32) {}
func (testMeta) MaxMessageBytes(string) int32           { return 0 }

// testClock is a clock the test moves.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testCompletion is one Complete call.
type testCompletion struct {
	b *accumulator.Batch
	r Result
}

// testHarness is a hand-driven idempotent sender.
type testHarness struct {
	s     *Sender
	acc   *accumulator.Accumulator
	clock *testClock
	done  []testCompletion
}

// newHarness returns an idempotent sender (acks=all) whose settings mod may adjust.
func newHarness(t testing.TB, mod func(*config.Settings)) *testHarness {
	t.Helper()
	h := &testHarness{clock: &testClock{now: time.Now()}}
	h.acc = accumulator.New(accumulator.Config{BatchSize: 1 << 10, BufferMemory: 16 << 20})
	set := config.Settings{Idempotent: true, Acks: -1, BatchSize: 1 << 10, MaxInFlight: 5, MaxRequestSize: 1 << 20,
		DeliveryTimeout: time.Minute, RequestTimeout: 30 * time.Second, Retries: 1 << 30,
		RetryBackoff: 100 * time.Millisecond, RetryBackoffMax: time.Second}
	if mod != nil {
		mod(&set)
	}
	m := txn.New(txn.Config{})
	s, err := New(Config{Settings: set, Acc: h.acc, Meta: testMeta{}, Txn: m, Now: h.clock.Now, Pool: testPool(t),
		Complete: func(b *accumulator.Batch, r Result) { h.done = append(h.done, testCompletion{b, r}) }})
	if err != nil {
		t.Fatal(err)
	}
	h.s = s
	t.Cleanup(func() { s.Shutdown(nil); m.Close() })
	return h
}

// batch appends n records to topic/part and returns the sealed batch holding them.
func (h *testHarness) batch(t testing.TB, topic string, part int32, n int) *accumulator.Batch {
	t.Helper()
	at := h.acc.Topic(topic)
	for i := range n {
		r := &accumulator.Rec{Timestamp: 1, Value: fmt.Appendf(nil, "%s-%d-%d", topic, part, i)}
		if _, ok, err := h.acc.Append(context.Background(), time.Now().Add(time.Second), at,
			accumulator.Target{Partition: part}, r); !ok || err != nil {
			t.Fatalf("Append: %v %v", ok, err)
		}
	}
	p := at.Partition(part)
	qs := p.Queued()
	b := qs[len(qs)-1]
	p.SealHead(b)
	return b
}

// send drains the head batches of the partitions of bs into one request, as sendToNode
// does (stamping sequences on the first drain), and returns it. Each must be its
// partition's head.
func (h *testHarness) send(t testing.TB, version int16, bs ...*accumulator.Batch) *request {
	t.Helper()
	r := h.s.newRequest(1, nil, version)
	for _, b := range bs {
		p := b.PartitionQueue()
		if !p.Pop(b) {
			t.Fatalf("batch %s-%d is not its partition's head", b.Topic, b.Partition)
		}
		if _, err := h.s.encode(p, b); err != nil {
			t.Fatal(err)
		}
		r.add(b)
		if !b.Ordered {
			b.Ordered = true
			p.Ordered = append(p.Ordered, b)
		}
		b.Attempts++
		b.InFlight = true
		p.AddInFlight(b)
	}
	return r
}

// answer hands the request a Produce response body, as the connection's read loop does,
// and lets the sender handle it.
func (h *testHarness) answer(r *request, body []byte, err error) {
	r.onResponse(body, err)
	h.s.handleResponses()
}

// produceResponse encodes a Produce response of the given version answering each batch
// with its code, in the order given.
func produceResponse(version int16, codes map[*accumulator.Batch]int16, order ...*accumulator.Batch) []byte {
	resp := kmsg.NewPtrProduceResponse()
	resp.Version = version
	for _, b := range order {
		var rt *kmsg.ProduceResponseTopic
		if n := len(resp.Topics); n > 0 && resp.Topics[n-1].Topic == b.Topic {
			rt = &resp.Topics[n-1]
		} else {
			resp.Topics = append(resp.Topics, kmsg.ProduceResponseTopic{Topic: b.Topic})
			rt = &resp.Topics[len(resp.Topics)-1]
		}
		rp := kmsg.NewProduceResponseTopicPartition()
		rp.Partition, rp.ErrorCode, rp.BaseOffset, rp.LogStartOffset = b.Partition, codes[b], -1, 0
		if rp.ErrorCode == 0 {
			rp.BaseOffset = 100
		}
		rt.Partitions = append(rt.Partitions, rp)
	}
	return resp.AppendTo(nil)
}

// testPool returns a connection pool that knows no broker, closed when the test ends.
func testPool(t testing.TB) *pool.Pool {
	p := pool.New(pool.Config{})
	t.Cleanup(p.Close)
	return p
}
