package kprod_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/kafkatest"
)

// The authorization rows of the fault-injection matrix (issue 11 item 5). An
// InitProducerId refused CLUSTER_AUTHORIZATION_FAILED or TRANSACTIONAL_ID_AUTHORIZATION_FAILED
// is not fatal since Java 3.6 (KAFKA-13668): the producer goes back to having no id and
// may ask again once the ACL is granted. TOPIC_AUTHORIZATION_FAILED fails only that
// topic's records.

// TestMatrixInitDeniedRecovers: InitTransactions refused for authorization returns the
// error (not a *FatalError, not an *AbortableError) naming the missing permission; the
// producer is uninitialized (BeginTransaction is a state error), and InitTransactions
// succeeds once the broker allows it; a transaction then commits.
func TestMatrixInitDeniedRecovers(t *testing.T) {
	for _, tc := range []struct {
		code     *kerr.Error
		sentinel error
		denied   string
	}{
		{kerr.TransactionalIDAuthorizationFailed, kprod.ErrTransactionalIDAuthorization, "WRITE on TRANSACTIONAL_ID init-denied"},
		{kerr.ClusterAuthorizationFailed, kprod.ErrClusterAuthorization, "IDEMPOTENT_WRITE on CLUSTER"},
	} {
		t.Run(tc.code.Message, func(t *testing.T) {
			const topic, txnID = "init-denied", "init-denied"
			c := kafkatest.New(t, kafkatest.Topic(topic, 1))
			fh := c.Fake().Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.InitProducerID}, Err: tc.code, Count: -1})
			p := mxProducer(t, c.Bootstrap(), func(cfg *kprod.Config) { cfg.TransactionalID = txnID })
			for i := range 2 { // refused twice: the second call is not refused for state
				err := p.InitTransactions(mxCtx(t, waitLong))
				mxWantKafkaCode(t, "InitTransactions", err, tc.code.Code)
				if !errors.Is(err, tc.sentinel) {
					t.Errorf("InitTransactions #%d: %v; want errors.Is %v", i+1, err, tc.sentinel)
				}
				var fe *kprod.FatalError
				var ae *kprod.AbortableError
				if errors.As(err, &fe) || errors.As(err, &ae) {
					t.Errorf("InitTransactions #%d: %v; want neither fatal nor abortable (KAFKA-13668)", i+1, err)
				}
				var ke *kprod.KafkaError
				if errors.As(err, &ke) && ke.Denied() != tc.denied {
					t.Errorf("Denied() = %q, want %q", ke.Denied(), tc.denied)
				}
				if !strings.Contains(err.Error(), tc.denied) {
					t.Errorf("InitTransactions: %q does not name %q", err, tc.denied)
				}
				if kprod.IsRetriable(err) || kprod.MaybeWritten(err) {
					t.Errorf("InitTransactions: IsRetriable %v, MaybeWritten %v; want false, false", kprod.IsRetriable(err), kprod.MaybeWritten(err))
				}
			}
			if err := p.BeginTransaction(); !errors.Is(err, kprod.ErrInvalidTxnState) {
				t.Errorf("BeginTransaction while uninitialized: %v; want ErrInvalidTxnState", err)
			}
			fh.Remove() // the ACL is granted
			if err := p.InitTransactions(mxCtx(t, waitLong)); err != nil {
				t.Fatalf("InitTransactions after the grant: %v", err)
			}
			tr := newMXTracker(topic)
			mxCommitTxn(t, p, tr, 1, "v0", "v1")
			tr.checkCallbacks(t)
			mxExpectLog(t, c.Bootstrap(), topic, true, map[int32][]string{0: {"v0", "v1"}}, tr.metadata())
		})
	}
}

