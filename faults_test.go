package kprod_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
)

// Fault-injection tests: the embedded cluster (kfake) moves leaders, answers errors,
// drops connections and stalls, and every test checks what reached the log with an
// independent client (kgo): each record exactly once, in send order per partition, at
// the offset its RecordMetadata reported.

// ftTracker sends records asynchronously and collects their outcomes.
type ftTracker struct {
	topic string
	wg    sync.WaitGroup

	mu        sync.Mutex
	sendOrder map[int32][]string // values in Send order per explicit partition
	cbOrder   map[int32][]string // values in callback order per partition
	md        map[string]kprod.RecordMetadata
	errs      map[string]error
	calls     map[string]int
}

func newFTTracker(topic string) *ftTracker {
	return &ftTracker{topic: topic, sendOrder: map[int32][]string{}, cbOrder: map[int32][]string{},
		md: map[string]kprod.RecordMetadata{}, errs: map[string]error{}, calls: map[string]int{}}
}

// send sends value to an explicit partition; a Send error fails the test.
func (tr *ftTracker) send(t *testing.T, p *kprod.Producer, part int32, value string) {
	t.Helper()
	tr.wg.Add(1)
	tr.mu.Lock()
	tr.sendOrder[part] = append(tr.sendOrder[part], value)
	tr.mu.Unlock()
	err := p.Send(context.Background(), &kprod.Record{Topic: tr.topic, Partition: kprod.InPartition(part), Value: []byte(value)},
		func(md kprod.RecordMetadata, err error) {
			defer tr.wg.Done()
			tr.mu.Lock()
			defer tr.mu.Unlock()
			tr.calls[value]++
			tr.cbOrder[md.Partition] = append(tr.cbOrder[md.Partition], value)
			if err != nil {
				tr.errs[value] = err
				return
			}
			tr.md[value] = md
		})
	if err != nil {
		tr.wg.Done()
		t.Fatalf("Send(%s): %v", value, err)
	}
}

// wait waits for every callback, failing the test after d or waitLong, whichever is
// longer: d says what the caller expects, and a loaded machine must not fail the test.
func (tr *ftTracker) wait(t *testing.T, d time.Duration) {
	d = max(d, waitLong)
	t.Helper()
	done := make(chan struct{})
	go func() { tr.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		tr.mu.Lock()
		n := len(tr.calls)
		tr.mu.Unlock()
		t.Fatalf("only %d callbacks ran within %v", n, d)
	}
}

// checkDelivered asserts every callback ran once without error, in send order per
// partition, and that the log holds each record exactly once at its reported offset.
func (tr *ftTracker) checkDelivered(t *testing.T, bootstrap []string) {
	t.Helper()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	total := 0
	for part, vals := range tr.sendOrder {
		total += len(vals)
		if !slices.Equal(tr.cbOrder[part], vals) {
			t.Errorf("partition %d: callbacks ran in order %v, records were sent in order %v", part, head(tr.cbOrder[part]), head(vals))
		}
		for _, v := range vals {
			if tr.calls[v] != 1 {
				t.Errorf("record %s: callback ran %d times", v, tr.calls[v])
			}
			if err := tr.errs[v]; err != nil {
				t.Errorf("record %s failed: %v", v, err)
			}
		}
	}
	if t.Failed() {
		return
	}
	recs := ftReadAll(t, bootstrap, tr.topic, total)
	seen := map[string]int{}
	byPart := map[int32][]string{}
	for _, r := range recs {
		v := string(r.Value)
		seen[v]++
		byPart[r.Partition] = append(byPart[r.Partition], v)
		md, ok := tr.md[v]
		switch {
		case !ok:
			t.Errorf("log holds %q at %d/%d, which was never sent", v, r.Partition, r.Offset)
		case md.Partition != r.Partition || md.Offset != r.Offset:
			t.Errorf("record %s is at %d/%d, its RecordMetadata said %d/%d", v, r.Partition, r.Offset, md.Partition, md.Offset)
		}
	}
	for v, n := range seen {
		if n != 1 {
			t.Errorf("record %s is in the log %d times", v, n)
		}
	}
	for part, vals := range tr.sendOrder {
		if !slices.Equal(byPart[part], vals) {
			t.Errorf("partition %d holds %d records in order %v, sent %d in order %v", part, len(byPart[part]), head(byPart[part]), len(vals), head(vals))
		}
	}
}

func head(s []string) []string {
	if len(s) > 12 {
		return append(slices.Clip(s[:12]), "...")
	}
	return s
}

