package kprod_test

import (
	"context"
	"errors"
	"strconv"
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
	"github.com/kprod-io/kprod/internal/testcluster"
	"github.com/kprod-io/kprod/kafkatest"
)

// A transaction must not commit without its offsets (issue 10, item 1). Java keeps an
// offset commit that did not complete pending (TransactionManager.pendingTxnOffsetCommits),
// retries it, and completes commitTransaction only after it: the consume-transform-produce
// loop then neither re-processes nor skips input.

// txEndTxns records the EndTxn requests the cluster receives (commit or abort), letting
// it answer them.
type txEndTxns struct {
	mu   sync.Mutex
	ends []bool
}

func txWatchEndTxn(fake *kfake.Cluster) *txEndTxns {
	e := &txEndTxns{}
	fake.ControlKey(int16(kmsg.EndTxn), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		e.mu.Lock()
		e.ends = append(e.ends, kreq.(*kmsg.EndTxnRequest).Commit)
		e.mu.Unlock()
		return nil, nil, false
	})
	return e
}

func (e *txEndTxns) commits() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, c := range e.ends {
		if c {
			n++
		}
	}
	return n
}

// txStableOffset reads group's committed offset of topic/partition with an OffsetFetch
// that requires stable offsets (KIP-447: no transactional commit pending): -1 when none.
// The coordinator answers UNSTABLE_OFFSET_COMMIT while a transaction's markers are being
// written; that state has no hook, so it is polled for up to 10 s.
func txStableOffset(t *testing.T, bootstrap []string, group, topic string, partition int32) int64 {
	t.Helper()
	cl := rtClient(t, bootstrap)
	deadline := time.Now().Add(10 * time.Second)
	for {
		req := kmsg.NewPtrOffsetFetchRequest()
		req.RequireStable = true
		g := kmsg.NewOffsetFetchRequestGroup()
		g.Group = group
		gt := kmsg.NewOffsetFetchRequestGroupTopic()
		gt.Topic, gt.Partitions = topic, []int32{partition}
		g.Topics = append(g.Topics, gt)
		req.Groups = append(req.Groups, g)
		rt := kmsg.NewOffsetFetchRequestTopic()
		rt.Topic, rt.Partitions = topic, []int32{partition}
		req.Group, req.Topics = group, append(req.Topics, rt)
		resp, err := req.RequestWith(mxCtx(t, 10*time.Second), cl)
		if err != nil {
			t.Fatalf("OffsetFetch: %v", err)
		}
		code, offset := resp.ErrorCode, int64(-1)
		for _, rg := range resp.Groups {
			if code == 0 {
				code = rg.ErrorCode
			}
			for _, tt := range rg.Topics {
				for _, p := range tt.Partitions {
					if tt.Topic == topic && p.Partition == partition {
						offset = p.Offset
						if code == 0 {
							code = p.ErrorCode
						}
					}
				}
			}
		}
		for _, tt := range resp.Topics { // OffsetFetch < v8
			for _, p := range tt.Partitions {
				if tt.Topic == topic && p.Partition == partition {
					offset = p.Offset
					if code == 0 {
						code = p.ErrorCode
					}
				}
			}
		}
		switch code {
		case 0:
			return offset
		case kerr.GroupIDNotFound.Code: // kfake, for a group nothing was committed for
			return -1
		case kerr.UnstableOffsetCommit.Code:
			if time.Now().After(deadline) {
				t.Fatalf("OffsetFetch(require_stable) of group %s: still UNSTABLE_OFFSET_COMMIT after 10 s", group)
			}
			time.Sleep(50 * time.Millisecond)
		default:
			t.Fatalf("OffsetFetch of group %s: %v", group, kerr.ErrorForCode(code))
		}
	}
}

