package kprod_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/internal/partition"
	"github.com/kprod-io/kprod/internal/testcluster"
	"github.com/kprod-io/kprod/kafkatest"
)

// rtMaxRequest is max.request.size for the round trips: small enough that records at
// the limit stay cheap, large enough to span several network reads.
const rtMaxRequest = 256 << 10

// rtPartitions is the partition count of every round-trip topic.
const rtPartitions = 5

// rtJavaOverhead is what Java's KafkaProducer adds to a record's key, value and headers
// when it checks max.request.size (AbstractRecords.estimateSizeInBytesUpperBound): the
// 61-byte batch header plus DefaultRecord.MAX_RECORD_OVERHEAD (21: a 5-byte length
// varint, attributes, a 10-byte timestamp delta and a 5-byte offset delta).
const rtJavaOverhead = 61 + 21

// rtCodecs are the compression codecs every round trip runs with.
var rtCodecs = []struct {
	name  string
	codec kprod.Compression
}{
	{"none", kprod.CompressionNone},
	{"gzip", kprod.CompressionGzip},
	{"snappy", kprod.CompressionSnappy},
	{"lz4", kprod.CompressionLZ4},
	{"zstd", kprod.CompressionZstd},
}

// rtClusters are the clusters the round trips run on: the embedded one always, and
// every real one scripts/test starts (missing ones skip, or fail under
// KPROD_REQUIRE_KAFKA=1).
var rtClusters = []struct {
	name string
	get  func(t *testing.T) *testcluster.Cluster
}{
	{"embedded-3", func(t *testing.T) *testcluster.Cluster { return testcluster.Embedded(t, kafkatest.Brokers(3)) }},
	{"real-1node-4.x", func(t *testing.T) *testcluster.Cluster { return testcluster.RealVersion(t, 1, "4.") }},
	{"real-3node-4.x", func(t *testing.T) *testcluster.Cluster { return testcluster.RealVersion(t, 3, "4.") }},
	{"real-1node-3.9", func(t *testing.T) *testcluster.Cluster { return testcluster.RealVersion(t, 1, "3.9.") }},
}

// rtMode is how a record is sent.
type rtMode int

const (
	rtSync     rtMode = iota // SendSync
	rtCallback               // Send with a callback
	rtForget                 // Send without callback, then Flush
)

func (m rtMode) String() string { return [...]string{"sync", "callback", "forget"}[m] }

// rtCase is one record of the mix.
type rtCase struct {
	name      string
	key       []byte
	value     []byte
	headers   []kprod.Header
	ts        time.Time               // zero: the time of Send
	partition kprod.OptionalPartition // unset: the partitioner chooses
}

// rtSent is a record sent and what became of it.
type rtSent struct {
	c       rtCase
	mode    rtMode
	before  time.Time // just before Send
	after   time.Time // Send returned (for sync: the outcome arrived)
	md      kprod.RecordMetadata
	err     error
	done    bool
	cbOrder int  // position among completed callbacks
	matched bool // read back
}

// TestRoundTrip produces a mix of edge-case records with every codec and every send
// style, reads them back with franz-go and checks them byte for byte: key and value
// (nil distinct from empty), headers (order, repeats, null values), timestamps, and the
// partition, offset and timestamp each send reported; keyed records land where Java's
// murmur2 puts them, and nothing extra is written.
func TestRoundTrip(t *testing.T) {
	for _, cl := range rtClusters {
		t.Run(cl.name, func(t *testing.T) {
			c := cl.get(t)
			for _, codec := range rtCodecs {
				t.Run(codec.name, func(t *testing.T) {
					t.Parallel()
					rtRoundTrip(t, c, codec.codec)
				})
			}
		})
	}
}