// ftReadAll reads a topic from the start until it has n records, then keeps polling a
// little longer so that duplicates beyond n are seen too.
func ftReadAll(t *testing.T, bootstrap []string, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records of %s", len(out), n, topic)
		}
		out = append(out, fs.Records()...)
	}
	extra, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	out = append(out, cl.PollFetches(extra).Records()...)
	return out
}

// ftTap is a dialer whose connections report the requests written through them and can
// drop a Produce response: the broker applied the request, the client never hears.
type ftTap struct {
	mu    sync.Mutex
	conns []*ftTapConn

	dropProduceResponses atomic.Int32 // Produce responses still to swallow

	// Produce frames the network took whole, kept by ftWireConn (tap_wire_test.go).
	written  [][]byte
	changed  chan struct{} // closed and replaced when written grows
	initOnce sync.Once

	// gateClose, set before any dial, makes the close of the first connection that
	// carried a Produce request wait until gateClose is closed; gated is closed when it
	// starts waiting. That connection then dies slowly: closing, its requests not yet
	// failed.
	gateClose, gated chan struct{}
	gateOnce         sync.Once
}

func (tp *ftTap) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	c := &ftTapConn{Conn: &ftWireConn{Conn: nc, tap: tp}, tap: tp, keys: map[int32]int16{}}
	tp.mu.Lock()
	tp.conns = append(tp.conns, c)
	tp.mu.Unlock()
	return c, nil
}

// produceConns returns the connections that carried a Produce request, in dial order.
func (tp *ftTap) produceConns() []*ftTapConn {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	var out []*ftTapConn
	for _, c := range tp.conns {
		if c.produces.Load() > 0 {
			out = append(out, c)
		}
	}
	return out
}

type ftTapConn struct {
	net.Conn
	tap      *ftTap
	produces atomic.Int32
	closed   atomic.Bool
	dropped  atomic.Bool

	mu   sync.Mutex      // guards keys
	keys map[int32]int16 // correlation id -> api key of written requests

	reqs reqHeaders // the client's write loop only

	// Read side (the client's read loop only): response frame parser.
	rpend []byte
	rleft int
}

func (c *ftTapConn) Close() error {
	c.closed.Store(true)
	return c.Conn.Close()
}

func (c *ftTapConn) Write(p []byte) (int, error) {
	c.parseRequests(p)
	return c.Conn.Write(p)
}

// parseRequests notes the api key and correlation id of each request frame.
func (c *ftTapConn) parseRequests(p []byte) {
	c.reqs.feed(p, func(key, _ int16, corr int32) {
		c.mu.Lock()
		c.keys[corr] = key
		c.mu.Unlock()
		if key == int16(kmsg.Produce) {
			c.produces.Add(1)
		}
	})
}

// reqHeaders follows the request frames written on a connection and reports each one's
// api key, version and correlation id.
type reqHeaders struct {
	hdr  []byte
	skip int
}

func (h *reqHeaders) feed(p []byte, fn func(key, version int16, corr int32)) {
	for len(p) > 0 {
		if h.skip > 0 {
			n := min(h.skip, len(p))
			h.skip -= n
			p = p[n:]
			continue
		}
		n := min(12-len(h.hdr), len(p))
		h.hdr = append(h.hdr, p[:n]...)
		p = p[n:]
		if len(h.hdr) < 12 {
			return
		}
		size := int(binary.BigEndian.Uint32(h.hdr[0:4]))
		fn(int16(binary.BigEndian.Uint16(h.hdr[4:6])), int16(binary.BigEndian.Uint16(h.hdr[6:8])),
			int32(binary.BigEndian.Uint32(h.hdr[8:12])))
		h.hdr = h.hdr[:0]
		h.skip = size + 4 - 12
	}
}

// Read passes responses through, except that it closes the connection in place of
// delivering a Produce response while the tap has drops left.
func (c *ftTapConn) Read(p []byte) (int, error) {
	for {
		if c.rleft > 0 && len(c.rpend) > 0 {
			n := min(len(p), len(c.rpend), c.rleft)
			copy(p, c.rpend[:n])
			c.rpend = c.rpend[n:]
			c.rleft -= n
			return n, nil
		}
		if c.rleft == 0 && len(c.rpend) >= 8 {
			corr := int32(binary.BigEndian.Uint32(c.rpend[4:8]))
			c.mu.Lock()
			key, ok := c.keys[corr]
			c.mu.Unlock()
			if ok && key == int16(kmsg.Produce) && c.takeDrop() {
				c.dropped.Store(true)
				c.Close()
				return 0, io.EOF
			}
			c.rleft = int(binary.BigEndian.Uint32(c.rpend[0:4])) + 4
			continue
		}
		buf := make([]byte, 4096)
		n, err := c.Conn.Read(buf)
		c.rpend = append(c.rpend, buf[:n]...)
		if n == 0 && err != nil {
			return 0, err
		}
	}
}

