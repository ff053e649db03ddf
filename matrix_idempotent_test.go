package kprod_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
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

// The fault-injection matrix of the idempotence reference
// (/work/shared/reference/idempotence-and-transactions.md), one test per row: each
// injects one broker answer on the embedded cluster (kfake) and checks the exact outcome
// (error type, Kafka code, MaybeWritten) and the log as an independent client (kgo) reads
// it: every acknowledged record exactly once, in send order per partition, at the offset
// its RecordMetadata reported, with the sequence numbers and producer epochs the
// reference requires. This file holds the idempotent rows and the shared helpers;
// matrix_txn_test.go the transactional ones.

// mxProducer starts a producer with fast retries and no linger; mod adjusts the config.
func mxProducer(t *testing.T, bootstrap []string, mod func(*kprod.Config), opts ...kprod.Option) *kprod.Producer {
	t.Helper()
	return newProducer(t, bootstrap, func(cfg *kprod.Config) {
		cfg.RetryBackoff, cfg.RetryBackoffMax, cfg.Linger = 20*time.Millisecond, 200*time.Millisecond, kprod.ZeroDuration
		if mod != nil {
			mod(cfg)
		}
	}, opts...)
}

// mxOutcome is one record's completion.
type mxOutcome struct {
	md    kprod.RecordMetadata
	err   error
	calls int
}

// mxTracker sends records with callbacks and collects their outcomes.
type mxTracker struct {
	topic string
	wg    sync.WaitGroup

	mu    sync.Mutex
	sent  map[int32][]string // values in Send order per partition
	cbs   map[int32][]string // values in callback order per partition
	out   map[string]*mxOutcome
	order []string // every value in Send order
}

func newMXTracker(topic string) *mxTracker {
	return &mxTracker{topic: topic, sent: map[int32][]string{}, cbs: map[int32][]string{}, out: map[string]*mxOutcome{}}
}

// send sends value to partition part; Send itself must succeed.
func (tr *mxTracker) send(t *testing.T, p *kprod.Producer, part int32, value string) {
	t.Helper()
	if err := tr.trySend(p, part, value); err != nil {
		t.Fatalf("Send(%s): %v", value, err)
	}
}

// trySend sends value to partition part and returns Send's error (nothing is tracked
// then).
func (tr *mxTracker) trySend(p *kprod.Producer, part int32, value string) error {
	tr.wg.Add(1)
	tr.mu.Lock()
	tr.sent[part] = append(tr.sent[part], value)
	tr.order = append(tr.order, value)
	tr.out[value] = &mxOutcome{}
	tr.mu.Unlock()
	err := p.Send(context.Background(), &kprod.Record{Topic: tr.topic, Partition: kprod.InPartition(part), Value: []byte(value)},
		func(md kprod.RecordMetadata, err error) {
			defer tr.wg.Done()
			tr.mu.Lock()
			defer tr.mu.Unlock()
			o := tr.out[value]
			o.calls++
			o.md, o.err = md, err
			tr.cbs[part] = append(tr.cbs[part], value)
		})
	if err != nil {
		tr.wg.Done()
		tr.mu.Lock()
		tr.sent[part] = tr.sent[part][:len(tr.sent[part])-1]
		tr.order = tr.order[:len(tr.order)-1]
		delete(tr.out, value)
		tr.mu.Unlock()
	}
	return err
}

// wait waits for every callback, failing the test after d or waitLong, whichever is
// longer: d says what the caller expects, and a loaded machine must not fail the test.
func (tr *mxTracker) wait(t *testing.T, d time.Duration) {
	d = max(d, waitLong)
	t.Helper()
	done := make(chan struct{})
	go func() { tr.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("callbacks still pending after %v", d)
	}
}

// outcome returns value's completion.
func (tr *mxTracker) outcome(value string) mxOutcome {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if o := tr.out[value]; o != nil {
		return *o
	}
	return mxOutcome{}
}

// errOf returns value's delivery error.
func (tr *mxTracker) errOf(value string) error { return tr.outcome(value).err }

// checkCallbacks asserts each callback ran once and, per partition, in send order, and
// that exactly the values in failed failed.
func (tr *mxTracker) checkCallbacks(t *testing.T, failed ...string) {
	t.Helper()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for part, vals := range tr.sent {
		if !slices.Equal(tr.cbs[part], vals) {
			t.Errorf("partition %d: callbacks ran in order %v, records were sent in order %v", part, mxHead(tr.cbs[part]), mxHead(vals))
		}
	}
	for _, v := range tr.order {
		o := tr.out[v]
		if o.calls != 1 {
			t.Errorf("record %s: callback ran %d times", v, o.calls)
		}
		switch want := slices.Contains(failed, v); {
		case want && o.err == nil:
			t.Errorf("record %s succeeded (offset %d); it had to fail", v, o.md.Offset)
		case !want && o.err != nil:
			t.Errorf("record %s failed: %v", v, o.err)
		}
	}
}

