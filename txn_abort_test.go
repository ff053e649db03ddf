package kprod_test

import (
	"context"
	"errors"
	"slices"
	"strings"
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

// TestTxnAbortRightAfterSend: with transactions v1, AbortTransaction called straight after
// Send, before the partitions' AddPartitionsToTxn was sent, must abort cleanly. It used to
// send an EndTxn for a transaction the coordinator never saw, which answers
// INVALID_TXN_STATE, a fatal error (on this cluster every time: the abort overtakes the
// registration). Java sends EndTxn only once the transaction started
// (TransactionManager.beginAbort, transactionStarted). The committed transaction after the
// aborts is read back with read_committed: only its records are visible.
func TestTxnAbortRightAfterSend(t *testing.T) {
	const topic = "abort-early"
	c := mxTxnCluster(t, false, kafkatest.Brokers(3), kafkatest.Topic(topic, 2))
	p := mxTxnProducer(t, c, "abort-early", false, nil)
	commitOne(t, p, topic, "first") // metadata and coordinator known: nothing slows Send down
	for i := range 10 {
		if err := p.BeginTransaction(); err != nil {
			t.Fatalf("round %d: Begin: %v", i, err)
		}
		for part := range int32(2) {
			if err := p.Send(context.Background(), &kprod.Record{Topic: topic, Partition: kprod.InPartition(part),
				Value: []byte("aborted")}, nil); err != nil {
				t.Fatalf("round %d: Send: %v", i, err)
			}
		}
		if err := p.AbortTransaction(mxCtx(t, waitLong)); err != nil {
			t.Fatalf("round %d: AbortTransaction: %v", i, err)
		}
	}
	commitOne(t, p, topic, "last")
	got := values(mxRead(t, c.Bootstrap(), topic, true, 2))
	slices.Sort(got)
	if !slices.Equal(got, []string{"first", "last"}) {
		t.Fatalf("read_committed: %v; want only the committed records", got)
	}
}

// TestTxnAbortWaitsForAddPartitions: an abort while the partition's AddPartitionsToTxn is
// at the coordinator waits for its answer: the coordinator registered the partition, so
// the transaction must end with EndTxn(abort), or the coordinator keeps it open (and the
// next transaction's AddPartitionsToTxn would join it).
func TestTxnAbortWaitsForAddPartitions(t *testing.T) {
	const topic = "abort-adding"
	c := mxTxnCluster(t, false, kafkatest.Topic(topic, 1))
	p := mxTxnProducer(t, c, "abort-adding", false, nil)
	fake := c.Fake()
	arrived, release := txHold(t, fake, kmsg.AddPartitionsToTxn) // then handled: the partition is registered
	var endTxns atomic.Int32
	fake.ControlKey(int16(kmsg.EndTxn), func(kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		endTxns.Add(1)
		return nil, nil, false
	})
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	failed := make(chan struct{})
	if err := p.Send(context.Background(), &kprod.Record{Topic: topic, Value: []byte("aborted")},
		func(_ kprod.RecordMetadata, err error) {
			if err == nil {
				t.Error("the aborted transaction's record was acknowledged")
			}
			close(failed)
		}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-arrived:
	case <-time.After(waitLong):
		t.Fatal("AddPartitionsToTxn never reached the coordinator")
	}
	aborted := make(chan error, 1)
	go func() { aborted <- p.AbortTransaction(mxCtx(t, waitLong)) }()
	// Release the registration only once the abort has begun: its failing of the
	// queued record is observable as the record's completion.
	select {
	case <-failed: // AbortTransaction failed the record waiting for its partition
	case <-time.After(waitLong):
		t.Fatal("AbortTransaction did not fail the queued record")
	}
	release()
	if err := <-aborted; err != nil {
		t.Fatalf("AbortTransaction: %v", err)
	}
	if n := endTxns.Load(); n != 1 {
		t.Fatalf("%d EndTxn requests; the registered partition needs exactly one EndTxn(abort)", n)
	}
	commitOne(t, p, topic, "committed")
	if got := mxRead(t, c.Bootstrap(), topic, true, 1); len(got) != 1 || string(got[0].Value) != "committed" {
		t.Fatalf("read_committed: %v; want only \"committed\"", values(got))
	}
}

func commitOne(t *testing.T, p *kprod.Producer, topic, value string) {
	t.Helper()
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.SendSync(mxCtx(t, waitLong), &kprod.Record{Topic: topic, Value: []byte(value)}); err != nil {
		t.Fatal(err)
	}
	if err := p.CommitTransaction(mxCtx(t, waitLong)); err != nil {
		t.Fatalf("CommitTransaction: %v", err)
	}
}

func values(rs []*kgo.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r.Value)
	}
	return out
}