// txWantTimeout asserts err is the max.block.ms timeout of a transaction call: it wraps
// ErrTransactionTimeout, says which limit expired, is retriable, and is neither
// context.DeadlineExceeded (the caller's ctx had none) nor abortable or fatal.
func txWantTimeout(t *testing.T, what string, err error, maxBlock time.Duration) {
	t.Helper()
	var ae *kprod.AbortableError
	var fe *kprod.FatalError
	switch {
	case !errors.Is(err, kprod.ErrTransactionTimeout):
		t.Errorf("%s: %v; want ErrTransactionTimeout", what, err)
	case errors.Is(err, context.DeadlineExceeded):
		t.Errorf("%s: %v; the caller's ctx had no deadline, yet errors.Is(err, context.DeadlineExceeded)", what, err)
	case !strings.Contains(err.Error(), "max.block.ms ("+itoa(maxBlock.Milliseconds())+" ms) expired"):
		t.Errorf("%s: %q does not say that max.block.ms (%d ms) expired", what, err, maxBlock.Milliseconds())
	case !kprod.IsRetriable(err):
		t.Errorf("%s: IsRetriable(%v) = false; a max.block.ms timeout is retriable (Java's TimeoutException)", what, err)
	case errors.As(err, &ae) || errors.As(err, &fe):
		t.Errorf("%s: %v; a timeout is neither abortable nor fatal", what, err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestTxnCommitWaitsForOffsets: SendOffsetsToTransaction with an offset of a topic the
// broker does not know times out after max.block.ms (UNKNOWN_TOPIC_OR_PARTITION is
// retriable); CommitTransaction then must not commit the transaction without the offsets:
// it sends no EndTxn(commit) and times out too, and read_committed sees nothing. Once the
// topic exists, CommitTransaction again commits the record and the offset together.
func TestTxnCommitWaitsForOffsets(t *testing.T) {
	for _, v := range mxTxnVersions {
		t.Run(v.name, func(t *testing.T) {
			const out, in, group, maxBlock = "eos-out", "eos-in", "eos-group", time.Second
			c := mxTxnCluster(t, v.v2, kafkatest.Topic(out, 1)) // no topic eos-in yet
			p := mxTxnProducer(t, c, "eos", v.v2, func(cfg *kprod.Config) { cfg.MaxBlock = maxBlock })
			ends := txWatchEndTxn(c.Fake())
			commits := c.Fake().Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.TxnOffsetCommit}, Observe: true, Count: -1})
			tr := newMXTracker(out)
			if err := p.BeginTransaction(); err != nil {
				t.Fatal(err)
			}
			tr.send(t, p, 0, "r-0")
			offsets := map[kprod.TopicPartition]kprod.OffsetAndMetadata{{Topic: in, Partition: 0}: {Offset: 7, LeaderEpoch: -1}}
			err := p.SendOffsetsToTransaction(context.Background(), offsets, kprod.ConsumerGroupMetadata{GroupID: group})
			txWantTimeout(t, "SendOffsetsToTransaction", err, maxBlock)
			// A TxnOffsetCommit answered UNKNOWN_TOPIC_OR_PARTITION is retried after a backoff
			// (retry.backoff.ms, 20 ms here): within max.block.ms (1 s) at least one retry
			// goes out, and the error names the code of the last answer.
			if n := commits.Hits(); n < 2 {
				t.Errorf("%d TxnOffsetCommit requests within max.block.ms; want the first and at least one retry", n)
			}
			if err != nil && !strings.Contains(err.Error(), "UNKNOWN_TOPIC_OR_PARTITION") {
				t.Errorf("SendOffsetsToTransaction: %q does not name the last error, UNKNOWN_TOPIC_OR_PARTITION", err)
			}

			err = p.CommitTransaction(context.Background())
			if err == nil {
				t.Fatal("CommitTransaction returned nil: the transaction committed without its offsets")
			}
			txWantTimeout(t, "CommitTransaction with the offsets pending", err, maxBlock)
			if n := ends.commits(); n != 0 {
				t.Errorf("%d EndTxn(commit) sent while the offsets were not committed", n)
			}
			tr.wait(t, time.Second) // the record itself was written (uncommitted)
			if recs := mxRead(t, c.Bootstrap(), out, true, 0); len(recs) != 0 {
				t.Errorf("read_committed sees %d records of the transaction before it committed", len(recs))
			}

			// The fault clears: the topic exists now, and the retried commit completes.
			testcluster.CreateTopic(t, rtClient(t, c.Bootstrap()), in, 1, 1, nil)
			if err := p.CommitTransaction(mxCtx(t, 5*time.Second)); err != nil {
				t.Fatalf("CommitTransaction once the topic exists: %v", err)
			}
			if n := ends.commits(); n != 1 {
				t.Errorf("%d EndTxn(commit); want 1", n)
			}
			if got := txStableOffset(t, c.Bootstrap(), group, in, 0); got != 7 {
				t.Errorf("the group's committed offset is %d, want 7 (committed with the transaction)", got)
			}
			tr.checkCallbacks(t)
			mxExpectLog(t, c.Bootstrap(), out, true, map[int32][]string{0: {"r-0"}}, tr.metadata())
		})
	}
}