// delivered returns, per partition, the values whose callbacks succeeded, in send order.
func (tr *mxTracker) delivered(except ...string) map[int32][]string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	out := map[int32][]string{}
	for part, vals := range tr.sent {
		for _, v := range vals {
			if tr.out[v].err == nil && !slices.Contains(except, v) {
				out[part] = append(out[part], v)
			}
		}
	}
	return out
}

// metadata returns the RecordMetadata of every successful record.
func (tr *mxTracker) metadata() map[string]kprod.RecordMetadata {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	out := map[string]kprod.RecordMetadata{}
	for v, o := range tr.out {
		if o.err == nil && o.calls > 0 {
			out[v] = o.md
		}
	}
	return out
}

func mxHead(s []string) []string {
	if len(s) > 12 {
		return append(slices.Clip(s[:12]), "...")
	}
	return s
}

// mxRead reads topic from the start until it holds want records, then polls a little
// longer so that extra copies show too.
func mxRead(t *testing.T, bootstrap []string, topic string, committed bool, want int) []*kgo.Record {
	t.Helper()
	opts := []kgo.Opt{kgo.SeedBrokers(bootstrap...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100 * time.Millisecond)}
	if committed {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // real Kafka too (txn_test.go)
	defer cancel()
	var out []*kgo.Record
	for len(out) < want && ctx.Err() == nil {
		out = append(out, cl.PollFetches(ctx).Records()...)
	}
	extra, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	out = append(out, cl.PollFetches(extra).Records()...)
	return out
}

// mxExpectLog asserts the log (read_committed when committed) holds exactly want: per
// partition these values in this order, each once, at the offsets md reported (an
// offset of -1, unknown, is accepted only for values in unknownOffset). It returns the
// records by value.
func mxExpectLog(t *testing.T, bootstrap []string, topic string, committed bool, want map[int32][]string,
	md map[string]kprod.RecordMetadata, unknownOffset ...string) map[string]*kgo.Record {
	t.Helper()
	n := 0
	for _, vals := range want {
		n += len(vals)
	}
	recs := mxRead(t, bootstrap, topic, committed, n)
	got := map[int32][]string{}
	byValue := map[string]*kgo.Record{}
	for _, r := range recs {
		v := string(r.Value)
		got[r.Partition] = append(got[r.Partition], v)
		if byValue[v] != nil {
			t.Errorf("record %s is in the log twice (offsets %d and %d)", v, byValue[v].Offset, r.Offset)
		}
		byValue[v] = r
		m, ok := md[v]
		switch {
		case !ok:
			// Reported failed or never sent: the per-partition comparison below says which.
		case m.Offset == -1 && slices.Contains(unknownOffset, v):
		case m.Partition != r.Partition || m.Offset != r.Offset:
			t.Errorf("record %s is at %d/%d; its RecordMetadata said %d/%d", v, r.Partition, r.Offset, m.Partition, m.Offset)
		}
	}
	parts := map[int32]bool{}
	for p := range want {
		parts[p] = true
	}
	for p := range got {
		parts[p] = true
	}
	for p := range parts {
		if !slices.Equal(got[p], want[p]) {
			t.Errorf("partition %d holds %v (read_committed=%v); want exactly %v", p, mxHead(got[p]), committed, mxHead(want[p]))
		}
	}
	return byValue
}

// mxAttempt is one record batch as a broker received it in a Produce request.
type mxAttempt struct {
	partition int32
	pid       int64
	epoch     int16
	seq       int32
	n         int32
	crc       int32
	txn       bool
	size      int // bytes of the encoded batch
	at        time.Time
}

// mxProduceLog records every batch of every Produce request the cluster receives.
type mxProduceLog struct {
	mu       sync.Mutex
	attempts []mxAttempt
}

// observeProduce installs a control that records Produce requests and lets the cluster
// answer them.
func observeProduce(fake *kfake.Cluster, topic string) *mxProduceLog {
	pl := &mxProduceLog{}
	fake.ControlKey(int16(kmsg.Produce), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		req := kreq.(*kmsg.ProduceRequest)
		now := time.Now()
		for _, rt := range req.Topics {
			if rt.Topic != topic {
				continue
			}
			for _, rp := range rt.Partitions {
				var b kmsg.RecordBatch
				if err := b.ReadFrom(rp.Records); err != nil {
					continue
				}
				pl.mu.Lock()
				pl.attempts = append(pl.attempts, mxAttempt{partition: rp.Partition, pid: b.ProducerID, epoch: b.ProducerEpoch,
					seq: b.FirstSequence, n: b.NumRecords, crc: b.CRC, txn: b.Attributes&0x10 != 0, size: len(rp.Records), at: now})
				pl.mu.Unlock()
			}
		}
		return nil, nil, false
	})
	return pl
}

func (pl *mxProduceLog) all() []mxAttempt {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	return slices.Clone(pl.attempts)
}

type mxSeqKey struct {
	partition int32
	pid       int64
	epoch     int16
	seq       int32
}

// checkSequences asserts rules 1 and 2: per partition and producer identity, the
// batches' sequences are contiguous from 0, every resend of a sequence is byte-identical
// (same record count and CRC), and the records they number add up to records[partition].
// It returns how many attempts were resends.
func (pl *mxProduceLog) checkSequences(t *testing.T, records map[int32]int) int {
	t.Helper()
	return pl.checkSequencesFrom(t, records, 0)
}