// TestMatrixIdempotentInitDenied: an idempotent producer's InitProducerId refused
// CLUSTER_AUTHORIZATION_FAILED fails the records waiting for an id (not written, the
// permission named) without making the producer unusable: once the broker allows it,
// later records are written, once and in order.
func TestMatrixIdempotentInitDenied(t *testing.T) {
	const topic = "idem-denied"
	c := kafkatest.New(t, kafkatest.Topic(topic, 1))
	fh := c.Fake().Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.InitProducerID}, Err: kerr.ClusterAuthorizationFailed, Count: -1})
	inits := make(chan time.Time, 1000) // when each InitProducerId arrived
	c.Fake().ControlKey(int16(kmsg.InitProducerID), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.Fake().KeepControl()
		select {
		case inits <- time.Now():
		default:
		}
		return nil, nil, false
	})
	p := mxProducer(t, c.Bootstrap(), nil) // retry.backoff.ms 20
	tr := newMXTracker(topic)
	tr.send(t, p, 0, "denied")
	tr.wait(t, waitLong)
	// Denied InitProducerIds are asked again after retry.backoff.ms, doubling (20, 40, 80,
	// 160 ms), not in a loop: the fifth comes 300 ms after the first (kfake's timestamps
	// of faulted requests lag under -race: 150 ms is asserted; a loop takes under 10 ms).
	var first time.Time
	for i := range 5 {
		select {
		case at := <-inits:
			if i == 0 {
				first = at
			}
			if i == 4 && at.Sub(first) < 150*time.Millisecond {
				t.Errorf("5 InitProducerId requests within %v; want retry.backoff.ms between them", at.Sub(first))
			}
		case <-time.After(waitLong):
			t.Fatalf("%d InitProducerId requests; want the producer to keep asking", i)
		}
	}
	err := tr.errOf("denied")
	if !errors.Is(err, kprod.ErrClusterAuthorization) || kprod.MaybeWritten(err) {
		t.Fatalf("record while denied: %v (MaybeWritten %v); want ErrClusterAuthorization, not written", err, kprod.MaybeWritten(err))
	}
	var fe *kprod.FatalError
	if errors.As(err, &fe) {
		t.Errorf("record while denied: %v; want no *FatalError (KAFKA-13668)", err)
	}
	if !strings.Contains(err.Error(), "IDEMPOTENT_WRITE on CLUSTER") {
		t.Errorf("record while denied: %q does not name IDEMPOTENT_WRITE on CLUSTER", err)
	}
	fh.Remove()
	// An InitProducerId answered before the Remove may still fail what is queued (Java
	// fails the accumulator's batches the same way): probe until a record is written.
	ctx := mxCtx(t, waitLong)
	var probes []string
	for i := 0; ; i++ {
		v := fmt.Sprintf("probe-%d", i)
		_, err := p.SendSync(ctx, &kprod.Record{Topic: topic, Partition: kprod.InPartition(0), Value: []byte(v)})
		if err == nil {
			probes = append(probes, v)
			break
		}
		if !errors.Is(err, kprod.ErrClusterAuthorization) || ctx.Err() != nil {
			t.Fatalf("probe after the grant: %v", err)
		}
	}
	tr.send(t, p, 0, "a")
	tr.send(t, p, 0, "b")
	tr.wait(t, waitLong)
	tr.checkCallbacks(t, "denied")
	mxExpectLog(t, c.Bootstrap(), topic, false, map[int32][]string{0: append(probes, "a", "b")}, tr.metadata(), probes...)
}

// TestMatrixTopicDenied: TOPIC_AUTHORIZATION_FAILED on one topic's Produce fails that
// topic's records (not written, ErrTopicAuthorization, WRITE on TOPIC named) while another
// topic's records keep flowing on the same producer, before and after.
func TestMatrixTopicDenied(t *testing.T) {
	const denied, open = "topic-denied", "topic-open"
	c := kafkatest.New(t, kafkatest.Topic(denied, 1), kafkatest.Topic(open, 1))
	c.Fake().Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: denied, Err: kerr.TopicAuthorizationFailed, Count: -1})
	p := mxProducer(t, c.Bootstrap(), nil)
	trD, trO := newMXTracker(denied), newMXTracker(open)
	trO.send(t, p, 0, "o1")
	trD.send(t, p, 0, "d1")
	trO.send(t, p, 0, "o2")
	trD.wait(t, waitLong)
	trO.wait(t, waitLong)
	err := trD.errOf("d1")
	if !errors.Is(err, kprod.ErrTopicAuthorization) || kprod.MaybeWritten(err) || kprod.IsRetriable(err) {
		t.Fatalf("denied record: %v; want ErrTopicAuthorization, not written, not retriable", err)
	}
	var ke *kprod.KafkaError
	if !errors.As(err, &ke) || ke.Denied() != "WRITE on TOPIC "+denied || !strings.Contains(err.Error(), "WRITE on TOPIC "+denied) {
		t.Errorf("denied record: %v; want it to name WRITE on TOPIC %s", err, denied)
	}
	// A topic the principal may not even describe: metadata answers
	// TOPIC_AUTHORIZATION_FAILED, and Send refuses the record at once (Java's send throws
	// TopicAuthorizationException from waitOnMetadata), not after max.block.ms.
	const hidden = "topic-hidden"
	c.Fake().Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Metadata}, Topic: hidden, Err: kerr.TopicAuthorizationFailed, Count: -1})
	start := time.Now()
	err = p.Send(mxCtx(t, waitLong), &kprod.Record{Topic: hidden, Value: []byte("h")}, func(kprod.RecordMetadata, error) {
		t.Error("the callback of a refused Send ran")
	})
	if !errors.Is(err, kprod.ErrTopicAuthorization) || kprod.MaybeWritten(err) || !errors.As(err, &ke) ||
		ke.Denied() != "DESCRIBE (or WRITE, which implies it) on TOPIC "+hidden {
		t.Errorf("Send to a topic without DESCRIBE: %v; want ErrTopicAuthorization naming DESCRIBE on TOPIC %s, not written", err, hidden)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Send to a topic without DESCRIBE took %v; want a refusal, not max.block.ms", d)
	}
	trO.send(t, p, 0, "o3")
	trO.wait(t, waitLong)
	trO.checkCallbacks(t)
	mxExpectLog(t, c.Bootstrap(), open, false, map[int32][]string{0: {"o1", "o2", "o3"}}, trO.metadata())
}