// TestTxnSendOffsetsResumes: a SendOffsetsToTransaction that timed out while the group
// coordinator answered a retriable error is called again with the same offsets once the
// fault clears and completes; the commit then carries the offsets. A second call with a
// later offset of the same partition replaces the pending one.
func TestTxnSendOffsetsResumes(t *testing.T) {
	for _, v := range mxTxnVersions {
		t.Run(v.name, func(t *testing.T) {
			const out, in, group, maxBlock = "resume-out", "resume-in", "resume-group", time.Second
			c := mxTxnCluster(t, v.v2, kafkatest.Topic(out, 1), kafkatest.Topic(in, 2))
			fake := c.Fake()
			p := mxTxnProducer(t, c, "resume", v.v2, func(cfg *kprod.Config) { cfg.MaxBlock = maxBlock })
			tr := newMXTracker(out)
			if err := p.BeginTransaction(); err != nil {
				t.Fatal(err)
			}
			tr.send(t, p, 0, "r-0")
			h := fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.TxnOffsetCommit}, Group: group, Err: kerr.CoordinatorLoadInProgress, Count: -1})
			offsets := map[kprod.TopicPartition]kprod.OffsetAndMetadata{
				{Topic: in, Partition: 0}: {Offset: 3, LeaderEpoch: -1},
				{Topic: in, Partition: 1}: {Offset: 4, LeaderEpoch: -1},
			}
			gm := kprod.ConsumerGroupMetadata{GroupID: group}
			txWantTimeout(t, "SendOffsetsToTransaction", p.SendOffsetsToTransaction(context.Background(), offsets, gm), maxBlock)
			if h.Hits() < 1 {
				t.Errorf("no TxnOffsetCommit reached the coordinator")
			}
			h.Remove()
			offsets[kprod.TopicPartition{Topic: in, Partition: 1}] = kprod.OffsetAndMetadata{Offset: 5, LeaderEpoch: -1}
			if err := p.SendOffsetsToTransaction(mxCtx(t, 5*time.Second), offsets, gm); err != nil {
				t.Fatalf("SendOffsetsToTransaction again: %v", err)
			}
			if err := p.CommitTransaction(mxCtx(t, 5*time.Second)); err != nil {
				t.Fatalf("CommitTransaction: %v", err)
			}
			for part, want := range map[int32]int64{0: 3, 1: 5} {
				if got := txStableOffset(t, c.Bootstrap(), group, in, part); got != want {
					t.Errorf("partition %d: committed offset %d, want %d", part, got, want)
				}
			}
			tr.wait(t, time.Second)
			tr.checkCallbacks(t)
			mxExpectLog(t, c.Bootstrap(), out, true, map[int32][]string{0: {"r-0"}}, tr.metadata())
		})
	}
}

