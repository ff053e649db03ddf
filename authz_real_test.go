package kprod_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/internal/testcluster"
	"github.com/kprod-io/kprod/sasl"
)

// Authorization on real Kafka (issue 11 item 5): the secure cluster's StandardAuthorizer
// denies what no ACL allows. The user is noacl (SCRAM-SHA-512 over SASL_SSL), which has
// no ACL except what each test grants it on its own uniquely named resources for its
// duration (testcluster Grant, revoked in t.Cleanup). Records are read back over
// PLAINTEXT, whose principal is a super user.

// authzProducer starts a producer authenticating as noacl; mod adjusts the config.
func authzProducer(t *testing.T, s *testcluster.SecureCluster, mod func(*kprod.Config)) *kprod.Producer {
	t.Helper()
	u := s.Users["noacl"]
	return rtProducer(t, s.Listeners["SASL_SSL"], func(c *kprod.Config) {
		c.SecurityProtocol, c.TLS = kprod.SecuritySASLSSL, s.TLSConfig(t, "")
		c.SASL = sasl.ScramSHA512(u.Name, u.Password)
		c.MaxBlock, c.DeliveryTimeout, c.RequestTimeout = 30*time.Second, 30*time.Second, 20*time.Second
		if mod != nil {
			mod(c)
		}
	})
}

// authzTopic creates a topic over PLAINTEXT and waits until every broker knows it.
func authzTopic(t *testing.T, s *testcluster.SecureCluster, prefix string) string {
	t.Helper()
	topic := rtUniqueTopic(prefix)
	cl := rtClient(t, s.Bootstrap)
	testcluster.CreateTopic(t, cl, topic, 1, int16(s.Nodes), nil)
	testcluster.WaitTopicKnown(t, cl, topic)
	return topic
}

// authzCtx bounds a test's producer calls by a minute. Make it after the test's last
// Grant before them: the grant's time is the harness's, not the producer's.
func authzCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// wantDenied checks err is sentinel's authorization error naming denied, not retriable,
// not written.
func wantDenied(t *testing.T, what string, err, sentinel error, denied string) {
	t.Helper()
	var ke *kprod.KafkaError
	if !errors.Is(err, sentinel) || !errors.As(err, &ke) {
		t.Fatalf("%s: %v; want %v", what, err, sentinel)
	}
	if ke.Denied() != denied || !strings.Contains(err.Error(), denied) {
		t.Errorf("%s: %v (Denied %q); want it to name %q", what, err, ke.Denied(), denied)
	}
	if kprod.IsRetriable(err) || kprod.MaybeWritten(err) {
		t.Errorf("%s: IsRetriable %v, MaybeWritten %v; want false, false", what, kprod.IsRetriable(err), kprod.MaybeWritten(err))
	}
}

// TestRealAuthzTopic: an idempotent producer allowed to write topic "open" (which since
// Kafka 3.0 also allows its InitProducerId, KIP-679) but only to describe topic "denied"
// gets TOPIC_AUTHORIZATION_FAILED for the records of "denied" (WRITE on TOPIC named, not
// written), is refused at once for a topic it may not even describe, and keeps writing
// "open" before and after: the producer is not failed.
func TestRealAuthzTopic(t *testing.T) {
	s := testcluster.Secure(t)
	open, denied, hidden := authzTopic(t, s, "authz-open"), authzTopic(t, s, "authz-denied"), authzTopic(t, s, "authz-hidden")
	s.Grant(t, testcluster.ProducerACL("User:noacl", open, false),
		testcluster.ACL{Principal: "User:noacl", Resource: "topic", Name: denied, Operations: []string{"Describe"}})
	p := authzProducer(t, s, nil)
	ctx := authzCtx(t)
	send := func(topic, v string) error {
		_, err := p.SendSync(ctx, &kprod.Record{Topic: topic, Value: []byte(v)})
		return err
	}
	if err := send(open, "o1"); err != nil {
		t.Fatalf("open topic: %v", err)
	}
	err := send(denied, "d1")
	wantDenied(t, "topic without WRITE", err, kprod.ErrTopicAuthorization, "WRITE on TOPIC "+denied)
	var de *kprod.DeliveryError
	if !errors.As(err, &de) || de.Topic != denied {
		t.Errorf("topic without WRITE: %v; want a *DeliveryError for %s", err, denied)
	}
	start := time.Now()
	err = send(hidden, "h1")
	wantDenied(t, "topic without DESCRIBE", err, kprod.ErrTopicAuthorization, "DESCRIBE (or WRITE, which implies it) on TOPIC "+hidden)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Send to a topic without DESCRIBE took %v; want a refusal, not max.block.ms", d)
	}
	if err := send(open, "o2"); err != nil {
		t.Fatalf("open topic after the denials: %v", err)
	}
	recs := rtConsume(t, s.Bootstrap, open, 2, time.Minute)
	if len(recs) != 2 || string(recs[0].Value) != "o1" || string(recs[1].Value) != "o2" {
		t.Fatalf("open topic holds %d records, want o1, o2", len(recs))
	}
	cl := rtClient(t, s.Bootstrap)
	for _, topic := range []string{denied, hidden} {
		end, err := kgoEndOffset(ctx, cl, topic)
		if err != nil || end != 0 {
			t.Errorf("%s: end offset %d (%v); want 0: nothing written", topic, end, err)
		}
	}
}