// checkSequencesFrom is checkSequences for a log whose first observed batch of each
// partition starts at sequence from; records counts the records observed.
func (pl *mxProduceLog) checkSequencesFrom(t *testing.T, records map[int32]int, from int32) int {
	t.Helper()
	first := map[mxSeqKey]mxAttempt{}
	var keys []mxSeqKey
	resends := 0
	for _, a := range pl.all() {
		k := mxSeqKey{a.partition, a.pid, a.epoch, a.seq}
		f, ok := first[k]
		if !ok {
			first[k] = a
			keys = append(keys, k)
			continue
		}
		resends++
		if f.n != a.n || f.crc != a.crc {
			t.Errorf("partition %d pid %d epoch %d sequence %d was sent with different bytes (%d records crc %x, then %d records crc %x): a retry must be byte-identical",
				a.partition, a.pid, a.epoch, a.seq, f.n, f.crc, a.n, a.crc)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.partition != b.partition {
			return a.partition < b.partition
		}
		if a.pid != b.pid || a.epoch != b.epoch {
			return first[a].at.Before(first[b].at)
		}
		return a.seq < b.seq
	})
	total := map[int32]int{}
	next := map[[2]int64]int32{} // (partition, pid<<16|epoch) -> next sequence
	for _, k := range keys {
		id := [2]int64{int64(k.partition), k.pid<<16 | int64(uint16(k.epoch))}
		if _, ok := next[id]; !ok {
			next[id] = from
		}
		if want := next[id]; k.seq != want {
			t.Errorf("partition %d pid %d epoch %d: batch at sequence %d, want %d (sequences must be contiguous from 0)",
				k.partition, k.pid, k.epoch, k.seq, want)
		}
		next[id] = k.seq + first[k].n
		total[k.partition] += int(first[k].n)
	}
	for part, n := range records {
		if total[part] != n {
			t.Errorf("partition %d: sequences number %d records, %d were sent", part, total[part], n)
		}
	}
	return resends
}

// mxDeliveryErr asserts a delivery failure: a *DeliveryError holding a *KafkaError with
// code, and MaybeWritten as given. It returns the *DeliveryError, nil when there is none.
func mxDeliveryErr(t *testing.T, what string, err error, code int16, maybeWritten bool) *kprod.DeliveryError {
	t.Helper()
	var de *kprod.DeliveryError
	var ke *kprod.KafkaError
	switch {
	case err == nil:
		t.Errorf("%s succeeded; want a %s failure", what, kerr.ErrorForCode(code))
		return nil
	case !errors.As(err, &de):
		t.Errorf("%s: %v (%T); want a *kprod.DeliveryError", what, err, err)
		return nil
	}
	if de.MaybeWritten != maybeWritten || kprod.MaybeWritten(err) != maybeWritten {
		t.Errorf("%s: MaybeWritten = %v (field %v); want %v", what, kprod.MaybeWritten(err), de.MaybeWritten, maybeWritten)
	}
	if !errors.As(err, &ke) {
		t.Errorf("%s: %v; want a *kprod.KafkaError with code %d inside", what, err, code)
		return de
	}
	if ke.Code != code || ke.Name != kerr.ErrorForCode(code).(*kerr.Error).Message {
		t.Errorf("%s: KafkaError code %d name %s; want %d %s", what, ke.Code, ke.Name, code, kerr.ErrorForCode(code))
	}
	return de
}

// mxWarmup delivers one record per partition so connections, metadata and the producer
// id exist before a fault is armed.
func mxWarmup(t *testing.T, p *kprod.Producer, tr *mxTracker, parts int32) {
	t.Helper()
	for part := range parts {
		tr.send(t, p, part, fmt.Sprintf("warm-%d", part))
	}
	tr.wait(t, waitLong)
}

// TestMatrixRetriableProduce: Produce answered NOT_LEADER_OR_FOLLOWER,
// NOT_ENOUGH_REPLICAS, NOT_ENOUGH_REPLICAS_AFTER_APPEND (applied), REQUEST_TIMED_OUT
// (applied), or the connection lost after the broker appended, on a few requests of a
// stream over two partitions: each batch is retried with the same sequence and bytes
// (rule 2), the broker's de-duplication keeps one copy, order is kept (rule 3) in the
// log and in the callbacks, and the epoch never changes.
func TestMatrixRetriableProduce(t *testing.T) { mxRetriableProduce(t, "stream") }

// TestMatrixRetriableProducePipelined: the same faults on the first of two requests in
// flight for one partition, so that the second is answered while the first is retried.
func TestMatrixRetriableProducePipelined(t *testing.T) { mxRetriableProduce(t, "pipelined") }

var mxRetriableCodes = []struct {
	name string
	err  *kerr.Error // nil: drop the connection after the broker applied the request
}{
	{"NOT_LEADER_OR_FOLLOWER", kerr.NotLeaderForPartition},
	{"NOT_ENOUGH_REPLICAS", kerr.NotEnoughReplicas},
	{"NOT_ENOUGH_REPLICAS_AFTER_APPEND", kerr.NotEnoughReplicasAfterAppend},
	{"REQUEST_TIMED_OUT", kerr.RequestTimedOut},
	{"disconnect after append", nil},
}

