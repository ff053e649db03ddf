package sink

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kprod-io/kprod"
)

func start(t *testing.T, verify bool, partitions int32) *Server {
	t.Helper()
	s, err := New(Config{Verify: verify, Partitions: partitions, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func value(i, size int) []byte {
	v := []byte(fmt.Sprintf(`{"i":%d,"pad":"`, i))
	for len(v) < size-2 {
		v = append(v, byte('a'+i%26))
	}
	return append(v, '"', '}')
}

// TestKgo produces with franz-go with every codec, idempotent and not, and checks the
// verifying sink counted every record and every value byte.
func TestKgo(t *testing.T) {
	s := start(t, true, 3)
	codecs := []struct {
		name  string
		codec kgo.CompressionCodec
	}{
		{"none", kgo.NoCompression()}, {"gzip", kgo.GzipCompression()}, {"snappy", kgo.SnappyCompression()},
		{"lz4", kgo.Lz4Compression()}, {"zstd", kgo.ZstdCompression()},
	}
	for _, c := range codecs {
		for _, idem := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/idempotent=%v", c.name, idem), func(t *testing.T) {
				topic := fmt.Sprintf("kgo-%s-%v", c.name, idem)
				opts := []kgo.Opt{kgo.SeedBrokers(s.Addr()), kgo.DefaultProduceTopic(topic),
					kgo.ProducerBatchCompression(c.codec), kgo.ProducerLinger(time.Millisecond),
					kgo.AllowAutoTopicCreation()}
				if !idem {
					opts = append(opts, kgo.DisableIdempotentWrite(), kgo.RequiredAcks(kgo.LeaderAck()))
				}
				cl, err := kgo.NewClient(opts...)
				if err != nil {
					t.Fatal(err)
				}
				defer cl.Close()
				const n = 3000
				var wg sync.WaitGroup
				var mu sync.Mutex
				var firstErr error
				offsets := map[int32][]int64{}
				wg.Add(n)
				for i := range n {
					cl.Produce(context.Background(), &kgo.Record{Value: value(i, 100)}, func(r *kgo.Record, err error) {
						mu.Lock()
						if err != nil && firstErr == nil {
							firstErr = err
						}
						offsets[r.Partition] = append(offsets[r.Partition], r.Offset)
						mu.Unlock()
						wg.Done()
					})
				}
				wg.Wait()
				if firstErr != nil {
					t.Fatal(firstErr)
				}
				for p, offs := range offsets {
					for i, o := range offs {
						if o != int64(i) {
							t.Fatalf("partition %d: record %d got offset %d", p, i, o)
						}
					}
				}
				st, ok := s.Topic(topic)
				if !ok || st.Records != n || st.ValueBytes != n*100 || st.Errors != 0 {
					t.Fatalf("sink stats %+v, want %d records of 100 bytes", st, n)
				}
				if c.name != "none" && st.Codecs[c.name] != st.Batches {
					t.Fatalf("codecs %v, want every batch %s", st.Codecs, c.name)
				}
			})
		}
	}
}