func (c *ftTapConn) takeDrop() bool {
	for {
		n := c.tap.dropProduceResponses.Load()
		if n <= 0 {
			return false
		}
		if c.tap.dropProduceResponses.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

// TestFaultLeaderMoves moves every partition's leader twice while records stream and
// makes brokers answer NOT_LEADER_OR_FOLLOWER: the idempotent producer must follow the
// leaders and deliver each record exactly once, in order.
func TestFaultLeaderMoves(t *testing.T) {
	const topic, parts, n = "moving", 3, 300
	c := kafkatest.New(t, kafkatest.Brokers(3), kafkatest.Topic(topic, parts))
	p := newProducer(t, c.Bootstrap(), func(cfg *kprod.Config) { cfg.RetryBackoffMax = 200 * time.Millisecond })
	fake := c.Fake()
	notLeader := fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.NotLeaderForPartition, Count: 4})
	tr := newFTTracker(topic)
	for i := range n {
		if i == n/3 || i == 2*n/3 {
			for part := range int32(parts) {
				next := (fake.LeaderFor(topic, part) + 1) % 3
				if err := fake.MoveTopicPartition(topic, part, next); err != nil {
					t.Fatal(err)
				}
			}
		}
		tr.send(t, p, int32(i%parts), fmt.Sprintf("v%04d", i))
		if i%10 == 9 {
			// Spreads the stream over time, so records are in flight while leaders
			// move; every assertion holds however the records are batched.
			time.Sleep(10 * time.Millisecond)
		}
	}
	tr.wait(t, waitLong)
	if notLeader.Hits() == 0 {
		t.Error("the injected NOT_LEADER_OR_FOLLOWER was never answered")
	}
	tr.checkDelivered(t, c.Bootstrap())
}

// TestFaultDisconnects loses connections and answers: before the broker applies a
// request, after it applied one (the response never arrives), and REQUEST_TIMED_OUT
// after applying. Retries must not duplicate anything (KIP-98 sequence dedup).
func TestFaultDisconnects(t *testing.T) {
	const topic, parts, n = "drops", 2, 200
	for _, tc := range []struct {
		name   string
		inject func(t *testing.T, fake *kfake.Cluster, tap *ftTap) (check func(t *testing.T))
	}{
		{"connection dropped before the broker applies", func(t *testing.T, fake *kfake.Cluster, _ *ftTap) func(*testing.T) {
			var hits atomic.Int32
			fake.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
				if hits.Add(1) == 3 { // a few requests in: some are pipelined behind it
					return nil, errors.New("injected disconnect"), true
				}
				return nil, nil, false
			})
			return func(t *testing.T) {
				if hits.Load() < 3 {
					t.Errorf("only %d Produce requests reached the broker; the disconnect was never injected", hits.Load())
				}
			}
		}},
		{"response lost after the broker applied", func(t *testing.T, _ *kfake.Cluster, tap *ftTap) func(*testing.T) {
			tap.dropProduceResponses.Store(2)
			return func(t *testing.T) {
				if tap.dropProduceResponses.Load() != 0 {
					t.Errorf("%d Produce responses were not dropped", tap.dropProduceResponses.Load())
				}
			}
		}},
		{"REQUEST_TIMED_OUT after the broker applied", func(t *testing.T, fake *kfake.Cluster, _ *ftTap) func(*testing.T) {
			h := fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.RequestTimedOut, Count: 3})
			return func(t *testing.T) {
				if h.Hits() != 3 {
					t.Errorf("REQUEST_TIMED_OUT answered %d times, want 3", h.Hits())
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := kafkatest.New(t, kafkatest.Topic(topic, parts))
			tap := &ftTap{}
			p := newProducer(t, c.Bootstrap(), nil, kprod.WithDialer(tap.dial))
			tr := newFTTracker(topic)
			tr.send(t, p, 0, "warmup") // connections and producer id exist before the fault
			tr.wait(t, waitLong)
			check := tc.inject(t, c.Fake(), tap)
			for i := range n {
				tr.send(t, p, int32(i%parts), fmt.Sprintf("v%04d", i))
				if i%20 == 19 {
					// Spreads the stream over several requests, so the faults hit some
					// while others are in flight; the assertions hold however it is batched.
					time.Sleep(5 * time.Millisecond)
				}
			}
			tr.wait(t, waitLong)
			check(t)
			tr.checkDelivered(t, c.Bootstrap())
		})
	}
}