// TestTxnAbortResumesEpochBump: a transactions v1 abort that needs a new epoch (a record
// failed INVALID_RECORD, KIP-360) and whose InitProducerId runs into max.block.ms returns
// ErrTransactionTimeout; calling AbortTransaction again resumes the bump and succeeds,
// as Java hands the timed-out abortTransaction's pending result back
// (TransactionManager.handleCachedTransactionRequestResult). Until then the other calls
// are refused, naming AbortTransaction. It used to stay INITIALIZING for good: "cannot go
// from INITIALIZING to ABORTING_TRANSACTION". The next transaction commits under the new
// epoch and read_committed sees only its record.
func TestTxnAbortResumesEpochBump(t *testing.T) {
	const topic, maxBlock = "abort-bump", time.Second
	c := mxTxnCluster(t, false, kafkatest.Topic(topic, 1))
	fake := c.Fake()
	p := mxTxnProducer(t, c, "abort-bump", false, func(cfg *kprod.Config) { cfg.MaxBlock = maxBlock })
	commitOne(t, p, topic, "first")
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic, Err: kerr.InvalidRecord, Count: 1})
	if _, err := p.SendSync(mxCtx(t, waitLong), &kprod.Record{Topic: topic, Value: []byte("doomed")}); err == nil {
		t.Fatal("the record refused INVALID_RECORD was acknowledged")
	}
	inits := mxCount(fake, kmsg.InitProducerID)
	stall := fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.InitProducerID}, Err: kerr.CoordinatorLoadInProgress, Count: -1})
	txWantTimeout(t, "AbortTransaction with InitProducerId stalled", p.AbortTransaction(context.Background()), maxBlock)
	if inits.Load() == 0 {
		t.Fatal("the abort sent no InitProducerId: no new epoch was asked for")
	}
	for name, err := range map[string]error{
		"BeginTransaction":  p.BeginTransaction(),
		"CommitTransaction": p.CommitTransaction(mxCtx(t, waitLong)),
		"InitTransactions":  p.InitTransactions(mxCtx(t, waitLong)),
	} {
		if !errors.Is(err, kprod.ErrInvalidTxnState) || !strings.Contains(err.Error(), "call AbortTransaction again") {
			t.Errorf("%s while the abort's epoch bump is pending: %v; want ErrInvalidTxnState naming AbortTransaction", name, err)
		}
	}
	stall.Remove()
	before := inits.Load()
	if err := p.AbortTransaction(mxCtx(t, waitLong)); err != nil {
		t.Fatalf("AbortTransaction again: %v", err)
	}
	if inits.Load() == before {
		t.Error("the resumed abort sent no InitProducerId")
	}
	commitOne(t, p, topic, "last")
	recs := mxRead(t, c.Bootstrap(), topic, true, 2)
	if got := values(recs); !slices.Equal(got, []string{"first", "last"}) {
		t.Fatalf("read_committed: %v; want [first last]", got)
	}
	if a, b := recs[0], recs[1]; a.ProducerID == b.ProducerID && b.ProducerEpoch <= a.ProducerEpoch {
		t.Errorf("after the abort the producer wrote as %d/%d, before as %d/%d; want a new epoch", b.ProducerID, b.ProducerEpoch, a.ProducerID, a.ProducerEpoch)
	}
}