// TestKprod produces with kprod (idempotent, acks=all; and acks=1) and checks offsets
// and the verifying sink's count.
func TestKprod(t *testing.T) {
	s := start(t, true, 1)
	for _, comp := range []kprod.Compression{kprod.CompressionNone, kprod.CompressionLZ4, kprod.CompressionZstd} {
		for _, acks := range []kprod.Acks{kprod.AcksAll, kprod.AcksLeader} {
			t.Run(fmt.Sprintf("%s/acks=%s", comp, acks), func(t *testing.T) {
				topic := fmt.Sprintf("kprod-%s-%s", comp, acks)
				p, err := kprod.NewProducer(kprod.Config{BootstrapServers: []string{s.Addr()}, Acks: acks,
					Compression: comp, Linger: time.Millisecond})
				if err != nil {
					t.Fatal(err)
				}
				defer p.Close(context.Background())
				const n = 3000
				var mu sync.Mutex
				var offs []int64
				var firstErr error
				for i := range n {
					err := p.Send(context.Background(), &kprod.Record{Topic: topic, Value: value(i, 100)},
						func(md kprod.RecordMetadata, err error) {
							mu.Lock()
							defer mu.Unlock()
							if err != nil && firstErr == nil {
								firstErr = err
							}
							offs = append(offs, md.Offset)
						})
					if err != nil {
						t.Fatal(err)
					}
				}
				if err := p.Flush(context.Background()); err != nil {
					t.Fatal(err)
				}
				mu.Lock()
				defer mu.Unlock()
				if firstErr != nil {
					t.Fatal(firstErr)
				}
				for i, o := range offs {
					if o != int64(i) {
						t.Fatalf("record %d got offset %d", i, o)
					}
				}
				if st, _ := s.Topic(topic); st.Records != n || st.Errors != 0 {
					t.Fatalf("sink stats %+v, want %d records", st, n)
				}
			})
		}
	}
}

// TestMetadataAndCreate checks topic creation: explicit partition counts, the default,
// and TOPIC_ALREADY_EXISTS.
func TestMetadataAndCreate(t *testing.T) {
	s := start(t, false, 2)
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrCreateTopicsRequest()
	for _, tc := range []struct {
		name string
		n    int32
	}{{"sixteen", 16}, {"default", -1}} {
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = tc.name, tc.n, 1
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range resp.Topics {
		if rt.ErrorCode != 0 {
			t.Fatalf("create %s: error %d", rt.Topic, rt.ErrorCode)
		}
	}
	resp, err = req.RequestWith(context.Background(), cl)
	if err != nil || resp.Topics[0].ErrorCode != 36 {
		t.Fatalf("second create: %v %+v", err, resp)
	}
	meta := kmsg.NewPtrMetadataRequest()
	for _, name := range []string{"sixteen", "default", "implicit"} {
		mt := kmsg.NewMetadataRequestTopic()
		mt.Topic = kmsg.StringPtr(name)
		meta.Topics = append(meta.Topics, mt)
	}
	mresp, err := meta.RequestWith(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"sixteen": 16, "default": 2, "implicit": 2}
	for _, mt := range mresp.Topics {
		if len(mt.Partitions) != want[*mt.Topic] || mt.ErrorCode != 0 {
			t.Fatalf("topic %s: %d partitions, error %d; want %d", *mt.Topic, len(mt.Partitions), mt.ErrorCode, want[*mt.Topic])
		}
	}
}

// TestVerifyRejects feeds corrupt batches to the verifier.
func TestVerifyRejects(t *testing.T) {
	good := func() []byte {
		// One uncompressed record with value "v", built by hand: length 7, attrs 0,
		// ts delta 0, offset delta 0, key null (-1), value len 1 "v", 0 headers.
		rec := []byte{14, 0, 0, 0, 1, 2, 'v', 0}
		b := make([]byte, batchHeaderSize, batchHeaderSize+len(rec))
		b = append(b, rec...)
		putBatchHeader(b, 1)
		return b
	}
	cases := []struct {
		name   string
		mutate func([]byte) []byte
	}{
		{"bad crc", func(b []byte) []byte { b[len(b)-1] ^= 1; return b }},
		{"count too high", func(b []byte) []byte { b[60] = 2; b[26] = 1; return fixCRC(b) }},
		{"record length short", func(b []byte) []byte { b[61] = 12; return fixCRC(b) }},
		{"trailing byte", func(b []byte) []byte { b = append(b, 0); fixLen(b); return fixCRC(b) }},
		{"offset delta", func(b []byte) []byte { b[64] = 2; return fixCRC(b) }},
		{"unknown codec", func(b []byte) []byte { b[22] = 7; return fixCRC(b) }},
	}
	v := newVerifier()
	h, err := readHeader(good())
	if err != nil {
		t.Fatal(err)
	}
	if n, vb, err := v.verify(good(), h); err != nil || n != 1 || vb != 1 {
		t.Fatalf("good batch: %d records, %d value bytes, %v", n, vb, err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.mutate(good())
			h, err := readHeader(b)
			if err == nil {
				_, _, err = v.verify(b, h)
			}
			if err == nil {
				t.Fatal("accepted")
			}
		})
	}
	if _, err := readHeader(append(make([]byte, 16), 1)); err == nil {
		t.Fatal("magic 1 accepted")
	}
}

