package wire

import (
	"encoding/binary"
	"hash/crc32"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// This file builds the independent oracle: the same structures encoded by
// franz-go's kmsg, generated from Kafka's message definitions.

// testRecord is one record as a test describes it.
type testRecord struct {
	ts      int64
	key     []byte
	value   []byte
	headers []Header
}

// kmsgRecord encodes one record with kmsg, length prefix included.
func kmsgRecord(offsetDelta int32, tsDelta int64, key, value []byte, headers []Header) []byte {
	r := kmsg.Record{
		TimestampDelta64: tsDelta,
		TimestampDelta:   int32(tsDelta),
		OffsetDelta:      offsetDelta,
		Key:              key,
		Value:            value,
	}
	for _, h := range headers {
		r.Headers = append(r.Headers, kmsg.Header{Key: h.Key, Value: h.Value})
	}
	// kmsg writes Length as given: encode once to learn the body size.
	probe := r.AppendTo(nil)
	r.Length = int32(len(probe) - 1) // Length 0 took one byte
	return r.AppendTo(nil)
}

// batchSpec is what a test asks of a batch, apart from its records.
type batchSpec struct {
	transactional bool
	control       bool
	producerID    int64
	producerEpoch int16
	baseSequence  int32
}

var noProducer = batchSpec{producerID: -1, producerEpoch: -1, baseSequence: -1}

// kmsgBatch encodes an uncompressed batch with kmsg and computes its CRC
// with hash/crc32, independently of the code under test.
func kmsgBatch(recs []testRecord, spec batchSpec) []byte {
	var section []byte
	base, maxTS := int64(-1), int64(-1)
	for i, r := range recs {
		if i == 0 {
			base, maxTS = r.ts, r.ts
		}
		maxTS = max(maxTS, r.ts)
		section = append(section, kmsgRecord(int32(i), r.ts-base, r.key, r.value, r.headers)...)
	}
	return kmsgBatchWith(section, len(recs), base, maxTS, 0, spec)
}

// kmsgBatchWith wraps a (possibly compressed) records section.
func kmsgBatchWith(section []byte, n int, base, maxTS int64, codec Codec, spec batchSpec) []byte {
	attrs := int16(codec)
	if spec.transactional {
		attrs |= 0x10
	}
	if spec.control {
		attrs |= 0x20
	}
	b := kmsg.RecordBatch{
		FirstOffset:          0,
		Length:               int32(49 + len(section)),
		PartitionLeaderEpoch: -1,
		Magic:                2,
		Attributes:           attrs,
		LastOffsetDelta:      int32(n - 1),
		FirstTimestamp:       base,
		MaxTimestamp:         maxTS,
		ProducerID:           spec.producerID,
		ProducerEpoch:        spec.producerEpoch,
		FirstSequence:        spec.baseSequence,
		NumRecords:           int32(n),
		Records:              section,
	}
	raw := b.AppendTo(nil)
	b.CRC = int32(crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli)))
	return b.AppendTo(nil)
}

// buildBatch encodes recs with the code under test.
func buildBatch(t testing.TB, recs []testRecord, opts BatchOptions) []byte {
	t.Helper()
	var b BatchBuilder
	b.Reset(nil)
	for _, r := range recs {
		want := b.Len() + b.RecordSize(r.ts, r.key, r.value, r.headers)
		b.Append(r.ts, r.key, r.value, r.headers)
		if b.Len() != want {
			t.Fatalf("RecordSize predicted batch length %d, got %d", want, b.Len())
		}
	}
	return b.Finish(opts)
}

// verifyCRC checks a batch's CRC with hash/crc32 directly.
func verifyCRC(t testing.TB, batch []byte) {
	t.Helper()
	want := crc32.Checksum(batch[21:], crc32.MakeTable(crc32.Castagnoli))
	if got := binary.BigEndian.Uint32(batch[17:]); got != want {
		t.Fatalf("CRC %#x, want %#x", got, want)
	}
}

// sampleRecords covers null and empty keys, values and header values,
// negative and large timestamp deltas, and multi-byte varint lengths.
func sampleRecords() []testRecord {
	big := make([]byte, 300)
	for i := range big {
		big[i] = byte(i)
	}
	return []testRecord{
		{ts: 1700000000000, key: []byte("k"), value: []byte("v")},
		{ts: 1700000000005, key: nil, value: []byte("value")},
		{ts: 1699999999990, key: []byte{}, value: nil},
		{ts: 1700000000001, key: []byte("key"), value: []byte{}},
		{ts: 1700000100000, key: big[:130], value: big, headers: []Header{
			{Key: "h1", Value: []byte("x")},
			{Key: "", Value: nil},
			{Key: "empty", Value: []byte{}},
		}},
		{ts: 1700000000000, key: nil, value: nil, headers: []Header{{Key: "only", Value: big[:200]}}},
	}
}
