package kprod_test

import (
	"bytes"
	"context"
	cryptorand "crypto/rand"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/internal/testcluster"
	"github.com/kprod-io/kprod/kafkatest"
	"github.com/kprod-io/kprod/sasl"
)

// limitValue is the value size whose record, alone in a batch (null key, no headers), is
// exactly size bytes: the 61-byte batch header, then the record's length varint,
// attributes, the two deltas, the null key's length, the value's length varint, the
// value and the header count. Written out here rather than taken from the producer.
func limitValue(size int) int {
	for n := size; n > 0; n-- {
		body := 1 + 1 + 1 + 1 + rtVarintLen(n) + n + 1
		if 61+rtVarintLen(body)+body == size {
			return n
		}
	}
	panic("no value size for " + strconv.Itoa(size))
}

// TestTopicLimit runs the topic size limit checks on the embedded cluster, which enforces
// max.message.bytes on each batch as a broker does.
func TestTopicLimit(t *testing.T) {
	c := testcluster.Embedded(t)
	topicLimit(t, c)
}

// TestTopicLimitReal runs them on the real single-node cluster: the boundary Send draws
// is the broker's own (franz-go, which does not check, is refused one byte over it).
func TestTopicLimitReal(t *testing.T) {
	topicLimit(t, testcluster.RealVersion(t, 1, "4."))
}

// topicLimit: a topic with max.message.bytes=2000. Records up to it pass; over it Send
// refuses at once, naming the limit, the topic and the size, and nothing reaches the log;
// a compressing producer sends what may fit and gets the broker's MESSAGE_TOO_LARGE with
// the batch's size; a change of the limit is seen after the next metadata refresh.
func topicLimit(t *testing.T, c *testcluster.Cluster) {
	const limit = 2000
	topic := rtUniqueTopic("limit")
	admin := rtClient(t, c.Bootstrap, kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.DefaultProduceTopic(topic),
		kgo.RecordRetries(0), kgo.DisableIdempotentWrite())
	testcluster.CreateTopic(t, admin, topic, 1, int16(c.Nodes), map[string]string{"max.message.bytes": strconv.Itoa(limit)})
	if c.Kind == "real" {
		testcluster.WaitTopicKnown(t, admin, topic)
	}
	p := rtProducer(t, c.Bootstrap, func(cfg *kprod.Config) { cfg.MetadataMaxAge = 300 * time.Millisecond })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var written [][]byte
	send := func(p *kprod.Producer, value []byte) error {
		_, err := p.SendSync(ctx, &kprod.Record{Topic: topic, Value: value})
		if err == nil {
			written = append(written, value)
		}
		return err
	}
	// The limit is asked with the topic's metadata: the first Send already knows it.
	if err := send(p, bytes.Repeat([]byte("a"), 1900)); err != nil {
		t.Fatalf("1900-byte record under max.message.bytes=%d: %v", limit, err)
	}
	if got := kprod.TopicLimit(p, topic); got != limit {
		t.Fatalf("producer knows max.message.bytes=%d, want %d", got, limit)
	}
	exact := limitValue(limit)
	if err := send(p, bytes.Repeat([]byte("b"), exact)); err != nil {
		t.Fatalf("record of exactly max.message.bytes=%d in its batch: %v", limit, err)
	}
	for _, n := range []int{exact + 1, 2100} {
		err := send(p, bytes.Repeat([]byte("c"), n))
		if !errors.Is(err, kprod.ErrRecordTooLarge) || kprod.MaybeWritten(err) || kprod.IsRetriable(err) {
			t.Fatalf("%d-byte value over max.message.bytes=%d: err %v (MaybeWritten %v), want ErrRecordTooLarge, not written",
				n, limit, err, kprod.MaybeWritten(err))
		}
		var de *kprod.DeliveryError
		if errors.As(err, &de) {
			t.Fatalf("refused by the broker, not by Send: %v", err)
		}
		t.Logf("Send: %v", err)
		for _, want := range []string{"max.message.bytes=2000", "topic " + topic, strconv.Itoa(n+70) + " bytes", "not written"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%q does not say %q", err, want)
			}
		}
	}
	// The broker draws the same line: franz-go, which does not check, is refused one
	// byte over it.
	res := admin.ProduceSync(ctx, &kgo.Record{Value: bytes.Repeat([]byte("d"), exact+1)})
	if err := res.FirstErr(); !errors.Is(err, kerr.MessageTooLarge) {
		t.Errorf("franz-go's %d-byte batch: %v, want MESSAGE_TOO_LARGE", limit+1, err)
	}

	// Compressed: the size is known only once compressed, so Send checks nothing. What
	// compresses below the limit is written; what does not is refused by the broker, and
	// the error says the batch's size, codec and record count.
	pz := rtProducer(t, c.Bootstrap, func(cfg *kprod.Config) { cfg.Compression = kprod.CompressionLZ4 })
	if err := send(pz, make([]byte, 5000)); err != nil {
		t.Fatalf("5000 zero bytes compressed under max.message.bytes=%d: %v", limit, err)
	}
	random := make([]byte, 2100)
	cryptorand.Read(random)
	err := send(pz, random)
	var de *kprod.DeliveryError
	if !errors.As(err, &de) || !errors.Is(err, kprod.ErrRecordTooLarge) || !errors.Is(err, &kprod.KafkaError{Code: 10}) || kprod.MaybeWritten(err) {
		t.Fatalf("2100 random bytes with lz4: %v, want a *DeliveryError with MESSAGE_TOO_LARGE, not written", err)
	}
	t.Logf("broker: %v", err)
	for _, want := range []string{"MESSAGE_TOO_LARGE", "the record batch was 2", "compression.type=lz4", "1 record(s)", "topic " + topic + "'s max.message.bytes=2000"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not say %q", err, want)
		}
	}

	// A change of the limit is seen with the next refresh (metadata.max.age.ms).
	alterLimit(t, admin, topic, 3000)
	waitLimit(t, p, topic, 3000)
	if err := send(p, bytes.Repeat([]byte("e"), 2500)); err != nil {
		t.Fatalf("2500-byte record after max.message.bytes went up to 3000: %v", err)
	}
	alterLimit(t, admin, topic, 1500)
	waitLimit(t, p, topic, 1500)
	if err := send(p, bytes.Repeat([]byte("f"), 1900)); !errors.Is(err, kprod.ErrRecordTooLarge) || !strings.Contains(err.Error(), "max.message.bytes=1500") {
		t.Fatalf("1900-byte record after max.message.bytes went down to 1500: %v", err)
	}

	// Read back with franz-go: exactly the records Send and the broker accepted.
	got := rtConsume(t, c.Bootstrap, topic, len(written), time.Minute)
	if len(got) != len(written) {
		t.Fatalf("read %d records, want %d", len(got), len(written))
	}
	for i, r := range got {
		if !bytes.Equal(r.Value, written[i]) {
			t.Errorf("record %d: %d bytes, want the %d-byte one", i, len(r.Value), len(written[i]))
		}
	}
	if n := rtEndOffsetsSum(t, admin, topic, 1); n != int64(len(written)) {
		t.Errorf("topic holds %d records, want the %d accepted", n, len(written))
	}
}