// putBatchHeader fills a RecordBatch v2 header for count records: magic 2, no codec,
// producer id -1, and the length and CRC32C of what b holds.
func putBatchHeader(b []byte, count int32) {
	b[16] = 2
	binary.BigEndian.PutUint32(b[23:], uint32(count-1))
	binary.BigEndian.PutUint64(b[43:], ^uint64(0))
	binary.BigEndian.PutUint16(b[51:], 0xffff)
	binary.BigEndian.PutUint32(b[53:], 0xffffffff)
	binary.BigEndian.PutUint32(b[57:], uint32(count))
	fixLen(b)
	fixCRC(b)
}

func fixLen(b []byte) { binary.BigEndian.PutUint32(b[8:], uint32(len(b)-12)) }

func fixCRC(b []byte) []byte {
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], castagnoli))
	return b
}

// TestVarint checks the one-byte fast path against encoding/binary.
func TestVarint(t *testing.T) {
	for _, v := range []int64{0, 1, -1, 63, -64, 64, -65, 300, -300, 1 << 40, -(1 << 40)} {
		b := binary.AppendVarint(nil, v)
		got, p, ok := varint(b, 0)
		if !ok || got != v || p != len(b) {
			t.Fatalf("varint(%d): %d, %d, %v", v, got, p, ok)
		}
	}
	if _, _, ok := varint([]byte{0x80}, 0); ok {
		t.Fatal("truncated varint accepted")
	}
	if _, _, ok := varint(nil, 0); ok {
		t.Fatal("empty varint accepted")
	}
}

// BenchmarkVerify measures the verifier on a batch of 1000 100-byte records.
func BenchmarkVerify(b *testing.B) {
	var recs []byte
	for i := range 1000 {
		var r []byte
		r = append(r, 0)                     // attributes
		r = binary.AppendVarint(r, 0)        // timestamp delta
		r = binary.AppendVarint(r, int64(i)) // offset delta
		r = binary.AppendVarint(r, -1)       // null key
		r = binary.AppendVarint(r, 100)      // value length
		r = append(r, value(i, 100)...)      // value
		r = binary.AppendVarint(r, 0)        // headers
		recs = binary.AppendVarint(recs, int64(len(r)))
		recs = append(recs, r...)
	}
	batch := append(make([]byte, batchHeaderSize), recs...)
	putBatchHeader(batch, 1000)
	h, err := readHeader(batch)
	if err != nil {
		b.Fatal(err)
	}
	v := newVerifier()
	b.ReportAllocs()
	b.SetBytes(int64(len(batch)))
	for b.Loop() {
		if _, _, err := v.verify(batch, h); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAcksZero checks that acks=0 Produce requests get no response (a response would
// be read as the answer to the next request) and are still counted.
func TestAcksZero(t *testing.T) {
	s := start(t, true, 1)
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.Addr()), kgo.DefaultProduceTopic("acks0"),
		kgo.DisableIdempotentWrite(), kgo.RequiredAcks(kgo.NoAck()), kgo.ProducerLinger(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	const n = 2000
	for i := range n {
		cl.Produce(context.Background(), &kgo.Record{Value: value(i, 50)}, nil)
	}
	if err := cl.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, _ := s.Topic("acks0")
		if st.Records == n && st.Errors == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sink %+v, want %d records", st, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The connection is still in sync: a request with a response works.
	if err := cl.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}