func mxRetriableProduce(t *testing.T, mode string) {
	for _, tc := range mxRetriableCodes {
		t.Run(tc.name, func(t *testing.T) {
			const topic, parts = "retriable", 2
			c := kafkatest.New(t, kafkatest.Topic(topic, parts))
			tap := &ftTap{}
			p := mxProducer(t, c.Bootstrap(), nil, kprod.WithDialer(tap.dial))
			fake := c.Fake()
			tr := newMXTracker(topic)
			mxWarmup(t, p, tr, parts)
			pl := observeProduce(fake, topic)
			faults, n := 3, 60
			var hold *produceHold
			if mode == "pipelined" {
				faults, n = 1, 2
				hold = holdProduce(t, fake, carries(topic, 0))
			}
			var h *kfake.FaultHandle
			if tc.err != nil {
				h = fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: tc.err, Count: faults})
			} else {
				tap.dropProduceResponses.Store(int32(faults))
			}
			sent := map[int32]int{} // records after the warm-up, which took sequence 0
			written := tap.settledProduces(t)
			for i := range n {
				part := int32(i % parts)
				if mode == "pipelined" {
					part = 0
					if i == 1 {
						hold.wait(t) // the first request is held at the broker
					}
				}
				tr.send(t, p, part, fmt.Sprintf("v%03d", i))
				sent[part]++
				if i%10 == 9 {
					// Spreads the stream over several requests, so the faults hit some while
					// others are in flight; every assertion holds however it is batched.
					time.Sleep(5 * time.Millisecond)
				}
			}
			if mode == "pipelined" {
				tap.waitProduces(t, written+2) // the second request is written behind the first
				hold.release()
			}
			tr.wait(t, waitLong)
			if h != nil && h.Hits() != faults {
				t.Errorf("%s answered %d times, want %d", tc.name, h.Hits(), faults)
			}
			if h == nil && tap.dropProduceResponses.Load() != 0 {
				t.Errorf("%d responses were not dropped", tap.dropProduceResponses.Load())
			}
			tr.checkCallbacks(t)
			recs := mxExpectLog(t, c.Bootstrap(), topic, false, tr.delivered(), tr.metadata())
			all := &mxProduceLog{attempts: pl.all()}
			if resends := all.checkSequencesFrom(t, sent, 1); resends < faults {
				t.Errorf("%d batches were resent; every one of the %d faulted requests holds at least one", resends, faults)
			}
			mxSameIdentity(t, recs)
		})
	}
}

// mxSameIdentity asserts every record was written under one producer id and epoch.
func mxSameIdentity(t *testing.T, recs map[string]*kgo.Record) {
	t.Helper()
	ids := map[[2]int64]int{}
	for _, r := range recs {
		ids[[2]int64{r.ProducerID, int64(r.ProducerEpoch)}]++
	}
	if len(ids) != 1 {
		t.Errorf("records were written under %d producer identities %v; a retriable error must not bump the epoch", len(ids), ids)
	}
}

// TestMatrixDuplicateSequence: a batch the broker already holds (its first attempt was
// appended, then answered REQUEST_TIMED_OUT) is answered DUPLICATE_SEQUENCE_NUMBER on the
// retry: success (rule 4), offset unknown (-1) allowed, one copy, later records follow.
func TestMatrixDuplicateSequence(t *testing.T) {
	const topic = "dupseq"
	c := kafkatest.New(t, kafkatest.Topic(topic, 1))
	p := mxProducer(t, c.Bootstrap(), nil)
	pl := observeProduce(c.Fake(), topic)
	tr := newMXTracker(topic)
	mxWarmup(t, p, tr, 1)
	timedOut := c.Fake().Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.RequestTimedOut})
	dup := c.Fake().Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.DuplicateSequenceNumber})
	tr.send(t, p, 0, "dup")
	tr.wait(t, waitLong)
	tr.send(t, p, 0, "after")
	tr.wait(t, waitLong)
	if timedOut.Hits() != 1 || dup.Hits() != 1 {
		t.Fatalf("REQUEST_TIMED_OUT answered %d times, DUPLICATE_SEQUENCE_NUMBER %d; want 1 and 1", timedOut.Hits(), dup.Hits())
	}
	tr.checkCallbacks(t)
	if o := tr.outcome("dup"); o.md.Offset != -1 && o.md.Offset != 1 {
		t.Errorf("the duplicate's offset is %d; want -1 (unknown) or its log offset 1", o.md.Offset)
	}
	mxExpectLog(t, c.Bootstrap(), topic, false, map[int32][]string{0: {"warm-0", "dup", "after"}}, tr.metadata(), "dup")
	if resends := pl.checkSequences(t, map[int32]int{0: 3}); resends != 1 {
		t.Errorf("%d resends; want 1 (the timed-out batch, same sequence)", resends)
	}
}