// TestFaultSlowBroker: a broker slower than request.timeout.ms. The request times out,
// the connection is closed, the record is retried on a new connection and written once
// (the late original is a duplicate the broker drops). The broker holds the original
// until the retry was acknowledged, then handles it, so the order is certain.
func TestFaultSlowBroker(t *testing.T) {
	const topic = "slow"
	c := kafkatest.New(t, kafkatest.Topic(topic, 1))
	tap := &ftTap{}
	const reqTimeout = 500 * time.Millisecond
	p := newProducer(t, c.Bootstrap(), func(cfg *kprod.Config) { cfg.RequestTimeout = reqTimeout }, kprod.WithDialer(tap.dial))
	ctx := context.Background()
	if _, err := p.PartitionsFor(ctx, topic); err != nil {
		t.Fatal(err)
	}
	fake := c.Fake()
	hold := holdProduce(t, fake, nil)
	start := time.Now()
	md, err := p.SendSync(ctx, &kprod.Record{Topic: topic, Value: []byte("slow-0")})
	took := time.Since(start)
	if err != nil {
		t.Fatalf("SendSync: %v", err)
	}
	select {
	case <-hold.arrived: // acknowledged while the original was still unanswered
	default:
		t.Fatal("the record was acknowledged, yet its first request never reached the broker")
	}
	if took < reqTimeout {
		t.Errorf("delivery took %v; the retry cannot come before request.timeout.ms=%v", took, reqTimeout)
	}
	pcs := tap.produceConns()
	if len(pcs) < 2 {
		t.Errorf("%d connections carried Produce requests; want the timed-out one and a new one", len(pcs))
	} else if !pcs[0].closed.Load() {
		t.Error("the connection whose request timed out was not closed")
	}
	hold.releaseHandled(t, fake) // the late original reaches the log, if it will
	md2, err := p.SendSync(ctx, &kprod.Record{Topic: topic, Value: []byte("slow-1")})
	if err != nil {
		t.Fatal(err)
	}
	recs := ftReadAll(t, c.Bootstrap(), topic, 2)
	var got []string
	for _, r := range recs {
		got = append(got, fmt.Sprintf("%s@%d", r.Value, r.Offset))
	}
	want := []string{fmt.Sprintf("slow-0@%d", md.Offset), fmt.Sprintf("slow-1@%d", md2.Offset)}
	if !slices.Equal(got, want) || md.Offset != 0 {
		t.Errorf("log holds %v, want %v with the first at offset 0", got, want)
	}
}

// TestFaultDeliveryTimeout: a broker that never answers fails the record with
// ErrDeliveryTimeout, possibly written, within delivery.timeout.ms (Java expires
// in-flight batches at the deadline, not one request timeout later). The first request
// times out at 3 s and is retried after a backoff; the deadline, 3.5 s, falls during
// the retry, which would time out at 6 s or later: the upper bound below leaves 1.5 s
// for a loaded machine and still tells the two apart.
func TestFaultDeliveryTimeout(t *testing.T) {
	const topic = "never"
	c := kafkatest.New(t, kafkatest.Topic(topic, 1))
	const reqTimeout, delivery = 3 * time.Second, 3500 * time.Millisecond
	p := newProducer(t, c.Bootstrap(), func(cfg *kprod.Config) {
		cfg.RequestTimeout, cfg.DeliveryTimeout, cfg.Linger = reqTimeout, delivery, kprod.ZeroDuration
	})
	ctx := context.Background()
	if _, err := p.PartitionsFor(ctx, topic); err != nil {
		t.Fatal(err)
	}
	fake := c.Fake()
	fake.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		return nil, nil, true // swallowed: no answer ever
	})
	start := time.Now()
	_, err := p.SendSync(ctx, &kprod.Record{Topic: topic, Value: []byte("lost")})
	took := time.Since(start)
	var de *kprod.DeliveryError
	switch {
	case err == nil:
		t.Fatal("SendSync succeeded against a broker that never answers")
	case !errors.Is(err, kprod.ErrDeliveryTimeout):
		t.Errorf("err = %v; want ErrDeliveryTimeout", err)
	case !errors.As(err, &de):
		t.Errorf("err is %T, want *kprod.DeliveryError", err)
	case !kprod.MaybeWritten(err):
		t.Errorf("MaybeWritten(%v) = false; the request had been sent", err)
	}
	t.Logf("failed after %v: %v", took, err)
	if de != nil { // expired in flight (or between attempts): its Timing says so
		if tm := de.Timing; tm.RequestTime <= 0 || tm.Latency < delivery-time.Millisecond || tm.Latency < tm.QueueTime+tm.RequestTime {
			t.Errorf("Timing %+v; want a RequestTime, Latency >= delivery.timeout.ms=%v and >= QueueTime+RequestTime", tm, delivery)
		}
	}
	if took < delivery-50*time.Millisecond || took > delivery+1500*time.Millisecond {
		t.Errorf("the record failed after %v; delivery.timeout.ms=%v bounds it (request.timeout.ms=%v)", took, delivery, reqTimeout)
	}
}