func alterLimit(t *testing.T, cl *kgo.Client, topic string, limit int) {
	t.Helper()
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	r := kmsg.NewIncrementalAlterConfigsRequestResource()
	r.ResourceType, r.ResourceName = kmsg.ConfigResourceTypeTopic, topic
	cfg := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
	cfg.Name, cfg.Op, cfg.Value = "max.message.bytes", kmsg.IncrementalAlterConfigOpSet, kmsg.StringPtr(strconv.Itoa(limit))
	r.Configs = append(r.Configs, cfg)
	req.Resources = append(req.Resources, r)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, cl)
	if err == nil {
		err = kerr.ErrorForCode(resp.Resources[0].ErrorCode)
	}
	if err != nil {
		t.Fatalf("set max.message.bytes=%d on %s: %v", limit, topic, err)
	}
}

// waitLimit waits for the producer's view of the topic's limit to become want.
func waitLimit(t *testing.T, p *kprod.Producer, topic string, want int32) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second) // metadata.max.age.ms is 300 ms: only a broken refresh uses it up
	for kprod.TopicLimit(p, topic) != want {
		if time.Now().After(deadline) {
			t.Fatalf("producer still knows max.message.bytes=%d, want %d", kprod.TopicLimit(p, topic), want)
		}
		time.Sleep(20 * time.Millisecond) // polls the next snapshot
	}
}

// TestTopicLimitDescribeRefused: a broker that refuses DescribeConfigs (no
// DESCRIBE_CONFIGS permission) leaves the limit unknown, says so once in the log, and
// fails no send: an oversized record goes to the broker, whose MESSAGE_TOO_LARGE comes
// back in the record's *DeliveryError with the batch's size.
func TestTopicLimitDescribeRefused(t *testing.T) {
	k := kafkatest.New(t, kafkatest.Topic("denied", 1))
	fake := k.Fake()
	fake.ControlKey(int16(kmsg.DescribeConfigs), func(req kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
		for _, r := range req.(*kmsg.DescribeConfigsRequest).Resources {
			rr := kmsg.NewDescribeConfigsResponseResource()
			rr.ResourceType, rr.ResourceName, rr.ErrorCode = r.ResourceType, r.ResourceName, kerr.TopicAuthorizationFailed.Code
			resp.Resources = append(resp.Resources, rr)
		}
		return resp, nil, true
	})
	alterLimit(t, rtClient(t, k.Bootstrap()), "denied", 1000)
	logs := &logCapture{}
	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: k.Bootstrap(), MetadataMaxAge: 50 * time.Millisecond}, kprod.WithLogger(slog.New(logs)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// The first Send waits for the topic's metadata, published once DescribeConfigs has
	// answered.
	if _, err := p.SendSync(ctx, &kprod.Record{Topic: "denied", Value: []byte("small")}); err != nil {
		t.Fatal(err)
	}
	_, err = p.SendSync(ctx, &kprod.Record{Topic: "denied", Value: make([]byte, 1500)})
	var de *kprod.DeliveryError
	if !errors.As(err, &de) || !errors.Is(err, kprod.ErrRecordTooLarge) || kprod.MaybeWritten(err) ||
		!strings.Contains(err.Error(), "the record batch was 1570 bytes (compression.type=none, 1 record(s)") {
		t.Fatalf("1500-byte record, limit unknown: %v, want the broker's MESSAGE_TOO_LARGE with the batch size", err)
	}
	if n := kprod.TopicLimit(p, "denied"); n != 0 {
		t.Errorf("limit %d known though DescribeConfigs was refused", n)
	}
	// Refreshes every 50 ms ask again; the refusal is logged once.
	waitRefreshes(t, p, 5)
	if n := logs.count(slog.LevelInfo, "kprod: a topic's max.message.bytes cannot be read"); n != 1 {
		t.Errorf("refusal logged %d times, want once: %q", n, logs.since(0, slog.LevelDebug))
	}
}