func rtRoundTrip(t *testing.T, c *testcluster.Cluster, codec kprod.Compression) {
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 7))
	t.Logf("seed %d", seed)
	topic := rtUniqueTopic("rt-" + codec.String())
	admin := rtClient(t, c.Bootstrap)
	testcluster.CreateTopic(t, admin, topic, rtPartitions, int16(c.Nodes), nil)

	p := rtProducer(t, c.Bootstrap, func(cfg *kprod.Config) {
		cfg.Compression = codec
		cfg.MaxRequestSize = rtMaxRequest
		cfg.Linger = 10 * time.Millisecond
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		cbCount int
		sent    []*rtSent
	)
	send := func(mode rtMode, rc rtCase) {
		s := &rtSent{c: rc, mode: mode}
		sent = append(sent, s)
		// The producer must copy key, value and header values before Send returns:
		// send clones and scribble over them afterwards.
		rec := &kprod.Record{Topic: topic, Key: bytes.Clone(rc.key), Value: bytes.Clone(rc.value), Timestamp: rc.ts}
		for _, h := range rc.headers {
			rec.Headers = append(rec.Headers, kprod.Header{Key: h.Key, Value: bytes.Clone(h.Value)})
		}
		rec.Partition = rc.partition
		s.before = time.Now()
		var err error
		switch mode {
		case rtSync:
			s.md, s.err = p.SendSync(ctx, rec)
			s.done = true
		case rtCallback:
			wg.Add(1)
			err = p.Send(ctx, rec, func(md kprod.RecordMetadata, err error) {
				defer wg.Done()
				mu.Lock()
				defer mu.Unlock()
				if s.done {
					t.Errorf("%s/%s: callback ran twice", mode, rc.name)
				}
				s.md, s.err, s.done, s.cbOrder = md, err, true, cbCount
				cbCount++
			})
			if err != nil {
				wg.Done()
			}
		case rtForget:
			err = p.Send(ctx, rec, nil)
		}
		s.after = time.Now()
		if err != nil {
			t.Fatalf("%s/%s: Send: %v", mode, rc.name, err)
		}
		rtScribble(rec)
	}

	for _, mode := range []rtMode{rtSync, rtCallback, rtForget} {
		for _, rc := range rtMix(rng, mode.String()) {
			send(mode, rc)
		}
		if mode == rtSync {
			continue
		}
		// A burst that fills multi-record (compressed) batches.
		for i := range 200 {
			send(mode, rtBulk(rng, mode.String(), i))
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	flushed := time.Now()
	wg.Wait()

	byPos := map[[2]int64]*rtSent{}
	for _, s := range sent {
		switch {
		case s.mode == rtForget:
			s.after = flushed
		case !s.done:
			t.Fatalf("%s/%s: no outcome after Flush", s.mode, s.c.name)
		case s.err != nil:
			t.Fatalf("%s/%s: delivery failed: %v", s.mode, s.c.name, s.err)
		default:
			rtCheckMetadata(t, s, topic)
			key := [2]int64{int64(s.md.Partition), s.md.Offset}
			if other := byPos[key]; other != nil {
				t.Fatalf("%s/%s and %s/%s both reported partition %d offset %d",
					s.mode, s.c.name, other.mode, other.c.name, s.md.Partition, s.md.Offset)
			}
			byPos[key] = s
		}
	}
	rtCheckCallbackOrder(t, sent)

	// Read what the topic holds, so that lost or extra records show up as such.
	held := rtEndOffsetsSum(t, admin, topic, rtPartitions)
	if held != int64(len(sent)) {
		t.Errorf("the topic holds %d records, %d were sent and acknowledged", held, len(sent))
	}
	recs := rtConsume(t, c.Bootstrap, topic, int(held), time.Minute)
	rtMatch(t, sent, byPos, recs, codec)
	t.Logf("%d records round-tripped (%d sync, %d callback, %d fire-and-forget)",
		len(sent), rtCount(sent, rtSync), rtCount(sent, rtCallback), rtCount(sent, rtForget))
}

// rtMix is the table of edge-case records; tag makes values distinct per send style.
func rtMix(rng *rand.Rand, tag string) []rtCase {
	v := func(s string) []byte { return []byte(s + "-" + tag) }
	now := time.Now()
	big := rtMaxRequest - 200
	// The largest value Java accepts under max.request.size for a null key, no headers.
	javaMax := rtMaxRequest - rtJavaOverhead - 1 - 1 - rtVarintLen(rtMaxRequest)
	return []rtCase{
		{name: "plain", key: []byte("k"), value: v("plain")},
		{name: "nil-key", value: v("nil-key")},
		{name: "empty-key", key: []byte{}, value: v("empty-key")},
		{name: "tombstone", key: []byte("tomb"), value: nil},
		{name: "empty-value", key: []byte("ev"), value: []byte{}},
		{name: "nil-key-nil-value"},
		{name: "empty-key-empty-value", key: []byte{}, value: []byte{}},
		{name: "headers", key: []byte("h"), value: v("headers"), headers: []kprod.Header{
			{Key: "a", Value: []byte("1")}, {Key: "a", Value: []byte("2")}, {Key: "nul", Value: nil},
			{Key: "a", Value: nil}, {Key: "", Value: []byte{}}, {Key: "ключ-日本-🔑", Value: []byte{0, 0xff, '\n', 0}},
		}},
		{name: "null-header-only", headers: []kprod.Header{{Key: "h", Value: nil}}},
		{name: "many-headers", value: v("many-headers"), headers: rtManyHeaders(40)},
		{name: "old-ts", key: []byte("old"), value: v("old-ts"), ts: time.Date(2001, 9, 9, 1, 46, 40, 0, time.UTC)},
		{name: "epoch-ts", value: v("epoch-ts"), ts: time.UnixMilli(0)},
		// Kafka 4.0 rejects timestamps more than an hour ahead (KIP-937); stay within.
		{name: "future-ts", value: v("future-ts"), ts: now.Add(30 * time.Minute)},
		{name: "sub-ms-ts", value: v("sub-ms-ts"), ts: time.UnixMilli(1_700_000_000_123).Add(999_999)},
		{name: "binary", key: rtRandBytes(rng, 64), value: append(v("binary"), rtRandBytes(rng, 4000)...),
			headers: []kprod.Header{{Key: "bin", Value: rtRandBytes(rng, 300)}}},
		{name: "unicode", key: []byte("clé-ключ-鍵-🔑"), value: []byte("värde-значение-値-" + tag)},
		{name: "explicit-0", key: []byte("k"), value: v("explicit-0"), partition: kprod.InPartition(0)},
		{name: "explicit-2-nil-key", value: v("explicit-2"), partition: kprod.InPartition(2)},
		{name: "explicit-4-empty-key", key: []byte{}, value: v("explicit-4"), partition: kprod.InPartition(4)},
		{name: "explicit-3-tombstone", key: []byte("x"), partition: kprod.InPartition(3)},
		{name: "keyed-a", key: []byte("alpha"), value: v("keyed-a")},
		{name: "keyed-b", key: []byte("beta"), value: v("keyed-b")},
		{name: "keyed-c", key: []byte("gamma-" + tag), value: v("keyed-c")},
		{name: "big-random", key: []byte("big"), value: rtRandBytes(rng, big)},
		{name: "big-compressible", value: bytes.Repeat([]byte("compressible "+tag+" "), big/(14+len(tag)))},
		{name: "java-max-size", value: rtRandBytes(rng, javaMax), partition: kprod.InPartition(1)},
	}
}

// rtBulk is the i-th record of a burst: small, varied, mostly keyed.
func rtBulk(rng *rand.Rand, tag string, i int) rtCase {
	rc := rtCase{name: fmt.Sprintf("bulk-%d", i),
		value:   append([]byte(fmt.Sprintf("bulk-%s-%d-", tag, i)), rtRandBytes(rng, rng.IntN(300))...),
		headers: []kprod.Header{{Key: "i", Value: []byte(fmt.Sprint(i))}}}
	switch i % 4 {
	case 0:
		rc.key = nil
	case 1:
		rc.key = []byte{}
	default:
		rc.key = []byte(fmt.Sprintf("key-%d", rng.IntN(50)))
	}
	if i%7 == 0 {
		rc.partition = kprod.InPartition(int32(i % rtPartitions))
	}
	return rc
}

func rtManyHeaders(n int) []kprod.Header {
	hs := make([]kprod.Header, n)
	for i := range hs {
		hs[i] = kprod.Header{Key: fmt.Sprintf("h%d", i%3), Value: []byte(strings.Repeat("x", i))}
		if i%5 == 4 {
			hs[i].Value = nil
		}
	}
	return hs
}

func rtRandBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// rtVarintLen is the length of n as a zigzag varint.
func rtVarintLen(n int) int {
	u, l := uint64(n)<<1, 1
	for ; u >= 0x80; u >>= 7 {
		l++
	}
	return l
}

// rtScribble overwrites the record's buffers, which the producer must have copied.
func rtScribble(r *kprod.Record) {
	for _, b := range [][]byte{r.Key, r.Value} {
		for i := range b {
			b[i] = 0xA5
		}
	}
	for _, h := range r.Headers {
		for i := range h.Value {
			h.Value[i] = 0x5A
		}
	}
}

// rtCheckMetadata checks what a send reported against what was sent.
func rtCheckMetadata(t *testing.T, s *rtSent, topic string) {
	t.Helper()
	md, rc := s.md, s.c
	where := fmt.Sprintf("%s/%s", s.mode, rc.name)
	if md.Topic != topic {
		t.Errorf("%s: metadata topic %q, want %q", where, md.Topic, topic)
	}
	if md.Offset < 0 {
		t.Errorf("%s: metadata offset %d", where, md.Offset)
	}
	if want, ok := rtWantPartition(rc); ok && md.Partition != want {
		t.Errorf("%s: metadata partition %d, want %d", where, md.Partition, want)
	}
	if md.Partition < 0 || md.Partition >= rtPartitions {
		t.Errorf("%s: metadata partition %d out of range", where, md.Partition)
	}
	if !rtTimestampOK(s, md.Timestamp) {
		t.Errorf("%s: metadata timestamp %v (%d), sent %v between %v and %v", where, md.Timestamp,
			md.Timestamp.UnixMilli(), rc.ts, s.before, s.after)
	}
	if want := rtSize(rc.key); md.SerializedKeySize != want {
		t.Errorf("%s: SerializedKeySize %d, want %d", where, md.SerializedKeySize, want)
	}
	if want := rtSize(rc.value); md.SerializedValueSize != want {
		t.Errorf("%s: SerializedValueSize %d, want %d", where, md.SerializedValueSize, want)
	}
}

// rtCheckCallbackOrder checks that, per partition, callbacks ran and offsets grew in send
// order: the producer keeps per-partition order (idempotence) and completes in it.
func rtCheckCallbackOrder(t *testing.T, sent []*rtSent) {
	t.Helper()
	lastOffset := map[int32]int64{}
	lastOrder := map[int32]int{}
	for _, s := range sent {
		if s.mode == rtForget {
			continue
		}
		p := s.md.Partition
		if off, ok := lastOffset[p]; ok && s.md.Offset <= off {
			t.Errorf("%s/%s: offset %d in partition %d after offset %d sent earlier", s.mode, s.c.name, s.md.Offset, p, off)
		}
		lastOffset[p] = s.md.Offset
		if s.mode == rtCallback {
			if o, ok := lastOrder[p]; ok && s.cbOrder <= o {
				t.Errorf("%s/%s: callback ran out of send order in partition %d", s.mode, s.c.name, p)
			}
			lastOrder[p] = s.cbOrder
		}
	}
}

func rtWantPartition(rc rtCase) (int32, bool) {
	if n, ok := rc.partition.Get(); ok {
		return n, true
	}
	switch {
	case rc.key != nil:
		return partition.KeyPartition(rc.key, rtPartitions), true
	}
	return -1, false
}

func rtSize(b []byte) int {
	if b == nil {
		return -1
	}
	return len(b)
}

// rtTimestampOK reports whether got is the record's timestamp: the one it was sent with,
// or for none, the time of Send, in milliseconds.
func rtTimestampOK(s *rtSent, got time.Time) bool {
	if !s.c.ts.IsZero() {
		return got.UnixMilli() == s.c.ts.UnixMilli()
	}
	ms := got.UnixMilli()
	return ms >= s.before.UnixMilli() && ms <= s.after.UnixMilli()
}

// rtMatch pairs every record read with the one sent: by partition and offset where the
// send reported them, by content (then partition and timestamp rules) for the
// fire-and-forget ones, and checks each pair byte for byte.
func rtMatch(t *testing.T, sent []*rtSent, byPos map[[2]int64]*rtSent, recs []*kgo.Record, codec kprod.Compression) {
	t.Helper()
	bySig := map[string][]*rtSent{}
	for _, s := range sent {
		if s.mode == rtForget {
			sig := rtSig(s.c.key, s.c.value, s.c.headers)
			bySig[sig] = append(bySig[sig], s)
		}
	}
	for _, r := range recs {
		if got := kprod.Compression(r.Attrs.CompressionType()); got != codec {
			t.Errorf("record at %d/%d is in a %v batch, want %v", r.Partition, r.Offset, got, codec)
		}
		if r.Attrs.TimestampType() != 0 {
			t.Errorf("record at %d/%d has timestamp type %d, want CreateTime", r.Partition, r.Offset, r.Attrs.TimestampType())
		}
		if s := byPos[[2]int64{int64(r.Partition), r.Offset}]; s != nil {
			if s.matched {
				t.Fatalf("%s/%s read twice", s.mode, s.c.name)
			}
			s.matched = true
			rtCompare(t, s, r)
			if r.Timestamp.UnixMilli() != s.md.Timestamp.UnixMilli() {
				t.Errorf("%s/%s: read timestamp %d, metadata said %d", s.mode, s.c.name,
					r.Timestamp.UnixMilli(), s.md.Timestamp.UnixMilli())
			}
			continue
		}
		var hit *rtSent
		for _, s := range bySig[rtSig(r.Key, r.Value, rtHeaders(r.Headers))] {
			want, fixed := rtWantPartition(s.c)
			if !s.matched && (!fixed || want == r.Partition) && rtTimestampOK(s, r.Timestamp) {
				hit = s
				break
			}
		}
		if hit == nil {
			t.Errorf("record at %d/%d (key %s, %d value bytes, %d headers, ts %d) matches nothing sent",
				r.Partition, r.Offset, rtShow(r.Key), len(r.Value), len(r.Headers), r.Timestamp.UnixMilli())
			continue
		}
		hit.matched = true
		rtCompare(t, hit, r)
	}
	for _, s := range sent {
		switch {
		case s.matched:
		case s.mode == rtForget:
			t.Errorf("%s/%s was not read back, yet Flush reported success", s.mode, s.c.name)
		default:
			t.Errorf("%s/%s (acknowledged at %s) was not read back", s.mode, s.c.name, rtShortMD(s.md))
		}
	}
}

// rtCompare checks a record read back against the one sent, byte for byte.
func rtCompare(t *testing.T, s *rtSent, r *kgo.Record) {
	t.Helper()
	where := fmt.Sprintf("%s/%s at %d/%d", s.mode, s.c.name, r.Partition, r.Offset)
	if !rtSameBytes(r.Key, s.c.key) {
		t.Errorf("%s: key %s, sent %s", where, rtShow(r.Key), rtShow(s.c.key))
	}
	if !rtSameBytes(r.Value, s.c.value) {
		t.Errorf("%s: value %s, sent %s", where, rtShow(r.Value), rtShow(s.c.value))
	}
	if len(r.Headers) != len(s.c.headers) {
		t.Errorf("%s: %d headers, sent %d", where, len(r.Headers), len(s.c.headers))
	} else {
		for i, h := range r.Headers {
			w := s.c.headers[i]
			if h.Key != w.Key || !rtSameBytes(h.Value, w.Value) {
				t.Errorf("%s: header %d is %q=%s, sent %q=%s", where, i, h.Key, rtShow(h.Value), w.Key, rtShow(w.Value))
			}
		}
	}
	if want, ok := rtWantPartition(s.c); ok && r.Partition != want {
		t.Errorf("%s: read from partition %d, want %d", where, r.Partition, want)
	}
	if !rtTimestampOK(s, r.Timestamp) {
		t.Errorf("%s: timestamp %d, sent %v between %v and %v", where, r.Timestamp.UnixMilli(), s.c.ts, s.before, s.after)
	}
}

// rtSameBytes is bytes.Equal that also tells nil from empty.
func rtSameBytes(a, b []byte) bool { return (a == nil) == (b == nil) && bytes.Equal(a, b) }

func rtHeaders(hs []kgo.RecordHeader) []kprod.Header {
	out := make([]kprod.Header, len(hs))
	for i, h := range hs {
		out[i] = kprod.Header{Key: h.Key, Value: h.Value}
	}
	return out
}

// rtSig is a record's content as a map key, keeping nil apart from empty.
func rtSig(key, value []byte, hs []kprod.Header) string {
	var b strings.Builder
	field := func(x []byte) {
		if x == nil {
			b.WriteString("N|")
			return
		}
		fmt.Fprintf(&b, "%d:%s|", len(x), x)
	}
	field(key)
	field(value)
	for _, h := range hs {
		field([]byte(h.Key))
		field(h.Value)
	}
	return b.String()
}

func rtShow(b []byte) string {
	switch {
	case b == nil:
		return "null"
	case len(b) > 24:
		return fmt.Sprintf("%d bytes %x...", len(b), b[:12])
	}
	return fmt.Sprintf("%q", b)
}

func rtShortMD(md kprod.RecordMetadata) string {
	return fmt.Sprintf("%s/%d@%d ts=%d", md.Topic, md.Partition, md.Offset, md.Timestamp.UnixMilli())
}

func rtCount(sent []*rtSent, m rtMode) int {
	n := 0
	for _, s := range sent {
		if s.mode == m {
			n++
		}
	}
	return n
}

// TestRoundTripMaxRequestSizeBoundary checks max.request.size where Java draws it:
// KafkaProducer rejects a record whose upper-bound batch size (61-byte batch header,
// 21 bytes of worst-case record overhead, key, value, headers) exceeds it, with
// RecordTooLargeException, before buffering it.
func TestRoundTripMaxRequestSizeBoundary(t *testing.T) {
	c := kafkatest.New(t, kafkatest.Brokers(1), kafkatest.Topic("limit", 1))
	p := rtProducer(t, c.Bootstrap(), func(cfg *kprod.Config) { cfg.MaxRequestSize = rtMaxRequest })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, tc := range []struct {
		name    string
		key     []byte
		headers []kprod.Header
	}{
		{"nil-key", nil, nil},
		{"key", []byte("some-key"), nil},
		{"headers", []byte{}, []kprod.Header{{Key: "h", Value: []byte("v")}, {Key: "n", Value: nil}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// key length varint (1 byte here, also for null) + key + header count varint
			fixed := 2 + len(tc.key)
			for _, h := range tc.headers {
				fixed += 1 + len(h.Key) + 1 + len(h.Value)
			}
			// value length varint is 3 bytes at this size
			maxValue := rtMaxRequest - rtJavaOverhead - fixed - 3
			for _, n := range []int{maxValue, maxValue + 1} {
				r := &kprod.Record{Topic: "limit", Key: tc.key, Headers: tc.headers, Value: make([]byte, n)}
				_, err := p.SendSync(ctx, r)
				switch {
				case n == maxValue && err != nil:
					t.Errorf("value of %d bytes (Java's limit): %v", n, err)
				case n > maxValue && !errors.Is(err, kprod.ErrRecordTooLarge):
					t.Errorf("value of %d bytes (1 over Java's limit): err %v, want ErrRecordTooLarge", n, err)
				}
			}
		})
	}
}

// TestRoundTripLogAppendTime produces to topics with message.timestamp.type=LogAppendTime
// on every real cluster: the metadata each send returns carries the broker's append time
// (as read back), not the create time the record was sent with.
func TestRoundTripLogAppendTime(t *testing.T) {
	for _, cl := range rtClusters[1:] {
		t.Run(cl.name, func(t *testing.T) {
			c := cl.get(t)
			for _, codec := range []kprod.Compression{kprod.CompressionNone, kprod.CompressionZstd} {
				t.Run(codec.String(), func(t *testing.T) { rtLogAppendTime(t, c, codec) })
			}
		})
	}
}

func rtLogAppendTime(t *testing.T, c *testcluster.Cluster, codec kprod.Compression) {
	topic := rtUniqueTopic("rt-lat")
	admin := rtClient(t, c.Bootstrap)
	testcluster.CreateTopic(t, admin, topic, 3, int16(c.Nodes), map[string]string{"message.timestamp.type": "LogAppendTime"})
	p := rtProducer(t, c.Bootstrap, func(cfg *kprod.Config) {
		cfg.Compression = codec
		cfg.Linger = 20 * time.Millisecond
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	createTime := time.Date(2001, 9, 9, 1, 46, 40, 0, time.UTC)
	start := time.Now()
	const n = 60
	mds := make([]kprod.RecordMetadata, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := range n {
		r := &kprod.Record{Topic: topic, Value: []byte(fmt.Sprint(i)), Timestamp: createTime,
			Partition: kprod.InPartition(int32(i % 3))}
		if i%10 == 0 {
			md, err := p.SendSync(ctx, r)
			if err != nil {
				t.Fatalf("SendSync %d: %v", i, err)
			}
			mds[i] = md
			continue
		}
		wg.Add(1)
		err := p.Send(ctx, r, func(md kprod.RecordMetadata, err error) {
			defer wg.Done()
			if err != nil {
				t.Errorf("record %d: %v", i, err)
			}
			mu.Lock()
			mds[i] = md
			mu.Unlock()
		})
		if err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	wg.Wait()
	end := time.Now()
	recs := rtConsume(t, c.Bootstrap, topic, n, time.Minute)
	sameTime := map[[2]int64]bool{}
	for _, r := range recs {
		var i int
		fmt.Sscan(string(r.Value), &i)
		md := mds[i]
		if r.Attrs.TimestampType() != 1 {
			t.Errorf("record %d: timestamp type %d, want LogAppendTime", i, r.Attrs.TimestampType())
		}
		if md.Partition != r.Partition || md.Offset != r.Offset {
			t.Errorf("record %d read at %d/%d, metadata said %d/%d", i, r.Partition, r.Offset, md.Partition, md.Offset)
		}
		if md.Timestamp.UnixMilli() != r.Timestamp.UnixMilli() {
			t.Errorf("record %d: metadata timestamp %d, broker's append time %d (create time %d)",
				i, md.Timestamp.UnixMilli(), r.Timestamp.UnixMilli(), createTime.UnixMilli())
		}
		if ms := r.Timestamp.UnixMilli(); ms < start.UnixMilli()-1000 || ms > end.UnixMilli()+1000 {
			t.Errorf("record %d: append time %d outside the send window [%d, %d]", i, ms, start.UnixMilli(), end.UnixMilli())
		}
		sameTime[[2]int64{int64(r.Partition), r.Timestamp.UnixMilli()}] = true
	}
	t.Logf("%d records in %d (partition, append time) groups", n, len(sameTime))
}

// rtProducer starts a producer closed at the end of the test.
func rtProducer(t *testing.T, bootstrap []string, mod func(*kprod.Config)) *kprod.Producer {
	t.Helper()
	cfg := kprod.Config{BootstrapServers: bootstrap}
	if mod != nil {
		mod(&cfg)
	}
	p, err := kprod.NewProducer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := p.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return p
}

func rtUniqueTopic(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano(), rand.IntN(1e6))
}

func rtClient(t *testing.T, bootstrap []string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(bootstrap...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// rtConsume reads n records of topic from the start with kgo (with opts, e.g. TLS);
// after timeout it reports an error and returns what it read.
func rtConsume(t *testing.T, bootstrap []string, topic string, n int, timeout time.Duration, opts ...kgo.Opt) []*kgo.Record {
	t.Helper()
	cl := rtClient(t, bootstrap, append([]kgo.Opt{kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, opts...)...)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Errorf("read %d of %d records from %s before the timeout", len(out), n, topic)
			break
		}
		fs.EachError(func(tp string, p int32, err error) { t.Logf("fetch %s/%d: %v", tp, p, err) })
		out = append(out, fs.Records()...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Partition != out[j].Partition {
			return out[i].Partition < out[j].Partition
		}
		return out[i].Offset < out[j].Offset
	})
	return out
}

// rtEndOffsetsSum is the sum of the topic's partitions' end offsets: its record count
// when it was written from offset 0 without aborted transactions.
func rtEndOffsetsSum(t *testing.T, cl *kgo.Client, topic string, partitions int32) int64 {
	t.Helper()
	req := kmsg.NewPtrListOffsetsRequest()
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	for p := range partitions {
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition, rp.Timestamp = p, -1
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("list offsets of %s: %v", topic, err)
	}
	var sum int64
	for _, tr := range resp.Topics {
		for _, pr := range tr.Partitions {
			if pr.ErrorCode != 0 {
				t.Fatalf("list offsets of %s/%d: error code %d", topic, pr.Partition, pr.ErrorCode)
			}
			sum += pr.Offset
		}
	}
	return sum
}