// TestMatrixGroupDenied: GROUP_AUTHORIZATION_FAILED from the group coordinator's
// TxnOffsetCommit or from FindCoordinator for the group makes the transaction abortable
// (Java's GroupAuthorizationException), naming READ on the group; the abort works and
// the next transaction commits.
func TestMatrixGroupDenied(t *testing.T) {
	for _, key := range []kmsg.Key{kmsg.TxnOffsetCommit, kmsg.FindCoordinator} {
		for _, v := range mxTxnVersions {
			t.Run(key.Name()+"/"+v.name, func(t *testing.T) {
				const topic, group = "group-denied", "denied-group"
				c := mxTxnCluster(t, v.v2, kafkatest.Topic(topic, 1))
				p := mxTxnProducer(t, c, "group-denied", v.v2, nil)
				c.Fake().Fault(kfake.Fault{Keys: []kmsg.Key{key}, Group: group, Err: kerr.GroupAuthorizationFailed, Count: -1})
				if err := p.BeginTransaction(); err != nil {
					t.Fatal(err)
				}
				err := p.SendOffsetsToTransaction(mxCtx(t, waitLong),
					map[kprod.TopicPartition]kprod.OffsetAndMetadata{{Topic: topic}: {Offset: 1, LeaderEpoch: -1}},
					kprod.ConsumerGroupMetadata{GroupID: group})
				mxWantAbortable(t, "SendOffsetsToTransaction", err)
				var ke *kprod.KafkaError
				if !errors.Is(err, kprod.ErrGroupAuthorization) || !errors.As(err, &ke) || ke.Denied() != "READ on GROUP "+group {
					t.Fatalf("SendOffsetsToTransaction: %v; want ErrGroupAuthorization naming READ on GROUP %s", err, group)
				}
				if err := p.AbortTransaction(mxCtx(t, waitLong)); err != nil {
					t.Fatalf("AbortTransaction: %v", err)
				}
				tr := newMXTracker(topic)
				mxCommitTxn(t, p, tr, 1, "after")
				mxExpectLog(t, c.Bootstrap(), topic, true, map[int32][]string{0: {"after"}}, tr.metadata())
			})
		}
	}
}

// TestMatrixTxnIDDeniedLater: TRANSACTIONAL_ID_AUTHORIZATION_FAILED on EndTxn (the ACL
// was revoked after InitTransactions) stays fatal, as in Java's EndTxnHandler, and names
// WRITE on the transactional id; only InitProducerId recovers from it (KAFKA-13668).
func TestMatrixTxnIDDeniedLater(t *testing.T) {
	const topic, txnID = "txnid-denied-later", "txnid-denied-later"
	c := kafkatest.New(t, kafkatest.Topic(topic, 1))
	p := mxTxnProducer(t, c, txnID, true, nil)
	c.Fake().Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.EndTxn}, Err: kerr.TransactionalIDAuthorizationFailed, Count: -1})
	tr := newMXTracker(topic)
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	tr.send(t, p, 0, "v")
	tr.wait(t, waitLong)
	err := p.CommitTransaction(mxCtx(t, waitLong))
	mxWantFatal(t, "CommitTransaction", err)
	var ke *kprod.KafkaError
	if !errors.Is(err, kprod.ErrTransactionalIDAuthorization) || !errors.As(err, &ke) || ke.Denied() != "WRITE on TRANSACTIONAL_ID "+txnID {
		t.Fatalf("CommitTransaction: %v; want ErrTransactionalIDAuthorization naming WRITE on TRANSACTIONAL_ID %s", err, txnID)
	}
	mxWantFatal(t, "InitTransactions after the fatal error", p.InitTransactions(mxCtx(t, waitLong)))
}