// mxCarries reports whether a Produce request holds a batch for topic/part.
func mxCarries(kreq kmsg.Request, topic string, part int32) bool {
	for _, rt := range kreq.(*kmsg.ProduceRequest).Topics {
		for _, rp := range rt.Partitions {
			if rt.Topic == topic && rp.Partition == part {
				return true
			}
		}
	}
	return false
}

// TestMatrixOutOfOrderNonHead: two batches of a partition in flight; the first is
// refused NOT_LEADER_OR_FOLLOWER, the second, whose sequence now follows a gap, is
// answered OUT_OF_ORDER_SEQUENCE_NUMBER. It is not the batch the broker expects next,
// so it is retried behind the first (rule 5, non-head), with its sequence: both land
// once, in order, with no epoch bump.
func TestMatrixOutOfOrderNonHead(t *testing.T) {
	const topic = "ooo-nonhead"
	c := kafkatest.New(t, kafkatest.Topic(topic, 1))
	tap := &ftTap{}
	p := mxProducer(t, c.Bootstrap(), nil, kprod.WithDialer(tap.dial))
	fake := c.Fake()
	pl := observeProduce(fake, topic)
	tr := newMXTracker(topic)
	mxWarmup(t, p, tr, 1)
	hold := holdProduce(t, fake, carries(topic, 0))
	notLeader := fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.NotLeaderForPartition})
	ooo := fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.OutOfOrderSequenceNumber})
	written := tap.settledProduces(t)
	tr.send(t, p, 0, "first")
	hold.wait(t) // "first" is in flight, held
	tr.send(t, p, 0, "second")
	tap.waitProduces(t, written+2) // "second" is in flight behind it
	hold.release()
	tr.wait(t, waitLong)
	if notLeader.Hits() != 1 || ooo.Hits() != 1 {
		t.Fatalf("NOT_LEADER_OR_FOLLOWER answered %d times, OUT_OF_ORDER_SEQUENCE_NUMBER %d; want 1 and 1", notLeader.Hits(), ooo.Hits())
	}
	tr.checkCallbacks(t)
	recs := mxExpectLog(t, c.Bootstrap(), topic, false, map[int32][]string{0: {"warm-0", "first", "second"}}, tr.metadata())
	if resends := pl.checkSequences(t, map[int32]int{0: 3}); resends != 2 {
		t.Errorf("%d resends; want 2 (first and second, each with its own sequence)", resends)
	}
	mxSameIdentity(t, recs)
}

// mxBumpControl records every InitProducerId that carries an idempotent producer's
// current id and epoch, and answers it with the next epoch of that id. An idempotent
// producer must send none: it bumps its epoch locally (Java's
// TransactionManager.bumpIdempotentProducerEpoch, KIP-360), since a broker answers
// InitProducerId without a transactional.id with a new producer id, which does not fence
// the old id's late batches.
type mxBumps struct {
	mu   sync.Mutex
	reqs [][2]int64
	at   []time.Time
}

func mxBumpControl(fake *kfake.Cluster) *mxBumps {
	bs := &mxBumps{}
	fake.ControlKey(int16(kmsg.InitProducerID), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		req := kreq.(*kmsg.InitProducerIDRequest)
		if req.TransactionalID != nil || req.ProducerID < 0 {
			return nil, nil, false // a first InitProducerId: the cluster answers
		}
		fake.KeepControl()
		bs.mu.Lock()
		bs.reqs = append(bs.reqs, [2]int64{req.ProducerID, int64(req.ProducerEpoch)})
		bs.at = append(bs.at, time.Now())
		bs.mu.Unlock()
		resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
		resp.ProducerID, resp.ProducerEpoch = req.ProducerID, req.ProducerEpoch+1
		return resp, nil, true
	})
	return bs
}

func (bs *mxBumps) get() ([][2]int64, []time.Time) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	return slices.Clone(bs.reqs), slices.Clone(bs.at)
}

// mxCheckBumped asserts the records were written under the warm-up identity before the
// bump and its next epoch after it: one bump, KIP-360 style (same id, epoch + 1), made
// locally (no InitProducerId).
func mxCheckBumped(t *testing.T, recs map[string]*kgo.Record, bs *mxBumps, old, bumped []string) {
	t.Helper()
	w := recs["warm-0"]
	if w == nil {
		t.Fatal("warm-0 is not in the log")
	}
	if reqs, _ := bs.get(); len(reqs) != 0 {
		t.Errorf("%d InitProducerId requests with the current id %v; want none: an idempotent producer bumps its epoch locally", len(reqs), reqs)
	}
	for _, v := range old {
		if r := recs[v]; r != nil && (r.ProducerID != w.ProducerID || r.ProducerEpoch != w.ProducerEpoch) {
			t.Errorf("record %s was written as %d/%d; want the old identity %d/%d", v, r.ProducerID, r.ProducerEpoch, w.ProducerID, w.ProducerEpoch)
		}
	}
	for _, v := range bumped {
		if r := recs[v]; r != nil && (r.ProducerID != w.ProducerID || r.ProducerEpoch != w.ProducerEpoch+1) {
			t.Errorf("record %s was written as %d/%d; want the bumped epoch %d/%d", v, r.ProducerID, r.ProducerEpoch, w.ProducerID, w.ProducerEpoch+1)
		}
	}
}

