package kprod_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
)

// The re-initialisation rows of the transactional matrix (see matrix_txn_test.go): a
// transaction whose producer id or epoch the coordinator no longer accepts is aborted
// with a new epoch (KIP-360), and the next one commits.

// mxEpochFault refuses, with code, every request of key made with the producer epoch of
// the first one it refuses: the coordinator no longer maps the producer's id and epoch
// (INVALID_PRODUCER_ID_MAPPING), until the producer re-initialises.
func mxEpochFault(fake *kfake.Cluster, key kmsg.Key, topic string, code *kerr.Error) *kfake.FaultHandle {
	var bad atomic.Int32
	bad.Store(-1)
	epochOf := func(kreq kmsg.Request) int32 {
		switch r := kreq.(type) {
		case *kmsg.EndTxnRequest:
			return int32(r.ProducerEpoch)
		case *kmsg.AddPartitionsToTxnRequest:
			return int32(r.ProducerEpoch)
		case *kmsg.AddOffsetsToTxnRequest:
			return int32(r.ProducerEpoch)
		case *kmsg.ProduceRequest:
			for _, rt := range r.Topics {
				for _, rp := range rt.Partitions {
					var b kmsg.RecordBatch
					if b.ReadFrom(rp.Records) == nil {
						return int32(b.ProducerEpoch)
					}
				}
			}
		}
		return -2
	}
	f := kfake.Fault{Keys: []kmsg.Key{key}, Err: code, Count: -1, When: func(kreq kmsg.Request) bool {
		e := epochOf(kreq)
		if bad.CompareAndSwap(-1, e) {
			return true
		}
		return bad.Load() == e
	}}
	if key == kmsg.Produce {
		f.Topic = topic
	}
	return fake.Fault(f)
}