// TestTxnOffsetsGroupErrors: the group coordinator's errors on TxnOffsetCommit, as Java
// 4.x's TxnOffsetCommitHandler classifies them. GROUP_AUTHORIZATION_FAILED, a fenced or
// outdated member (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, FENCED_INSTANCE_ID) and
// TRANSACTION_ABORTABLE make the transaction abortable: CommitTransaction refuses with an
// *AbortableError and sends no EndTxn(commit), the abort drops the offsets, and the next
// transaction commits its own. PRODUCER_FENCED, INVALID_PRODUCER_EPOCH,
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED, UNSUPPORTED_FOR_MESSAGE_FORMAT and a code the
// handler does not expect (REBALANCE_IN_PROGRESS: "Unexpected error in
// TxnOffsetCommitResponse") are fatal; the last two used to be abortable. The error
// arrives on the commit that resumed a timed-out offset commit, or at once.
func TestTxnOffsetsGroupErrors(t *testing.T) {
	type row struct {
		code  *kerr.Error
		fatal bool
	}
	rows := []row{
		{kerr.GroupAuthorizationFailed, false}, {kerr.UnknownMemberID, false}, {kerr.IllegalGeneration, false},
		{kerr.FencedInstanceID, false}, {kerr.TransactionAbortable, false},
		{kerr.ProducerFenced, true}, {kerr.InvalidProducerEpoch, true}, {kerr.TransactionalIDAuthorizationFailed, true},
		{kerr.UnsupportedForMessageFormat, true}, {kerr.RebalanceInProgress, true},
	}
	for _, r := range rows {
		for _, when := range []string{"on SendOffsets", "on the resumed commit"} {
			t.Run(r.code.Message+"/"+when, func(t *testing.T) {
				const out, in, group, maxBlock = "gerr-out", "gerr-in", "gerr-group", time.Second
				c := kafkatest.New(t, kafkatest.Topic(out, 1), kafkatest.Topic(in, 1))
				fake := c.Fake()
				p := mxTxnProducer(t, c, "gerr", true, func(cfg *kprod.Config) { cfg.MaxBlock = maxBlock })
				ends := txWatchEndTxn(fake)
				tr := newMXTracker(out)
				if err := p.BeginTransaction(); err != nil {
					t.Fatal(err)
				}
				tr.send(t, p, 0, "doomed-0")
				mxFlushWait(t, p, tr) // written before the offsets fail, then aborted
				gm := kprod.ConsumerGroupMetadata{GroupID: group, GenerationID: 3, MemberID: "m-1", GroupInstanceID: "i-1"}
				offsets := map[kprod.TopicPartition]kprod.OffsetAndMetadata{{Topic: in, Partition: 0}: {Offset: 9, LeaderEpoch: -1}}
				var err error
				if when == "on SendOffsets" {
					fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.TxnOffsetCommit}, Group: group, Err: r.code})
					err = p.SendOffsetsToTransaction(mxCtx(t, 5*time.Second), offsets, gm)
				} else {
					// One switch, not Remove then Fault: a TxnOffsetCommit already on the wire
					// when max.block.ms expires must meet one of the two faults, never kfake's
					// own handler (which answers ILLEGAL_GENERATION for the unknown member)
					// in the gap between them.
					var resumed atomic.Bool
					fake.Fault(
						kfake.Fault{Keys: []kmsg.Key{kmsg.TxnOffsetCommit}, Group: group, Err: kerr.CoordinatorLoadInProgress, Count: -1,
							When: func(kmsg.Request) bool { return !resumed.Load() }},
						kfake.Fault{Keys: []kmsg.Key{kmsg.TxnOffsetCommit}, Group: group, Err: r.code,
							When: func(kmsg.Request) bool { return resumed.Load() }},
					)
					txWantTimeout(t, "SendOffsetsToTransaction", p.SendOffsetsToTransaction(context.Background(), offsets, gm), maxBlock)
					resumed.Store(true)
				}
				if err == nil {
					err = p.CommitTransaction(mxCtx(t, 5*time.Second))
				}
				if r.fatal {
					mxWantFatal(t, "the offset commit", err)
				} else {
					mxWantAbortable(t, "the offset commit", err)
				}
				mxWantKafkaCode(t, "the offset commit", err, r.code.Code)
				if err := p.CommitTransaction(mxCtx(t, time.Second)); err == nil {
					t.Fatal("CommitTransaction after the error succeeded")
				}
				if n := ends.commits(); n != 0 {
					t.Errorf("%d EndTxn(commit) after the offsets failed", n)
				}
				tr.wait(t, time.Second)
				if r.fatal {
					mxCheckFatalAfter(t, p, out, 0)
					return
				}
				if err := p.AbortTransaction(mxCtx(t, 5*time.Second)); err != nil {
					t.Fatalf("AbortTransaction: %v", err)
				}
				if err := p.BeginTransaction(); err != nil {
					t.Fatal(err)
				}
				tr.send(t, p, 0, "next-0")
				gm.GenerationID = -1 // the consumer rejoined; kfake checks no membership at -1
				gm.MemberID, gm.GroupInstanceID = "", ""
				next := map[kprod.TopicPartition]kprod.OffsetAndMetadata{{Topic: in, Partition: 0}: {Offset: 12, LeaderEpoch: -1}}
				if err := p.SendOffsetsToTransaction(mxCtx(t, 5*time.Second), next, gm); err != nil {
					t.Fatalf("SendOffsetsToTransaction in the next transaction: %v", err)
				}
				if err := p.CommitTransaction(mxCtx(t, 5*time.Second)); err != nil {
					t.Fatalf("CommitTransaction of the next transaction: %v", err)
				}
				if got := txStableOffset(t, c.Bootstrap(), group, in, 0); got != 12 {
					t.Errorf("committed offset %d, want 12 (the aborted transaction's 9 dropped)", got)
				}
				tr.wait(t, time.Second)
				tr.checkCallbacks(t)
				mxExpectLog(t, c.Bootstrap(), out, true, map[int32][]string{0: {"next-0"}}, tr.metadata())
			})
		}
	}
}

