package kprod_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
)

// Issue 10, item 2: a partition must never stop accepting records for good. A batch
// that may have been written (its request timed out, was answered REQUEST_TIMED_OUT or
// NOT_ENOUGH_REPLICAS_AFTER_APPEND, or lost its connection after the write) and then
// fails for good leaves the broker's expected sequence in doubt. Each test below injects
// one such path on the embedded cluster, without the broker applying the batch, lets the
// batch fail, then sends more records to the same partition: all must be acknowledged,
// read back exactly once and in order by an independent client (kgo). The broker may
// answer OUT_OF_ORDER_SEQUENCE_NUMBER only to batches already in flight behind the failed
// one when it failed: nothing new is sent while the sequence is in doubt, and the epoch
// bump that settles it starts the partition at sequence 0 (Java:
// TransactionManager.markSequenceUnresolved / maybeResolveSequences, KIP-360). Before the
// fix every later batch was refused OUT_OF_ORDER_SEQUENCE_NUMBER for the life of the
// producer.

// wgTap is a dialer whose connections decode every Produce response and count, for one
// topic, the partitions answered with each error code; it also ticks when a Produce
// request was written and when the client closed a connection that carried one.
type wgTap struct {
	topic   string
	written chan struct{} // a tick per Produce request the client began to write
	closed  chan struct{} // a tick per Produce connection the client closed

	mu    sync.Mutex
	codes map[int16]int
}

func newWGTap(topic string) *wgTap {
	return &wgTap{topic: topic, written: make(chan struct{}, 1024), closed: make(chan struct{}, 64), codes: map[int16]int{}}
}

func (tp *wgTap) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &wgConn{Conn: nc, tap: tp, versions: map[int32]int16{}}, nil
}

// count returns how many partition answers for the topic carried code, and resets the
// counts when reset is set.
func (tp *wgTap) count(code int16, reset bool) int {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	n := tp.codes[code]
	if reset {
		clear(tp.codes)
	}
	return n
}

func tick(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

type wgConn struct {
	net.Conn
	tap      *wgTap
	produced atomic.Bool
	once     sync.Once

	mu       sync.Mutex
	versions map[int32]int16 // correlation id -> version of a Produce request written

	reqs reqHeaders // the client's write loop only
	rbuf []byte     // the client's read loop only: response bytes not yet parsed
}

func (c *wgConn) Close() error {
	if c.produced.Load() {
		c.once.Do(func() { tick(c.tap.closed) })
	}
	return c.Conn.Close()
}

// Write ticks before the bytes reach the socket: a tick after the write could come after
// the broker answered the request, and a test waiting for "written" would then count an
// earlier request's late tick as the one it waits for.
func (c *wgConn) Write(p []byte) (int, error) {
	c.parseRequests(p)
	return c.Conn.Write(p)
}

// parseRequests notes the version and correlation id of each Produce request.
func (c *wgConn) parseRequests(p []byte) {
	c.reqs.feed(p, func(key, version int16, corr int32) {
		if key != int16(kmsg.Produce) {
			return
		}
		c.mu.Lock()
		c.versions[corr] = version
		c.mu.Unlock()
		c.produced.Store(true)
		tick(c.tap.written)
	})
}

func (c *wgConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.rbuf = append(c.rbuf, p[:n]...)
	for len(c.rbuf) >= 8 {
		size := int(binary.BigEndian.Uint32(c.rbuf[0:4]))
		if len(c.rbuf) < 4+size {
			break
		}
		c.response(c.rbuf[4 : 4+size])
		c.rbuf = append(c.rbuf[:0], c.rbuf[4+size:]...)
	}
	return n, err
}

// response counts the error codes of a Produce response frame (without its size).
func (c *wgConn) response(frame []byte) {
	corr := int32(binary.BigEndian.Uint32(frame[0:4]))
	c.mu.Lock()
	version, ok := c.versions[corr]
	delete(c.versions, corr)
	c.mu.Unlock()
	if !ok {
		return
	}
	body := frame[4:]
	if version >= 9 { // flexible: response header v1 carries tagged fields (KIP-482)
		n, k := binary.Uvarint(body)
		body = body[k:]
		for range n {
			_, k := binary.Uvarint(body)
			body = body[k:]
			size, k := binary.Uvarint(body)
			body = body[k+int(size):]
		}
	}
	resp := kmsg.NewPtrProduceResponse()
	resp.Version = version
	if err := resp.ReadFrom(body); err != nil {
		return
	}
	c.tap.mu.Lock()
	defer c.tap.mu.Unlock()
	for _, t := range resp.Topics {
		if t.Topic != c.tap.topic {
			continue
		}
		for _, p := range t.Partitions {
			c.tap.codes[p.ErrorCode]++
		}
	}
}

// wgCheckOutOfOrder asserts the broker answered OUT_OF_ORDER_SEQUENCE_NUMBER want times
// since the fault was armed: once per batch in flight behind the failed one, never to a
// batch sent after it failed.
func wgCheckOutOfOrder(t *testing.T, tap *wgTap, want int) {
	t.Helper()
	if n := tap.count(kerr.OutOfOrderSequenceNumber.Code, false); n != want {
		t.Errorf("the broker answered OUT_OF_ORDER_SEQUENCE_NUMBER %d times after the fault; want %d", n, want)
	}
}

// wgStep is what the broker does with one Produce request for partition 0 of the topic.
type wgStep struct {
	// wait, when set, holds the request (kfake's SleepControl) until it returns.
	wait func()
	// answer is the code answered without applying the request; nil passes the request
	// to the cluster (and its faults), unless drop is set.
	answer *kerr.Error
	// drop closes the connection without applying the request.
	drop bool
}

// wgScript runs steps on the Produce requests for topic/0, one step per request, until
// off is set or the steps run out; later requests reach the cluster as usual.
type wgScript struct {
	off atomic.Bool
	n   atomic.Int32
}

func runScript(fake *kfake.Cluster, topic string, steps ...wgStep) *wgScript {
	sc := &wgScript{}
	fake.ControlKey(int16(kmsg.Produce), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		if sc.off.Load() || !mxCarries(kreq, topic, 0) {
			return nil, nil, false
		}
		n := int(sc.n.Add(1)) - 1
		if n >= len(steps) {
			return nil, nil, false
		}
		st := steps[n]
		if st.wait != nil {
			fake.SleepControl(st.wait)
		}
		switch {
		case st.drop:
			fake.KeepControl()
			return nil, errors.New("injected: connection lost before the write was applied"), true
		case st.answer != nil:
			fake.KeepControl()
			return mxAnswer(kreq, st.answer), nil, true
		}
		return nil, nil, false
	})
	return sc
}