// waitRefreshes waits for n more metadata snapshots.
func waitRefreshes(t *testing.T, p *kprod.Producer, n uint64) {
	t.Helper()
	want := kprod.MetadataGeneration(p) + n
	deadline := time.Now().Add(30 * time.Second)
	for kprod.MetadataGeneration(p) < want {
		if time.Now().After(deadline) {
			t.Fatalf("no %d metadata refreshes in 30s", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTopicLimitRealNoDescribeConfigs: on the secure cluster a producer granted only what
// `AclCommand --producer` grants (no DESCRIBE_CONFIGS) cannot read max.message.bytes: it
// says so once, sends as Java does, and the broker's MESSAGE_TOO_LARGE fails an oversized
// record with the batch's size. Once DESCRIBE_CONFIGS is granted the next refresh learns
// the limit and Send refuses such a record itself.
func TestTopicLimitRealNoDescribeConfigs(t *testing.T) {
	s := testcluster.Secure(t)
	topic := rtUniqueTopic("limit-acl")
	cl := rtClient(t, s.Bootstrap)
	testcluster.CreateTopic(t, cl, topic, 1, int16(s.Nodes), map[string]string{"max.message.bytes": "2000"})
	testcluster.WaitTopicKnown(t, cl, topic)
	s.Grant(t, testcluster.ProducerACL("User:noacl", topic, false))
	u := s.Users["noacl"]
	logs := &logCapture{}
	p, err := kprod.NewProducer(kprod.Config{BootstrapServers: s.Listeners["SASL_SSL"], SecurityProtocol: kprod.SecuritySASLSSL,
		TLS: s.TLSConfig(t, ""), SASL: sasl.ScramSHA512(u.Name, u.Password), MetadataMaxAge: 300 * time.Millisecond},
		kprod.WithLogger(slog.New(logs)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	ctx := authzCtx(t)
	if _, err := p.SendSync(ctx, &kprod.Record{Topic: topic, Value: []byte("small")}); err != nil {
		t.Fatal(err)
	}
	if n := kprod.TopicLimit(p, topic); n != 0 {
		t.Fatalf("max.message.bytes=%d read without DESCRIBE_CONFIGS", n)
	}
	_, err = p.SendSync(ctx, &kprod.Record{Topic: topic, Value: make([]byte, 2100)})
	var de *kprod.DeliveryError
	if !errors.As(err, &de) || !errors.Is(err, kprod.ErrRecordTooLarge) || kprod.MaybeWritten(err) ||
		!strings.Contains(err.Error(), "the record batch was 2170 bytes") {
		t.Fatalf("2100-byte record, limit unreadable: %v, want the broker's MESSAGE_TOO_LARGE with the batch size", err)
	}
	if n := logs.count(slog.LevelInfo, "kprod: a topic's max.message.bytes cannot be read"); n != 1 {
		t.Errorf("refusal logged %d times, want once: %q", n, logs.since(0, slog.LevelDebug))
	}
	s.Grant(t, testcluster.ACL{Principal: "User:noacl", Resource: "topic", Name: topic, Operations: []string{"DescribeConfigs"}})
	ctx = authzCtx(t) // the grant's time is not the producer's (authzCtx)
	waitLimit(t, p, topic, 2000)
	if _, err := p.SendSync(ctx, &kprod.Record{Topic: topic, Value: make([]byte, 2100)}); !errors.Is(err, kprod.ErrRecordTooLarge) || errors.As(err, &de) {
		t.Fatalf("2100-byte record once the limit is readable: %v, want Send's refusal", err)
	}
	if end, err := kgoEndOffset(ctx, cl, topic); err != nil || end != 1 {
		t.Errorf("topic end offset %d (%v), want 1: only the small record", end, err)
	}
}