// TestTxnConsumeTransformProduceReal: the consume-transform-produce loop on real Kafka
// (4.x with transaction.version 2: transactions v2; 3.9: v1): a franz-go consumer in a
// group reads input, kprod writes the transformed records and commits the consumed offsets
// in the same transaction, with the consumer's group metadata (KIP-447). One transaction
// is aborted on purpose. read_committed sees each input transformed exactly once, and the group's
// committed offsets (require_stable) are the end of the input.
func TestTxnConsumeTransformProduceReal(t *testing.T) {
	for _, v := range []string{"4.", "3.9."} {
		t.Run(v[:len(v)-1], func(t *testing.T) {
			c := testcluster.RealVersion(t, 1, v)
			suffix := itoa(time.Now().UnixNano())
			in, out, group := "ctp-in-"+suffix, "ctp-out-"+suffix, "ctp-group-"+suffix
			admin := rtClient(t, c.Bootstrap)
			testcluster.CreateTopic(t, admin, in, 2, 1, nil)
			testcluster.CreateTopic(t, admin, out, 2, 1, nil)
			const n = 60
			seed := rtClient(t, c.Bootstrap, kgo.DefaultProduceTopic(in), kgo.RecordPartitioner(kgo.ManualPartitioner()))
			for i := range n {
				r := &kgo.Record{Partition: int32(i % 2), Value: []byte("in-" + itoa(int64(i)))}
				if err := seed.ProduceSync(mxCtx(t, 30*time.Second), r).FirstErr(); err != nil {
					t.Fatal(err)
				}
			}
			p := newProducer(t, c.Bootstrap, func(cfg *kprod.Config) { cfg.TransactionalID = "ctp-" + suffix })
			ctx := mxCtx(t, 2*time.Minute)
			if err := p.InitTransactions(ctx); err != nil {
				t.Fatal(err)
			}
			cons := rtClient(t, c.Bootstrap, kgo.ConsumerGroup(group), kgo.ConsumeTopics(in),
				kgo.DisableAutoCommit(), kgo.RequireStableFetchOffsets(), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
				kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond))
			consumed, aborted := 0, false
			for consumed < n && ctx.Err() == nil {
				fs := cons.PollFetches(ctx)
				if errs := fs.Errors(); len(errs) > 0 {
					t.Fatalf("poll: %v", errs)
				}
				recs := fs.Records()
				if len(recs) == 0 {
					continue
				}
				member, gen := cons.GroupMetadata()
				gm := kprod.ConsumerGroupMetadata{GroupID: group, GenerationID: gen, MemberID: member}
				if !aborted { // an aborted transaction: neither its records nor its offsets count
					aborted = true
					if err := p.BeginTransaction(); err != nil {
						t.Fatal(err)
					}
					if _, err := p.SendSync(ctx, &kprod.Record{Topic: out, Value: []byte("aborted")}); err != nil {
						t.Fatal(err)
					}
					far := map[kprod.TopicPartition]kprod.OffsetAndMetadata{{Topic: in, Partition: 0}: {Offset: 1000, LeaderEpoch: -1}}
					if err := p.SendOffsetsToTransaction(ctx, far, gm); err != nil {
						t.Fatal(err)
					}
					if err := p.AbortTransaction(ctx); err != nil {
						t.Fatal(err)
					}
				}
				if err := p.BeginTransaction(); err != nil {
					t.Fatal(err)
				}
				offsets := map[kprod.TopicPartition]kprod.OffsetAndMetadata{}
				for _, r := range recs {
					if err := p.Send(ctx, &kprod.Record{Topic: out, Partition: kprod.InPartition(r.Partition),
						Value: append([]byte("out-"), r.Value...)}, nil); err != nil {
						t.Fatal(err)
					}
					offsets[kprod.TopicPartition{Topic: in, Partition: r.Partition}] = kprod.OffsetAndMetadata{Offset: r.Offset + 1, LeaderEpoch: r.LeaderEpoch}
				}
				if err := p.SendOffsetsToTransaction(ctx, offsets, gm); err != nil {
					t.Fatalf("SendOffsetsToTransaction: %v", err)
				}
				if err := p.CommitTransaction(ctx); err != nil {
					t.Fatalf("CommitTransaction: %v", err)
				}
				consumed += len(recs)
			}
			if consumed != n {
				t.Fatalf("consumed %d input records, want %d", consumed, n)
			}
			for part := range int32(2) {
				if got := txStableOffset(t, c.Bootstrap, group, in, part); got != n/2 {
					t.Errorf("partition %d: the group's committed offset is %d, want %d", part, got, n/2)
				}
			}
			got := map[string]int{}
			for _, r := range mxRead(t, c.Bootstrap, out, true, n) {
				got[string(r.Value)]++
			}
			for i := range n {
				if v := "out-in-" + itoa(int64(i)); got[v] != 1 {
					t.Errorf("%s is %d times in the output, want once", v, got[v])
				}
				delete(got, "out-in-"+itoa(int64(i)))
			}
			if len(got) != 0 {
				t.Errorf("read_committed sees more than the transformed input: %v", got)
			}
		})
	}
}