// TestFaultNonRetriable: a non-retriable broker error fails the record at once with a
// *DeliveryError holding a *KafkaError (code, name), not written and not retried.
func TestFaultNonRetriable(t *testing.T) {
	for _, kerrE := range []*kerr.Error{kerr.InvalidRecord, kerr.TopicAuthorizationFailed, kerr.MessageTooLarge} {
		t.Run(kerrE.Message, func(t *testing.T) {
			const topic = "rejects"
			c := kafkatest.New(t, kafkatest.Topic(topic, 1))
			p := newProducer(t, c.Bootstrap(), nil)
			ctx := context.Background()
			h := c.Fake().Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerrE})
			_, err := p.SendSync(ctx, &kprod.Record{Topic: topic, Value: []byte("bad")})
			var de *kprod.DeliveryError
			var ke *kprod.KafkaError
			switch {
			case !errors.As(err, &de):
				t.Fatalf("err = %v (%T); want *kprod.DeliveryError", err, err)
			case !errors.As(de.Err, &ke):
				t.Fatalf("DeliveryError.Err = %v (%T); want *kprod.KafkaError", de.Err, de.Err)
			}
			if ke.Code != kerrE.Code || ke.Name != kerrE.Message || ke.Retriable {
				t.Errorf("KafkaError = %+v; want code %d name %s not retriable", ke, kerrE.Code, kerrE.Message)
			}
			if kprod.MaybeWritten(err) || kprod.IsRetriable(err) {
				t.Errorf("MaybeWritten = %v, IsRetriable = %v; want false, false", kprod.MaybeWritten(err), kprod.IsRetriable(err))
			}
			if !errors.Is(err, &kprod.KafkaError{Code: kerrE.Code}) {
				t.Error("errors.Is(err, &KafkaError{Code}) = false")
			}
			if h.Hits() != 1 {
				t.Errorf("the broker saw the rejected batch %d times; a non-retriable error must not be retried", h.Hits())
			}
		})
	}
}

// TestFaultContinuesAfterRejectedBatch: a batch rejected with a non-retriable error in
// the middle of a stream must not wedge the partition: later records are delivered
// (Java re-sequences or bumps the epoch, KIP-360), earlier ones stay delivered.
func TestFaultContinuesAfterRejectedBatch(t *testing.T) {
	const topic = "gap"
	c := kafkatest.New(t, kafkatest.Topic(topic, 1))
	p := newProducer(t, c.Bootstrap(), nil)
	ctx := context.Background()
	if _, err := p.SendSync(ctx, &kprod.Record{Topic: topic, Value: []byte("before")}); err != nil {
		t.Fatal(err)
	}
	c.Fake().Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.InvalidRecord})
	if _, err := p.SendSync(ctx, &kprod.Record{Topic: topic, Value: []byte("rejected")}); !errors.Is(err, &kprod.KafkaError{Code: kerr.InvalidRecord.Code}) {
		t.Fatalf("rejected record: %v; want INVALID_RECORD", err)
	}
	sctx, cancel := context.WithTimeout(ctx, waitLong)
	defer cancel()
	md, err := p.SendSync(sctx, &kprod.Record{Topic: topic, Value: []byte("after")})
	if err != nil {
		t.Fatalf("the record after a rejected batch failed: %v", err)
	}
	recs := ftReadAll(t, c.Bootstrap(), topic, 2)
	if len(recs) != 2 || string(recs[0].Value) != "before" || string(recs[1].Value) != "after" || recs[1].Offset != md.Offset {
		t.Errorf("log holds %d records; want before, after (at %d)", len(recs), md.Offset)
	}
}