// mxTwoLeaders starts a two-broker cluster whose partitions 0 and 1 of topic have
// different leaders, and returns them.
func mxTwoLeaders(t *testing.T, topic string) (*kafkatest.Cluster, int32, int32) {
	t.Helper()
	c := kafkatest.New(t, kafkatest.Brokers(2), kafkatest.Topic(topic, 2))
	fake := c.Fake()
	l0, l1 := fake.LeaderFor(topic, 0), fake.LeaderFor(topic, 1)
	if l0 == l1 {
		var other int32
		for _, id := range []int32{0, 1} {
			if id != l0 {
				other = id
			}
		}
		if err := fake.MoveTopicPartition(topic, 1, other); err != nil {
			t.Fatal(err)
		}
		l1 = other
	}
	return c, l0, l1
}

// mxHeadBump drives the idempotent head-batch sequence errors (OUT_OF_ORDER_SEQUENCE_NUMBER,
// UNKNOWN_PRODUCER_ID): partition 0's head batch gets code while partition 1 has a
// batch in flight on another broker. Rules 5, 6 and 10: the epoch is bumped only once
// partition 1's batch completed (under the old epoch), then the refused batch is resent
// at sequence 0 of the new epoch and lands once; nothing is lost.
func mxHeadBump(t *testing.T, topic string, code *kerr.Error) {
	c, _, l1 := mxTwoLeaders(t, topic)
	fake := c.Fake()
	retried := &mxRetryLog{partition: 0, seen: make(chan struct{})}
	p := mxProducer(t, c.Bootstrap(), nil, kprod.WithLogger(slog.New(retried)))
	bs := mxBumpControl(fake)
	tr := newMXTracker(topic)
	mxWarmup(t, p, tr, 2)
	pl := observeProduce(fake, topic)
	hold := holdProduce(t, fake, func(req *kmsg.ProduceRequest) bool {
		return fake.CurrentNode() == l1 && carries(topic, 1)(req)
	})
	h := fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Partitions: []int32{0}, Err: code})
	tr.send(t, p, 1, "other") // held in flight at partition 1's leader
	hold.wait(t)
	tr.send(t, p, 0, "victim") // refused with code
	if err := h.Wait(mxCtx(t, waitLong), 1); err != nil {
		t.Fatalf("%s was never answered: %v", code.Message, err)
	}
	// Give a wrong implementation its chance to bump the epoch while "other" is in
	// flight: the sender handled the refusal (it requeued the victim, as its debug log
	// says), the victim's retry came due (its backoff is at most retry.backoff.max.ms, 200
	// ms here), and the sender went idle after that, having done whatever it would do. A
	// right producer waits for "other" whatever happens, so this cannot fail it.
	select {
	case <-retried.seen:
	case <-time.After(waitLong):
		t.Fatalf("the sender never requeued the batch refused %s", code.Message)
	}
	due := time.Now().Add(200 * time.Millisecond)
	waitUntil(t, "the sender idle once the victim's retry is due", func() bool {
		return time.Now().After(due) && parkedIn(parkedSender)
	})
	var released atomic.Int64
	released.Store(time.Now().UnixNano())
	hold.release()
	tr.wait(t, waitLong)
	tr.send(t, p, 0, "after-0")
	tr.send(t, p, 1, "after-1")
	tr.wait(t, waitLong)
	if h.Hits() != 1 {
		t.Fatalf("%s answered %d times, want 1", code.Message, h.Hits())
	}
	tr.checkCallbacks(t)
	recs := mxExpectLog(t, c.Bootstrap(), topic, false,
		map[int32][]string{0: {"warm-0", "victim", "after-0"}, 1: {"warm-1", "other", "after-1"}}, tr.metadata())
	mxCheckBumped(t, recs, bs, []string{"warm-0", "warm-1", "other"}, []string{"victim", "after-0", "after-1"})
	w := recs["warm-0"]
	var victimSeqs []string
	var bumped time.Time // the first batch sent under the next epoch
	for _, a := range pl.all() {
		if a.partition == 0 {
			victimSeqs = append(victimSeqs, fmt.Sprintf("%d/%d@%d", a.pid, a.epoch, a.seq))
		}
		if w != nil && a.epoch == w.ProducerEpoch+1 && bumped.IsZero() {
			bumped = a.at
		}
	}
	if rel := released.Load(); !bumped.IsZero() && (rel == 0 || bumped.UnixNano() < rel) {
		t.Errorf("a batch went under the next epoch while partition 1's batch was still in flight (at %v, its request released at %v): rule 10",
			bumped.Format("15:04:05.000"), time.Unix(0, rel).Format("15:04:05.000"))
	}
	want := []string{fmt.Sprintf("%d/%d@1", w.ProducerID, w.ProducerEpoch), fmt.Sprintf("%d/%d@0", w.ProducerID, w.ProducerEpoch+1),
		fmt.Sprintf("%d/%d@1", w.ProducerID, w.ProducerEpoch+1)}
	if !slices.Equal(victimSeqs, want) {
		t.Errorf("partition 0 batches after warm-up were sent as %v (id/epoch@sequence); want %v", victimSeqs, want)
	}
}