// wgWaitTick waits for a tick on ch, at most 10 s (the test then fails on its outcome).
func wgWaitTick(ch chan struct{}) {
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
	}
}

// wgAfter is how many records follow the failed batch.
const wgAfter = 30

// wgSendAfter sends wgAfter records to partition 0 and returns their values.
func wgSendAfter(t *testing.T, p *kprod.Producer, tr *mxTracker) []string {
	t.Helper()
	var vals []string
	for i := range wgAfter {
		v := fmt.Sprintf("after-%02d", i)
		tr.send(t, p, 0, v)
		vals = append(vals, v)
	}
	return vals
}

// wgVictimFailed asserts the possibly written batch failed with code (0: any), said it
// may have been written, and, for deliveryTimeout, said delivery.timeout.ms expired.
func wgVictimFailed(t *testing.T, tr *mxTracker, victim string, code int16, deliveryTimeout bool) {
	t.Helper()
	err := tr.errOf(victim)
	if err == nil {
		t.Fatalf("%s succeeded; the test needs it to fail for good", victim)
	}
	if !kprod.MaybeWritten(err) {
		t.Errorf("%s: %v: MaybeWritten = false; an earlier attempt may have been written", victim, err)
	}
	if deliveryTimeout != errors.Is(err, kprod.ErrDeliveryTimeout) {
		t.Errorf("%s: %v: errors.Is(ErrDeliveryTimeout) = %v, want %v", victim, err, !deliveryTimeout, deliveryTimeout)
	}
	if code != 0 {
		mxWantKafkaCode(t, victim, err, code)
	}
}

// wgCase is one path to a possibly written batch failing for good on partition 0.
type wgCase struct {
	name string
	mod  func(*kprod.Config)
	// arm installs the faults; it returns the script, nil when there is none.
	arm func(fake *kfake.Cluster, tap *wgTap, topic string) *wgScript
	// code is the Kafka code the batch fails with; deliveryTimeout: it fails with
	// ErrDeliveryTimeout; written: the broker applied it after all.
	code            int16
	deliveryTimeout bool
	written         bool
}