// TestTxnAbortPendingCommit: AbortTransaction after a CommitTransaction that timed out.
// While the commit has not sent its EndTxn (here: its offsets name a topic the broker
// never learns of, so TxnOffsetCommit keeps answering UNKNOWN_TOPIC_OR_PARTITION), the
// abort is allowed, a deliberate difference from Java, which refuses any abort once
// commitTransaction was called: no EndTxn(commit) is ever sent, the offsets are dropped,
// and the next transaction commits. It used to be refused, leaving the producer stuck
// until Close. Once EndTxn(commit) was sent (here answered CONCURRENT_TRANSACTIONS until
// max.block.ms), the abort stays refused (KAFKA-17754) and the commit, resumed, commits.
func TestTxnAbortPendingCommit(t *testing.T) {
	for _, v := range mxTxnVersions {
		t.Run("offsets never accepted/"+v.name, func(t *testing.T) {
			const out, group, maxBlock = "pend-out", "pend-group", time.Second
			c := mxTxnCluster(t, v.v2, kafkatest.Topic(out, 1))
			p := mxTxnProducer(t, c, "pend", v.v2, func(cfg *kprod.Config) { cfg.MaxBlock = maxBlock })
			ends := txWatchEndTxn(c.Fake())
			tr := newMXTracker(out)
			if err := p.BeginTransaction(); err != nil {
				t.Fatal(err)
			}
			tr.send(t, p, 0, "aborted-0")
			gm := kprod.ConsumerGroupMetadata{GroupID: group}
			never := map[kprod.TopicPartition]kprod.OffsetAndMetadata{{Topic: "pend-never", Partition: 0}: {Offset: 7, LeaderEpoch: -1}}
			txWantTimeout(t, "SendOffsetsToTransaction", p.SendOffsetsToTransaction(context.Background(), never, gm), maxBlock)
			txWantTimeout(t, "CommitTransaction", p.CommitTransaction(context.Background()), maxBlock)
			if err := p.AbortTransaction(mxCtx(t, waitLong)); err != nil {
				t.Fatalf("AbortTransaction of a commit that sent no EndTxn: %v", err)
			}
			if err := p.CommitTransaction(mxCtx(t, waitLong)); !errors.Is(err, kprod.ErrInvalidTxnState) {
				t.Errorf("CommitTransaction after the abort: %v; want ErrInvalidTxnState", err)
			}
			if err := p.BeginTransaction(); err != nil {
				t.Fatalf("BeginTransaction after the abort: %v", err)
			}
			tr.send(t, p, 0, "next-0")
			next := map[kprod.TopicPartition]kprod.OffsetAndMetadata{{Topic: out, Partition: 0}: {Offset: 3, LeaderEpoch: -1}}
			if err := p.SendOffsetsToTransaction(mxCtx(t, waitLong), next, gm); err != nil {
				t.Fatalf("SendOffsetsToTransaction of the next transaction: %v", err)
			}
			if err := p.CommitTransaction(mxCtx(t, waitLong)); err != nil {
				t.Fatalf("CommitTransaction of the next transaction: %v", err)
			}
			ends.mu.Lock()
			if got := ends.ends; !slices.Equal(got, []bool{false, true}) {
				t.Errorf("EndTxn requests (commit?) %v; want one abort, then the next transaction's commit", got)
			}
			ends.mu.Unlock()
			if got := txStableOffset(t, c.Bootstrap(), group, out, 0); got != 3 {
				t.Errorf("the group's committed offset is %d, want 3 (the next transaction's)", got)
			}
			tr.wait(t, waitLong)
			mxExpectLog(t, c.Bootstrap(), out, true, map[int32][]string{0: {"next-0"}}, tr.metadata())
		})
		t.Run("EndTxn sent/"+v.name, func(t *testing.T) {
			const out, maxBlock = "sent-out", time.Second
			c := mxTxnCluster(t, v.v2, kafkatest.Topic(out, 1))
			fake := c.Fake()
			p := mxTxnProducer(t, c, "sent", v.v2, func(cfg *kprod.Config) { cfg.MaxBlock = maxBlock })
			tr := newMXTracker(out)
			if err := p.BeginTransaction(); err != nil {
				t.Fatal(err)
			}
			tr.send(t, p, 0, "committed-0")
			mxFlushWait(t, p, tr)
			h := fake.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.EndTxn}, Err: kerr.ConcurrentTransactions, Count: -1})
			err := p.CommitTransaction(context.Background())
			txWantTimeout(t, "CommitTransaction with EndTxn refused", err, maxBlock)
			if h.Hits() == 0 {
				t.Fatal("no EndTxn(commit) reached the coordinator")
			}
			if !kprod.MaybeWritten(err) {
				t.Errorf("MaybeWritten(%v) = false after EndTxn(commit) was sent", err)
			}
			if err := p.AbortTransaction(mxCtx(t, waitLong)); !errors.Is(err, kprod.ErrInvalidTxnState) {
				t.Errorf("AbortTransaction once EndTxn(commit) was sent: %v; want ErrInvalidTxnState (KAFKA-17754)", err)
			}
			h.Remove()
			if err := p.CommitTransaction(mxCtx(t, waitLong)); err != nil {
				t.Fatalf("CommitTransaction resumed: %v", err)
			}
			mxExpectLog(t, c.Bootstrap(), out, true, map[int32][]string{0: {"committed-0"}}, tr.metadata())
		})
	}
}