// TestFaultMessageTooLargeSplits: MESSAGE_TOO_LARGE on a batch of many records means the
// batch, not a record, is too large: Java splits it and resends the halves
// (Sender.completeBatch, splitAndReenqueue). Every record must be delivered once, in order.
func TestFaultMessageTooLargeSplits(t *testing.T) {
	const topic, n = "split", 20
	c := kafkatest.New(t, kafkatest.Topic(topic, 1))
	// Linger an hour, Flush sends: the records are one batch however long the Sends take.
	p := newProducer(t, c.Bootstrap(), func(cfg *kprod.Config) { cfg.Linger = time.Hour })
	ctx := context.Background()
	if _, err := p.PartitionsFor(ctx, topic); err != nil {
		t.Fatal(err)
	}
	h := c.Fake().Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.MessageTooLarge})
	tr := newFTTracker(topic)
	for i := range n {
		tr.send(t, p, 0, fmt.Sprintf("m%02d", i))
	}
	fctx, cancel := context.WithTimeout(ctx, waitLong)
	defer cancel()
	if err := p.Flush(fctx); err != nil {
		t.Fatal(err)
	}
	tr.wait(t, waitLong)
	if h.Hits() != 1 {
		t.Fatalf("MESSAGE_TOO_LARGE answered %d times, want 1", h.Hits())
	}
	tr.checkDelivered(t, c.Bootstrap())
}

// TestFaultAcksNone: with acks=0 the broker sends no response; callbacks complete with
// offset -1 and the records are in the log.
func TestFaultAcksNone(t *testing.T) {
	const topic, n = "noacks", 50
	c := kafkatest.New(t, kafkatest.Topic(topic, 1))
	p := newProducer(t, c.Bootstrap(), func(cfg *kprod.Config) { cfg.Acks = kprod.AcksNone })
	tr := newFTTracker(topic)
	for i := range n {
		tr.send(t, p, 0, fmt.Sprintf("a%02d", i))
	}
	tr.wait(t, waitLong)
	tr.mu.Lock()
	for v, md := range tr.md {
		if md.Offset != -1 {
			t.Errorf("record %s: acks=0 reported offset %d, want -1", v, md.Offset)
		}
	}
	if len(tr.errs) > 0 {
		t.Errorf("%d records failed: %v", len(tr.errs), tr.errs)
	}
	tr.mu.Unlock()
	recs := ftReadAll(t, c.Bootstrap(), topic, n)
	for i, r := range recs {
		if want := fmt.Sprintf("a%02d", i); i >= n || string(r.Value) != want || r.Offset != int64(i) {
			t.Errorf("log record %d is %s at %d, want %s at %d", i, r.Value, r.Offset, want, i)
		}
	}
}

// TestFaultRetryBehindInFlightBatch: two batches of a partition are in flight; the
// first fails with a retriable error, so the broker answers the second, whose sequence
// now has a gap, OUT_OF_ORDER_SEQUENCE_NUMBER. That answer is caused by the first
// batch: Java retries it (TransactionManager.canRetry: the batch is not the next
// expected sequence) and both are delivered, in order.
func TestFaultRetryBehindInFlightBatch(t *testing.T) {
	const topic = "behind"
	c := kafkatest.New(t, kafkatest.Topic(topic, 1))
	tap := &ftTap{}
	p := newProducer(t, c.Bootstrap(), nil, kprod.WithDialer(tap.dial))
	tr := newFTTracker(topic)
	tr.send(t, p, 0, "warmup")
	tr.wait(t, waitLong)
	fake := c.Fake()
	// Hold the first request so the second is written behind it on the same connection,
	// then let the fault answer it.
	hold := holdProduce(t, fake, nil)
	h := fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.NotLeaderForPartition})
	written := tap.settledProduces(t)
	tr.send(t, p, 0, "first")
	hold.wait(t) // "first" is in flight
	tr.send(t, p, 0, "second")
	tap.waitProduces(t, written+2) // "second" too, behind it
	hold.release()
	tr.wait(t, waitLong)
	if h.Hits() != 1 {
		t.Errorf("NOT_LEADER_OR_FOLLOWER answered %d times, want 1", h.Hits())
	}
	tr.checkDelivered(t, c.Bootstrap())
}