func wgCases() []wgCase {
	fewRetries := func(cfg *kprod.Config) { cfg.Retries = 2 }
	return []wgCase{
		{
			name: "REQUEST_TIMED_OUT then NOT_ENOUGH_REPLICAS until retries run out",
			mod:  fewRetries,
			arm: func(fake *kfake.Cluster, _ *wgTap, topic string) *wgScript {
				return runScript(fake, topic, wgStep{answer: kerr.RequestTimedOut},
					wgStep{answer: kerr.NotEnoughReplicas}, wgStep{answer: kerr.NotEnoughReplicas})
			},
			code: kerr.NotEnoughReplicas.Code,
		},
		{
			name: "REQUEST_TIMED_OUT after the append then NOT_ENOUGH_REPLICAS until retries run out",
			mod:  fewRetries,
			arm: func(fake *kfake.Cluster, _ *wgTap, topic string) *wgScript {
				// kfake applies a batch it answers REQUEST_TIMED_OUT by a Fault.
				fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.RequestTimedOut})
				return runScript(fake, topic, wgStep{}, wgStep{answer: kerr.NotEnoughReplicas}, wgStep{answer: kerr.NotEnoughReplicas})
			},
			code:    kerr.NotEnoughReplicas.Code,
			written: true,
		},
		{
			name: "NOT_ENOUGH_REPLICAS_AFTER_APPEND then INVALID_RECORD",
			arm: func(fake *kfake.Cluster, _ *wgTap, topic string) *wgScript {
				return runScript(fake, topic, wgStep{answer: kerr.NotEnoughReplicasAfterAppend}, wgStep{answer: kerr.InvalidRecord})
			},
			code: kerr.InvalidRecord.Code,
		},
		{
			name: "connection lost after the write then INVALID_RECORD",
			arm: func(fake *kfake.Cluster, _ *wgTap, topic string) *wgScript {
				return runScript(fake, topic, wgStep{drop: true}, wgStep{answer: kerr.InvalidRecord})
			},
			code: kerr.InvalidRecord.Code,
		},
		{
			name: "request.timeout.ms then INVALID_RECORD",
			mod:  func(cfg *kprod.Config) { cfg.RequestTimeout = 300 * time.Millisecond },
			arm: func(fake *kfake.Cluster, tap *wgTap, topic string) *wgScript {
				// Held until the client gave up on the request and closed the connection.
				return runScript(fake, topic, wgStep{wait: func() { wgWaitTick(tap.closed) }, drop: true},
					wgStep{answer: kerr.InvalidRecord})
			},
			code: kerr.InvalidRecord.Code,
		},
		{
			name: "REQUEST_TIMED_OUT then NOT_ENOUGH_REPLICAS until delivery.timeout.ms",
			mod: func(cfg *kprod.Config) {
				cfg.DeliveryTimeout, cfg.RequestTimeout = time.Second, 500*time.Millisecond
			},
			arm: func(fake *kfake.Cluster, _ *wgTap, topic string) *wgScript {
				steps := []wgStep{{answer: kerr.RequestTimedOut}}
				for range 1000 {
					steps = append(steps, wgStep{answer: kerr.NotEnoughReplicas})
				}
				return runScript(fake, topic, steps...)
			},
			code:            kerr.NotEnoughReplicas.Code,
			deliveryTimeout: true,
		},
	}
}

// TestWedgePossiblyWrittenFailure runs every path of wgCases: the failed batch reports
// MaybeWritten, the partition recovers by itself, the records after it are acknowledged
// and in the log exactly once, in order, and few OUT_OF_ORDER_SEQUENCE_NUMBER answers
// were needed.
func TestWedgePossiblyWrittenFailure(t *testing.T) {
	for _, tc := range wgCases() {
		t.Run(tc.name, func(t *testing.T) {
			const topic = "wedge"
			c := kafkatest.New(t, kafkatest.Topic(topic, 1))
			tap := newWGTap(topic)
			p := mxProducer(t, c.Bootstrap(), func(cfg *kprod.Config) {
				// Bounds the test on a wedged producer.
				cfg.DeliveryTimeout, cfg.RequestTimeout = 5*time.Second, 2*time.Second
				if tc.mod != nil {
					tc.mod(cfg)
				}
			}, kprod.WithDialer(tap.dial))
			tr := newMXTracker(topic)
			mxWarmup(t, p, tr, 1)
			tap.count(0, true)
			sc := tc.arm(c.Fake(), tap, topic)
			tr.send(t, p, 0, "victim")
			tr.wait(t, 15*time.Second)
			sc.off.Store(true)
			wgVictimFailed(t, tr, "victim", tc.code, tc.deliveryTimeout)
			after := wgSendAfter(t, p, tr)
			tr.wait(t, 15*time.Second)
			tr.checkCallbacks(t, "victim")
			want := []string{"warm-0"}
			if tc.written {
				want = append(want, "victim")
			}
			mxExpectLog(t, c.Bootstrap(), topic, false, map[int32][]string{0: append(want, after...)}, tr.metadata())
			wgCheckOutOfOrder(t, tap, 0)
		})
	}
}