// TestMatrixTxnReinit: INVALID_PRODUCER_ID_MAPPING on Produce, EndTxn, AddPartitionsToTxn
// or AddOffsetsToTxn, UNKNOWN_PRODUCER_ID on AddPartitionsToTxn, and a transaction the
// coordinator timed out (transaction.timeout.ms): the transaction is abortable;
// AbortTransaction re-initialises the producer (a new epoch, KIP-360: Java's handlers call
// abortableErrorIfPossible, which requires the bump; after INVALID_PRODUCER_ID_MAPPING
// Java skips the EndTxn the coordinator would refuse and sends InitProducerId at once);
// the next transaction commits under the new epoch. The coordinator keeps refusing the
// old epoch, as a real one does once the mapping is gone. After a refused
// AddPartitionsToTxn the abort used to send nothing at all (no partition was registered),
// and every later transaction failed the same way.
func TestMatrixTxnReinit(t *testing.T) {
	type row struct {
		name string
		v2   bool
	}
	var rows []row
	for _, where := range []string{"INVALID_PRODUCER_ID_MAPPING on Produce", "INVALID_PRODUCER_ID_MAPPING on EndTxn"} {
		for _, v := range mxTxnVersions {
			rows = append(rows, row{where + "/" + v.name, v.v2})
		}
	}
	// AddPartitionsToTxn and AddOffsetsToTxn are transactions v1 requests.
	rows = append(rows, row{"INVALID_PRODUCER_ID_MAPPING on AddPartitionsToTxn/v1", false},
		row{"UNKNOWN_PRODUCER_ID on AddPartitionsToTxn/v1", false},
		row{"INVALID_PRODUCER_ID_MAPPING on AddOffsetsToTxn/v1", false})
	rows = append(rows, row{"transaction timed out/v2", true})
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			const topic, parts = "reinit", 2
			c := mxTxnCluster(t, r.v2, kafkatest.Topic(topic, parts))
			fake := c.Fake()
			timeout := strings.HasPrefix(r.name, "transaction timed out")
			p := mxTxnProducer(t, c, "reinit", r.v2, func(cfg *kprod.Config) {
				if timeout {
					cfg.TransactionTimeout = 500 * time.Millisecond
				}
			})
			tr := newMXTracker(topic)
			mxCommitTxn(t, p, tr, parts, "c1-0", "c1-1")
			inits := mxCount(fake, kmsg.InitProducerID)
			if err := p.BeginTransaction(); err != nil {
				t.Fatal(err)
			}
			var failed []string
			var fault *kfake.FaultHandle
			var ends *atomic.Int32 // EndTxn requests of the abort, where none may be sent
			code := kerr.InvalidProducerIDMapping
			if strings.HasPrefix(r.name, "UNKNOWN_PRODUCER_ID") {
				code = kerr.UnknownProducerID
			}
			switch {
			case strings.Contains(r.name, "on AddPartitionsToTxn"):
				fault = mxEpochFault(fake, kmsg.AddPartitionsToTxn, topic, code)
				tr.send(t, p, 0, "doomed-0")
				mxFlushWait(t, p, tr)
				failed = append(failed, "doomed-0")
				mxDeliveryErr(t, "the record of the refused partition", tr.errOf("doomed-0"), code.Code, false)
				mxWantAbortable(t, "the record of the refused partition", tr.errOf("doomed-0"))
				err := p.CommitTransaction(mxCtx(t, waitLong))
				mxWantAbortable(t, "CommitTransaction", err)
				mxWantKafkaCode(t, "CommitTransaction", err, code.Code)
				ends = mxCount(fake, kmsg.EndTxn) // nothing registered: nothing to end
			case strings.Contains(r.name, "on AddOffsetsToTxn"):
				tr.send(t, p, 1, "sent-1")
				mxFlushWait(t, p, tr) // the partition is in the transaction
				fault = mxEpochFault(fake, kmsg.AddOffsetsToTxn, topic, code)
				err := p.SendOffsetsToTransaction(mxCtx(t, waitLong), map[kprod.TopicPartition]kprod.OffsetAndMetadata{
					{Topic: topic, Partition: 0}: {Offset: 1, LeaderEpoch: -1}}, kprod.ConsumerGroupMetadata{GroupID: "reinit-group"})
				mxWantAbortable(t, "SendOffsetsToTransaction", err)
				mxWantKafkaCode(t, "SendOffsetsToTransaction", err, code.Code)
				mxWantAbortable(t, "CommitTransaction", p.CommitTransaction(mxCtx(t, waitLong)))
				ends = mxCount(fake, kmsg.EndTxn) // the coordinator would refuse it: Java skips it

			case strings.Contains(r.name, "on Produce"):
				tr.send(t, p, 1, "ok-1")
				mxFlushWait(t, p, tr)
				fault = mxEpochFault(fake, kmsg.Produce, topic, kerr.InvalidProducerIDMapping)
				tr.send(t, p, 0, "doomed-0")
				mxFlushWait(t, p, tr)
				failed = append(failed, "doomed-0")
				mxDeliveryErr(t, "the refused record", tr.errOf("doomed-0"), kerr.InvalidProducerIDMapping.Code, false)
				mxWantAbortable(t, "the refused record", tr.errOf("doomed-0"))
				err := p.CommitTransaction(mxCtx(t, waitLong))
				mxWantAbortable(t, "CommitTransaction", err)
			case strings.Contains(r.name, "on EndTxn"):
				tr.send(t, p, 0, "ended-0")
				tr.send(t, p, 1, "ended-1")
				fault = mxEpochFault(fake, kmsg.EndTxn, topic, kerr.InvalidProducerIDMapping)
				err := p.CommitTransaction(mxCtx(t, waitLong))
				mxWantAbortable(t, "CommitTransaction", err)
				mxWantKafkaCode(t, "CommitTransaction", err, kerr.InvalidProducerIDMapping.Code)
				tr.wait(t, waitLong)
			default: // the coordinator aborts the transaction after transaction.timeout.ms
				awaitAbort := mxCoordinatorAbort(t, c.Bootstrap(), "reinit")
				tr.send(t, p, 0, "timed-0")
				mxFlushWait(t, p, tr)
				awaitAbort()
				// A real broker (KIP-890 verification) refuses the stale epoch before adding
				// the partition to a transaction; kfake would add it first and then answer
				// the producer's abort PRODUCER_FENCED. Answer as the real broker does.
				mxAnswerProduce(fake, topic, kerr.InvalidProducerEpoch)
				tr.send(t, p, 1, "late-1")
				mxFlushWait(t, p, tr)
				failed = append(failed, "late-1")
				mxDeliveryErr(t, "a record after the timeout", tr.errOf("late-1"), kerr.InvalidProducerEpoch.Code, false)
				mxWantAbortable(t, "a record after the timeout", tr.errOf("late-1"))
				mxWantAbortable(t, "CommitTransaction", p.CommitTransaction(mxCtx(t, waitLong)))
			}
			if err := p.AbortTransaction(mxCtx(t, waitLong)); err != nil {
				t.Fatalf("AbortTransaction: %v", err)
			}
			if fault != nil {
				defer fault.Remove()
			}
			if err := p.BeginTransaction(); err != nil {
				t.Fatalf("BeginTransaction after the abort: %v", err)
			}
			tr.send(t, p, 0, "c3-0")
			tr.send(t, p, 1, "c3-1")
			if err := p.CommitTransaction(mxCtx(t, waitLong)); err != nil {
				t.Errorf("the transaction after the abort: %v", err)
			}
			tr.wait(t, waitLong)
			if !r.v2 && inits.Load() == 0 {
				t.Errorf("no InitProducerId after the abort: the producer kept its epoch (transactions v1 bumps only by re-initialising)")
			}
			if ends != nil && ends.Load() != 1 { // the next transaction's commit only
				t.Errorf("%d EndTxn requests from the abort on; want only the next transaction's commit", ends.Load())
			}
			if t.Failed() {
				return
			}
			tr.checkCallbacks(t, failed...)
			recs := mxExpectLog(t, c.Bootstrap(), topic, true, map[int32][]string{0: {"c1-0", "c3-0"}, 1: {"c1-1", "c3-1"}}, tr.metadata())
			if a, b := recs["c1-0"], recs["c3-0"]; a != nil && b != nil && a.ProducerID == b.ProducerID && b.ProducerEpoch <= a.ProducerEpoch+int16(mxBool(r.v2)) {
				t.Errorf("after the abort the producer wrote as %d/%d, before as %d/%d; want a re-initialised epoch", b.ProducerID, b.ProducerEpoch, a.ProducerID, a.ProducerEpoch)
			}
		})
	}
}