// TestMatrixOutOfOrderHeadIdempotent: OUT_OF_ORDER_SEQUENCE_NUMBER on the batch the broker
// expects next (rule 5, head, idempotent): epoch bump after the other partitions drain,
// then the batch is resent under the new epoch and lands once.
func TestMatrixOutOfOrderHeadIdempotent(t *testing.T) {
	mxHeadBump(t, "ooo-head", kerr.OutOfOrderSequenceNumber)
}

// TestMatrixUnknownProducerIDIdempotent: UNKNOWN_PRODUCER_ID (KIP-360, rule 6) for an
// idempotent producer: bump the epoch and resend, no loss.
func TestMatrixUnknownProducerIDIdempotent(t *testing.T) {
	mxHeadBump(t, "unknown-pid", kerr.UnknownProducerID)
}

// TestMatrixMessageTooLargeBatch: a broker whose message.max.bytes is smaller than a batch
// answers MESSAGE_TOO_LARGE; the batch is split (rule 11, not a retry) until the halves
// fit: every record lands once, in order, at its reported offset, with contiguous
// sequences.
func TestMatrixMessageTooLargeBatch(t *testing.T) {
	const topic, n = "too-large-batch", 24
	c := kafkatest.New(t, kafkatest.Topic(topic, 1),
		kafkatest.With(kfake.BrokerConfigs(map[string]string{"message.max.bytes": "1000"})))
	// Linger an hour, Flush sends: the records are one batch however long the Sends take.
	p := mxProducer(t, c.Bootstrap(), func(cfg *kprod.Config) { cfg.Linger = time.Hour })
	pl := observeProduce(c.Fake(), topic)
	tr := newMXTracker(topic)
	if _, err := p.PartitionsFor(context.Background(), topic); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		tr.send(t, p, 0, fmt.Sprintf("r%02d-%s", i, strings.Repeat("x", 100)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	tr.wait(t, waitLong)
	tr.checkCallbacks(t)
	mxExpectLog(t, c.Bootstrap(), topic, false, tr.delivered(), tr.metadata())
	atts := pl.all()
	if len(atts) == 0 || atts[0].n != n {
		t.Fatalf("the first attempt carried %v; want one batch of all %d records", atts, n)
	}
	// kfake refuses exactly the batches above message.max.bytes. A refused batch is split,
	// never resent as is (rule 11); the accepted ones fill the sequences 0..n-1 in order.
	var sent []string
	next := int32(0)
	refused := map[[2]int32]bool{}
	for _, a := range atts {
		sent = append(sent, fmt.Sprintf("%d+%d(%dB)", a.seq, a.n, a.size))
		if a.size > 1000 {
			if refused[[2]int32{a.seq, a.n}] {
				t.Errorf("the refused batch %d+%d was resent whole; it must be split", a.seq, a.n)
			}
			refused[[2]int32{a.seq, a.n}] = true
			continue
		}
		if a.seq != next {
			t.Errorf("accepted batch at sequence %d, want %d", a.seq, next)
		}
		next = a.seq + a.n
	}
	if next != n {
		t.Errorf("accepted batches number %d records, want %d", next, n)
	}
	if t.Failed() {
		t.Logf("batches sent (sequence+records(bytes)): %v", sent)
	}
}

// TestMatrixMessageTooLargeRecord: one record larger than the broker's message.max.bytes
// (but within max.request.size, so Send accepts it) cannot be split: a definite failure,
// MESSAGE_TOO_LARGE, not written; the partition continues.
func TestMatrixMessageTooLargeRecord(t *testing.T) {
	const topic = "too-large-record"
	c := kafkatest.New(t, kafkatest.Topic(topic, 1),
		kafkatest.With(kfake.BrokerConfigs(map[string]string{"message.max.bytes": "1000"})))
	p := mxProducer(t, c.Bootstrap(), nil)
	tr := newMXTracker(topic)
	mxWarmup(t, p, tr, 1)
	big := "big-" + strings.Repeat("x", 2000)
	tr.send(t, p, 0, big)
	tr.wait(t, waitLong)
	tr.send(t, p, 0, "after")
	tr.wait(t, waitLong)
	tr.checkCallbacks(t, big)
	mxDeliveryErr(t, "the oversized record", tr.errOf(big), kerr.MessageTooLarge.Code, false)
	if kprod.IsRetriable(tr.errOf(big)) {
		t.Error("IsRetriable(MESSAGE_TOO_LARGE on one record) = true")
	}
	mxExpectLog(t, c.Bootstrap(), topic, false, map[int32][]string{0: {"warm-0", "after"}}, tr.metadata())
}

// mxRejectWithRecordErrors answers Produce requests for topic/0 with code on every
// partition and per-record errors (KIP-467) for record index 1, as a broker does when it
// validates records (INVALID_RECORD: a compacted topic's null key, a bad timestamp),
// while armed is set; the first answer disarms it unless keep is set.
func mxRejectWithRecordErrors(fake *kfake.Cluster, topic string, code *kerr.Error, armed *atomic.Bool, keep bool) *atomic.Int32 {
	var hits atomic.Int32
	fake.ControlKey(int16(kmsg.Produce), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		if !armed.Load() || !mxCarries(kreq, topic, 0) {
			return nil, nil, false
		}
		fake.KeepControl()
		if !keep {
			armed.Store(false)
		}
		hits.Add(1)
		req := kreq.(*kmsg.ProduceRequest)
		resp := req.ResponseKind().(*kmsg.ProduceResponse)
		for _, rt := range req.Topics {
			st := kmsg.NewProduceResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewProduceResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = code.Code
				sp.BaseOffset = -1
				msg := "injected: one record is invalid"
				sp.ErrorMessage = &msg
				re := kmsg.NewProduceResponseTopicPartitionErrorRecord()
				re.RelativeOffset = 1
				reason := "null key in a compacted topic"
				re.ErrorMessage = &reason
				sp.ErrorRecords = append(sp.ErrorRecords, re)
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	return &hits
}

// TestMatrixRecordValidation: INVALID_RECORD and CORRUPT_MESSAGE with per-record detail
// (KIP-467): a definite failure of the whole batch (not written, MaybeWritten false), the
// broker's record errors in the message, the partition continues with no gap.
// CORRUPT_MESSAGE is retriable in Kafka's table (Java retries it too), so a broker that
// keeps answering it fails the batch once retries are exhausted, still not written.
// Linger is an hour and Flush sends: the three refused records are one batch whatever
// the scheduling (a short linger could expire between two Sends on a loaded machine).
func TestMatrixRecordValidation(t *testing.T) {
	for _, code := range []*kerr.Error{kerr.InvalidRecord, kerr.CorruptMessage} {
		t.Run(code.Message, func(t *testing.T) {
			topic := "validation"
			c := kafkatest.New(t, kafkatest.Topic(topic, 1))
			p := mxProducer(t, c.Bootstrap(), func(cfg *kprod.Config) {
				cfg.Linger = time.Hour
				if code.Retriable {
					cfg.Retries = 2
				}
			})
			tr := newMXTracker(topic)
			tr.send(t, p, 0, "warm-0")
			mxFlushWait(t, p, tr)
			pl := observeProduce(c.Fake(), topic)
			var armed atomic.Bool
			armed.Store(true)
			hits := mxRejectWithRecordErrors(c.Fake(), topic, code, &armed, code.Retriable)
			bad := []string{"bad-0", "bad-1", "bad-2"}
			for _, v := range bad {
				tr.send(t, p, 0, v)
			}
			mxFlushWait(t, p, tr)
			armed.Store(false)
			tr.send(t, p, 0, "after")
			mxFlushWait(t, p, tr)
			tr.checkCallbacks(t, bad...)
			for _, v := range bad {
				err := tr.errOf(v)
				mxDeliveryErr(t, v, err, code.Code, false)
				if !strings.Contains(fmt.Sprint(err), "record 1: null key in a compacted topic") {
					t.Errorf("%s: %v; want the broker's per-record error (record 1: ...) in the message", v, err)
				}
			}
			switch {
			case !code.Retriable && hits.Load() != 1:
				t.Errorf("the broker saw the refused batch %d times; a definite failure is not retried", hits.Load())
			case code.Retriable && hits.Load() < 2:
				t.Errorf("the broker saw the batch %d times; CORRUPT_MESSAGE is retriable", hits.Load())
			}
			mxExpectLog(t, c.Bootstrap(), topic, false, map[int32][]string{0: {"warm-0", "after"}}, tr.metadata())
			// "after" must take the sequence the refused batch released (rule 9: no gap):
			// 1, after warm-0's 0, under the refused batch's producer id and epoch. (A
			// retriable refusal that ran out of delivery.timeout.ms would leave the batch
			// possibly written and the producer would bump its epoch, KIP-360, sequences
			// starting again from 0; accepted, though retries run out first here.)
			attempts := pl.all()
			var afterAt []mxAttempt
			for _, a := range attempts {
				if a.n == 1 {
					afterAt = append(afterAt, a)
				}
			}
			switch {
			case len(attempts) == 0 || len(afterAt) == 0:
				t.Errorf("no attempt of the refused batch or of the record after it; every attempt: %+v", attempts)
			default:
				first, last := attempts[0], afterAt[len(afterAt)-1]
				sameID := last.pid == first.pid && last.epoch == first.epoch
				bumped := code.Retriable && last.pid == first.pid && last.epoch > first.epoch
				if !(sameID && last.seq == 1) && !(bumped && last.seq == 0) {
					t.Errorf("the record after the refused batch was sent at pid %d epoch %d sequence %d; the broker expects sequence 1 under the refused batch's pid %d epoch %d (its sequences must be released), or 0 after an epoch bump; every attempt: %+v",
						last.pid, last.epoch, last.seq, first.pid, first.epoch, attempts)
				}
				if bumped {
					t.Logf("the refused batch outlived delivery.timeout.ms; the epoch was bumped from %d to %d", first.epoch, last.epoch)
				}
			}
		})
	}
}