// wgDrain empties a tick channel.
func wgDrain(ch chan struct{}) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// TestWedgeOutOfOrderBehindFailedHead: two batches of the partition in flight; the
// first is answered REQUEST_TIMED_OUT without being applied, so the broker refuses the
// second OUT_OF_ORDER_SEQUENCE_NUMBER (not the batch it expects next: retried behind the
// first, Java's canRetry), then the first fails for good with INVALID_RECORD. The second
// was never written and must be delivered, once, followed by the records after it.
func TestWedgeOutOfOrderBehindFailedHead(t *testing.T) {
	const topic = "wedge-ooo"
	c := kafkatest.New(t, kafkatest.Topic(topic, 1))
	tap := newWGTap(topic)
	p := mxProducer(t, c.Bootstrap(), func(cfg *kprod.Config) {
		cfg.DeliveryTimeout, cfg.RequestTimeout = 5*time.Second, 2*time.Second
	}, kprod.WithDialer(tap.dial))
	tr := newMXTracker(topic)
	mxWarmup(t, p, tr, 1)
	tap.count(0, true)
	wgDrain(tap.written)
	held := make(chan struct{})
	sc := runScript(c.Fake(), topic,
		// victim-a's request: held until victim-b's request was written behind it, then
		// answered without being applied.
		wgStep{wait: func() { close(held); wgWaitTick(tap.written); wgWaitTick(tap.written) }, answer: kerr.RequestTimedOut},
		wgStep{},                           // victim-b's request: the cluster refuses it OUT_OF_ORDER_SEQUENCE_NUMBER
		wgStep{answer: kerr.InvalidRecord}, // victim-a's retry
	)
	tr.send(t, p, 0, "victim-a")
	select {
	case <-held:
	case <-time.After(10 * time.Second):
		t.Fatal("victim-a's request never reached the broker")
	}
	tr.send(t, p, 0, "victim-b")
	tr.wait(t, 15*time.Second)
	sc.off.Store(true)
	if n := sc.n.Load(); n < 3 {
		t.Fatalf("the script saw %d requests; want victim-a, victim-b and victim-a's retry", n)
	}
	if got := tap.count(kerr.OutOfOrderSequenceNumber.Code, false); got < 1 {
		t.Fatalf("victim-b was never refused OUT_OF_ORDER_SEQUENCE_NUMBER: the test did not reach its case")
	}
	wgVictimFailed(t, tr, "victim-a", kerr.InvalidRecord.Code, false)
	after := wgSendAfter(t, p, tr)
	tr.wait(t, 15*time.Second)
	tr.checkCallbacks(t, "victim-a")
	mxExpectLog(t, c.Bootstrap(), topic, false, map[int32][]string{0: append([]string{"warm-0", "victim-b"}, after...)}, tr.metadata())
	wgCheckOutOfOrder(t, tap, 1) // victim-b's first attempt, in flight behind victim-a
}