// mxCoordinatorAbort notes txnID's producer epoch at the coordinator, between
// transactions, and returns a function that waits until the coordinator has aborted the
// transaction begun since after transaction.timeout.ms (bumping the epoch), asking with
// DescribeTransactions (KIP-664) rather than sleeping past the timeout.
func mxCoordinatorAbort(t *testing.T, bootstrap []string, txnID string) func() {
	t.Helper()
	states := txnStates(t, bootstrap)
	describe := func() (string, int16) { return states(txnID) }
	state, epoch := describe()
	if state == "Ongoing" {
		t.Fatalf("transaction %s is already ongoing", txnID)
	}
	return func() {
		t.Helper()
		waitUntil(t, "the coordinator aborts the timed-out transaction", func() bool {
			s, e := describe()
			return s != "Ongoing" && e > epoch
		})
	}
}

// mxAnswerProduce answers the next Produce request for topic with code on every
// partition, without the cluster seeing it.
func mxAnswerProduce(fake *kfake.Cluster, topic string, code *kerr.Error) {
	fake.ControlKey(int16(kmsg.Produce), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		return mxAnswer(kreq, code), nil, true
	})
}

// mxAnswer answers a Produce request with code on every partition.
func mxAnswer(kreq kmsg.Request, code *kerr.Error) kmsg.Response {
	req := kreq.(*kmsg.ProduceRequest)
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewProduceResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewProduceResponseTopicPartition()
			sp.Partition, sp.ErrorCode, sp.BaseOffset = rp.Partition, code.Code, -1
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}