// kgoEndOffset returns partition 0's end offset (ListOffsets, latest).
func kgoEndOffset(ctx context.Context, cl *kgo.Client, topic string) (int64, error) {
	req := kmsg.NewPtrListOffsetsRequest()
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Partition, rp.Timestamp = 0, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return -1, err
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return -1, errors.New("ListOffsets: no partition 0 in the answer")
	}
	pr := resp.Topics[0].Partitions[0]
	return pr.Offset, kerr.ErrorForCode(pr.ErrorCode)
}

// TestRealAuthzTransactionalID: InitTransactions without WRITE on the transactional id
// fails with ErrTransactionalIDAuthorization naming it, not fatal (KAFKA-13668, Java
// 3.6+); once the ACL is granted, InitTransactions on the same producer succeeds and a
// transaction commits, visible to read_committed.
func TestRealAuthzTransactionalID(t *testing.T) {
	s := testcluster.Secure(t)
	topic := authzTopic(t, s, "authz-txn")
	txnID := rtUniqueTopic("authz-txn-id")
	s.Grant(t, testcluster.ProducerACL("User:noacl", topic, false))
	p := authzProducer(t, s, func(c *kprod.Config) { c.TransactionalID = txnID })
	ctx := authzCtx(t)
	err := p.InitTransactions(ctx)
	wantDenied(t, "InitTransactions", err, kprod.ErrTransactionalIDAuthorization, "WRITE on TRANSACTIONAL_ID "+txnID)
	var fe *kprod.FatalError
	if errors.As(err, &fe) {
		t.Errorf("InitTransactions: %v; want no *FatalError (KAFKA-13668)", err)
	}
	if err := p.BeginTransaction(); !errors.Is(err, kprod.ErrInvalidTxnState) {
		t.Errorf("BeginTransaction before a successful InitTransactions: %v; want ErrInvalidTxnState", err)
	}

	s.Grant(t, testcluster.TransactionalACL("User:noacl", txnID))
	// A ctx of its own after the grant: AclCommand and the wait for the ACL to reach the
	// authorizer take seconds, and minutes under a loaded CI run with other test
	// processes queued on the ACL lock; they must not spend the producer's minute (a
	// CI run's InitTransactions started with under 30s of it left and failed).
	ctx = authzCtx(t)
	if err := p.InitTransactions(ctx); err != nil {
		t.Fatalf("InitTransactions after the grant: %v", err)
	}
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"t1", "t2"} {
		if err := p.Send(ctx, &kprod.Record{Topic: topic, Value: []byte(v)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.CommitTransaction(ctx); err != nil {
		t.Fatalf("CommitTransaction: %v", err)
	}
	recs := rtConsume(t, s.Bootstrap, topic, 2, time.Minute, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if len(recs) != 2 || string(recs[0].Value) != "t1" || string(recs[1].Value) != "t2" {
		t.Fatalf("read_committed: %d records, want t1, t2", len(recs))
	}
}

// TestRealAuthzGroup: SendOffsetsToTransaction for a group noacl may not read makes the
// transaction abortable with ErrGroupAuthorization naming READ on the group (Java's
// GroupAuthorizationException, abortable); the abort works and the next transaction,
// without offsets, commits.
func TestRealAuthzGroup(t *testing.T) {
	s := testcluster.Secure(t)
	topic := authzTopic(t, s, "authz-group")
	txnID, group := rtUniqueTopic("authz-group-id"), rtUniqueTopic("authz-group")
	s.Grant(t, testcluster.ProducerACL("User:noacl", topic, false), testcluster.TransactionalACL("User:noacl", txnID))
	p := authzProducer(t, s, func(c *kprod.Config) { c.TransactionalID = txnID })
	ctx := authzCtx(t)
	if err := p.InitTransactions(ctx); err != nil {
		t.Fatalf("InitTransactions: %v", err)
	}
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := p.Send(ctx, &kprod.Record{Topic: topic, Value: []byte("aborted")}, nil); err != nil {
		t.Fatal(err)
	}
	err := p.SendOffsetsToTransaction(ctx, map[kprod.TopicPartition]kprod.OffsetAndMetadata{{Topic: topic}: {Offset: 1, LeaderEpoch: -1}},
		kprod.ConsumerGroupMetadata{GroupID: group})
	var ae *kprod.AbortableError
	if !errors.As(err, &ae) {
		t.Fatalf("SendOffsetsToTransaction: %v; want an *AbortableError", err)
	}
	wantDenied(t, "SendOffsetsToTransaction", err, kprod.ErrGroupAuthorization, "READ on GROUP "+group)
	if err := p.AbortTransaction(ctx); err != nil {
		t.Fatalf("AbortTransaction: %v", err)
	}
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := p.Send(ctx, &kprod.Record{Topic: topic, Value: []byte("committed")}, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.CommitTransaction(ctx); err != nil {
		t.Fatalf("CommitTransaction: %v", err)
	}
	recs := rtConsume(t, s.Bootstrap, topic, 1, time.Minute, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if len(recs) != 1 || string(recs[0].Value) != "committed" {
		t.Fatalf("read_committed: %d records, want only \"committed\"", len(recs))
	}
}