// TestWedgeExpiredInQueueBehindPossiblyWritten: a batch answered REQUEST_TIMED_OUT (not
// applied) waits for its retry longer than delivery.timeout.ms; a second batch, never
// sent, waits behind it. The first expires in the queue as possibly written; the second
// either expires too, as not written (it never left the producer), or is sent under the
// new epoch and written once, or expires in flight as possibly written. Whichever, the
// partition goes on.
func TestWedgeExpiredInQueueBehindPossiblyWritten(t *testing.T) {
	const topic = "wedge-queue"
	c := kafkatest.New(t, kafkatest.Topic(topic, 1))
	fake := c.Fake()
	tap := newWGTap(topic)
	queuedDone := make(chan struct{})
	p := mxProducer(t, c.Bootstrap(), func(cfg *kprod.Config) {
		// One request at a time keeps "queued" behind the victim's first attempt; the
		// retry backoff outlasts delivery.timeout.ms so both expire in the queue.
		cfg.MaxInFlight = 1
		cfg.RetryBackoff, cfg.RetryBackoffMax = 3*time.Second, 3*time.Second
		cfg.DeliveryTimeout, cfg.RequestTimeout = 1500*time.Millisecond, time.Second
	}, kprod.WithDialer(tap.dial))
	tr := newMXTracker(topic)
	mxWarmup(t, p, tr, 1)
	tap.count(0, true)
	held, appended := make(chan struct{}), make(chan struct{})
	sc := runScript(fake, topic, wgStep{wait: func() {
		close(held)
		select {
		case <-appended:
		case <-time.After(10 * time.Second):
		}
	}, answer: kerr.RequestTimedOut})
	// The epoch bump that settles the victim's doubt is local (rule 10), so nothing holds
	// it: "queued" either expires in the queue with the victim (not written) or, when its
	// deadline comes a pass later, is sent under the new epoch and written once, or is sent
	// and then expires in flight (possibly written: in the log or not). All are correct;
	// what must never happen is a partition that refuses what comes after.
	var queuedWritten, queuedMaybe atomic.Bool
	tr.send(t, p, 0, "victim")
	select {
	case <-held:
	case <-time.After(10 * time.Second):
		t.Fatal("the victim's request never reached the broker")
	}
	if err := p.Send(context.Background(), &kprod.Record{Topic: topic, Partition: kprod.InPartition(0), Value: []byte("queued")},
		func(_ kprod.RecordMetadata, err error) {
			switch {
			case err == nil:
				queuedWritten.Store(true)
			case !errors.Is(err, kprod.ErrDeliveryTimeout):
				t.Errorf("queued: %v; want success or a delivery timeout", err)
			case kprod.MaybeWritten(err):
				queuedMaybe.Store(true)
			}
			close(queuedDone)
		}); err != nil {
		t.Fatal(err)
	}
	close(appended)
	tr.wait(t, 15*time.Second)
	select {
	case <-queuedDone:
	case <-time.After(15 * time.Second):
		t.Fatal("queued never completed")
	}
	sc.off.Store(true)
	wgVictimFailed(t, tr, "victim", 0, true)
	after := wgSendAfter(t, p, tr)
	tr.wait(t, 15*time.Second)
	tr.checkCallbacks(t, "victim")
	want := []string{"warm-0"}
	if queuedMaybe.Load() { // either is allowed: look
		for _, r := range mxRead(t, c.Bootstrap(), topic, false, 1+len(after)) {
			if string(r.Value) == "queued" {
				queuedWritten.Store(true)
			}
		}
	}
	if queuedWritten.Load() {
		want = append(want, "queued")
	}
	mxExpectLog(t, c.Bootstrap(), topic, false, map[int32][]string{0: append(want, after...)}, tr.metadata())
	wgCheckOutOfOrder(t, tap, 0)
}

// TestWedgeInTransaction: in a transaction, a batch that may have been written and then
// fails for good makes the transaction abortable (Java's maybeTransitionToErrorState);
// after AbortTransaction the next transaction writes to the same partition and commits.
func TestWedgeInTransaction(t *testing.T) {
	for _, v := range mxTxnVersions {
		t.Run(v.name, func(t *testing.T) {
			const topic = "wedge-txn"
			c := mxTxnCluster(t, v.v2, kafkatest.Topic(topic, 1))
			p := mxTxnProducer(t, c, "wedge-"+v.name, v.v2, func(cfg *kprod.Config) {
				cfg.DeliveryTimeout, cfg.RequestTimeout = 5*time.Second, 2*time.Second
			})
			tr := newMXTracker(topic)
			mxCommitTxn(t, p, tr, 1, "warm-0")
			sc := runScript(c.Fake(), topic, wgStep{answer: kerr.RequestTimedOut}, wgStep{answer: kerr.InvalidRecord})
			if err := p.BeginTransaction(); err != nil {
				t.Fatal(err)
			}
			tr.send(t, p, 0, "victim")
			tr.wait(t, 15*time.Second)
			sc.off.Store(true)
			wgVictimFailed(t, tr, "victim", kerr.InvalidRecord.Code, false)
			mxWantAbortable(t, "CommitTransaction after the failure", p.CommitTransaction(mxCtx(t, 5*time.Second)))
			if err := p.AbortTransaction(mxCtx(t, 5*time.Second)); err != nil {
				t.Fatalf("AbortTransaction: %v", err)
			}
			if err := p.BeginTransaction(); err != nil {
				t.Fatal(err)
			}
			after := wgSendAfter(t, p, tr)
			if err := p.CommitTransaction(mxCtx(t, 15*time.Second)); err != nil {
				t.Fatalf("CommitTransaction after the abort: %v", err)
			}
			tr.wait(t, time.Second)
			tr.checkCallbacks(t, "victim")
			mxExpectLog(t, c.Bootstrap(), topic, true, map[int32][]string{0: append([]string{"warm-0"}, after...)}, tr.metadata())
		})
	}
}
