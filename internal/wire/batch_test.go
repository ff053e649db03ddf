package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestBatchMatchesKmsg(t *testing.T) {
	recs := sampleRecords()
	tests := []struct {
		name string
		recs []testRecord
		opts BatchOptions
		spec batchSpec
	}{
		{"one record", recs[:1], BatchOptions{}, noProducer},
		{"all samples", recs, BatchOptions{}, noProducer},
		{"transactional", recs, BatchOptions{Transactional: true}, batchSpec{transactional: true, producerID: -1, producerEpoch: -1, baseSequence: -1}},
		{"control", recs[:2], BatchOptions{Control: true}, batchSpec{control: true, producerID: -1, producerEpoch: -1, baseSequence: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := buildBatch(t, tt.recs, tt.opts)
			want := kmsgBatch(tt.recs, tt.spec)
			if !bytes.Equal(got, want) {
				t.Fatalf("batch differs from kmsg:\n got %x\nwant %x", got, want)
			}
			verifyCRC(t, got)
			var kb kmsg.RecordBatch
			if err := kb.ReadFrom(got); err != nil {
				t.Fatal(err)
			}
			if int(kb.NumRecords) != len(tt.recs) || kb.Magic != 2 || int(kb.Length) != len(got)-12 {
				t.Fatalf("kmsg read header %+v", kb)
			}
		})
	}
}

func TestBatchEmpty(t *testing.T) {
	var b BatchBuilder
	got := b.Finish(BatchOptions{})
	if len(got) != BatchHeaderSize {
		t.Fatalf("empty batch is %d bytes", len(got))
	}
	h, err := ParseBatchHeader(got)
	if err != nil {
		t.Fatal(err)
	}
	if h.NumRecords != 0 || h.LastOffsetDelta != -1 || h.BaseTimestamp != -1 || h.Length != 49 {
		t.Fatalf("empty batch header %+v", h)
	}
	verifyCRC(t, got)
}

func TestBatchTimestamps(t *testing.T) {
	var b BatchBuilder
	b.Reset(make([]byte, 0, 1024))
	for _, ts := range []int64{100, 90, 150, 120} {
		b.Append(ts, nil, []byte("v"), nil)
	}
	if b.BaseTimestamp() != 100 || b.MaxTimestamp() != 150 || b.NumRecords() != 4 {
		t.Fatalf("base %d max %d n %d", b.BaseTimestamp(), b.MaxTimestamp(), b.NumRecords())
	}
	h, err := ParseBatchHeader(b.Finish(BatchOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	if h.BaseTimestamp != 100 || h.MaxTimestamp != 150 || h.LastOffsetDelta != 3 {
		t.Fatalf("header %+v", h)
	}
}

func TestStampProducer(t *testing.T) {
	recs := sampleRecords()
	for _, deferCRC := range []bool{false, true} {
		got := buildBatch(t, recs, BatchOptions{Transactional: true, DeferCRC: deferCRC})
		if err := StampProducer(got, 4242, 7, 1<<30); err != nil {
			t.Fatal(err)
		}
		want := kmsgBatch(recs, batchSpec{transactional: true, producerID: 4242, producerEpoch: 7, baseSequence: 1 << 30})
		if !bytes.Equal(got, want) {
			t.Fatalf("deferCRC=%v: stamped batch differs from kmsg", deferCRC)
		}
	}
	for _, bad := range [][]byte{nil, make([]byte, 60), func() []byte {
		b := buildBatch(t, recs[:1], BatchOptions{})
		b[offMagic] = 1
		return b
	}(), func() []byte {
		b := buildBatch(t, recs[:1], BatchOptions{})
		return b[:len(b)-1]
	}()} {
		if err := StampProducer(bad, 1, 1, 1); err == nil {
			t.Fatalf("StampProducer accepted %d malformed bytes", len(bad))
		}
	}
}

func TestSetTransactionalAndWriteCRC(t *testing.T) {
	recs := sampleRecords()[:3]
	got := buildBatch(t, recs, BatchOptions{DeferCRC: true})
	if binary.BigEndian.Uint32(got[offCRC:]) != 0 {
		t.Fatal("DeferCRC wrote a CRC")
	}
	if err := SetTransactional(got, true); err != nil {
		t.Fatal(err)
	}
	if err := WriteCRC(got); err != nil {
		t.Fatal(err)
	}
	want := kmsgBatch(recs, batchSpec{transactional: true, producerID: -1, producerEpoch: -1, baseSequence: -1})
	if !bytes.Equal(got, want) {
		t.Fatal("SetTransactional+WriteCRC differs from kmsg")
	}
	if err := SetTransactional(got, false); err != nil {
		t.Fatal(err)
	}
	if h, _ := ParseBatchHeader(got); h.Transactional() {
		t.Fatal("transactional bit not cleared")
	}
}

// gzipCompress is a test codec: Kafka's gzip is a plain gzip stream.
func gzipCompress(dst, src []byte) ([]byte, error) {
	w := bytes.NewBuffer(dst)
	zw := gzip.NewWriter(w)
	if _, err := zw.Write(src); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return w.Bytes(), nil
}

func gzipDecompress(codec Codec, dst, src []byte) ([]byte, error) {
	if codec != CodecGzip {
		return nil, errors.New("test decompressor only knows gzip")
	}
	zr, err := gzip.NewReader(bytes.NewReader(src))
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(zr)
	return append(dst, out...), err
}

func TestFinishCompressed(t *testing.T) {
	recs := sampleRecords()
	var b BatchBuilder
	b.Reset(nil)
	for _, r := range recs {
		b.Append(r.ts, r.key, r.value, r.headers)
	}
	plainSection := append([]byte(nil), b.Records()...)
	got, err := b.FinishCompressed(make([]byte, 0, 64), CodecGzip, gzipCompress, BatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := kmsgBatchWith(got[BatchHeaderSize:], len(recs), recs[0].ts, 1700000100000, CodecGzip, noProducer)
	if !bytes.Equal(got, want) {
		t.Fatalf("compressed batch header differs from kmsg:\n got %x\nwant %x", got[:61], want[:61])
	}
	section, err := gzipDecompress(CodecGzip, nil, got[BatchHeaderSize:])
	if err != nil || !bytes.Equal(section, plainSection) {
		t.Fatalf("compressed section does not decompress to the records: %v", err)
	}
	if err := StampProducer(got, 9, 1, 5); err != nil {
		t.Fatal(err)
	}
	verifyCRC(t, got)

	if _, err := b.FinishCompressed(nil, CodecNone, gzipCompress, BatchOptions{}); err == nil {
		t.Fatal("accepted codec none")
	}
	if _, err := b.FinishCompressed(nil, CodecZstd, nil, BatchOptions{}); err == nil {
		t.Fatal("accepted a nil compressor")
	}
	failing := func(dst, src []byte) ([]byte, error) { return nil, errors.New("boom") }
	if _, err := b.FinishCompressed(nil, CodecLZ4, failing, BatchOptions{}); err == nil {
		t.Fatal("swallowed a compressor error")
	}
	short := func(dst, src []byte) ([]byte, error) { return src[:1], nil }
	if _, err := b.FinishCompressed(nil, CodecLZ4, short, BatchOptions{}); err == nil {
		t.Fatal("accepted a compressor that dropped the header")
	}
}

func TestBuilderReuseDoesNotAllocate(t *testing.T) {
	var b BatchBuilder
	buf := make([]byte, 0, 16<<10)
	value := bytes.Repeat([]byte("v"), 100)
	allocs := testing.AllocsPerRun(50, func() {
		b.Reset(buf)
		for b.Len()+b.RecordSize(1, nil, value, nil) <= 16<<10 {
			b.Append(1, nil, value, nil)
		}
		buf = b.Finish(BatchOptions{})
	})
	if allocs != 0 {
		t.Fatalf("building a batch allocated %.1f times", allocs)
	}
}

// TestRecordSizeThenDifferentAppend checks that Append never trusts a size
// computed by RecordSize for a different record.
func TestRecordSizeThenDifferentAppend(t *testing.T) {
	big := bytes.Repeat([]byte("b"), 200)
	tests := []struct {
		name          string
		asked, actual testRecord
	}{
		{"nil vs empty key", testRecord{ts: 5, key: nil, value: []byte("v")}, testRecord{ts: 5, key: []byte{}, value: []byte("v")}},
		{"value length", testRecord{ts: 5, value: []byte("v")}, testRecord{ts: 5, value: big}},
		{"timestamp", testRecord{ts: 5, value: []byte("v")}, testRecord{ts: 5 << 40, value: []byte("v")}},
		{"headers appear", testRecord{ts: 5, value: []byte("v")}, testRecord{ts: 5, value: []byte("v"), headers: []Header{{Key: "k"}}}},
		{"headers vanish", testRecord{ts: 5, value: []byte("v"), headers: []Header{{Key: "k"}}}, testRecord{ts: 5, value: []byte("v")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first := testRecord{ts: 1, key: []byte("first"), value: []byte("x")}
			var b BatchBuilder
			b.Append(first.ts, first.key, first.value, nil)
			b.RecordSize(tt.asked.ts, tt.asked.key, tt.asked.value, tt.asked.headers)
			b.Append(tt.actual.ts, tt.actual.key, tt.actual.value, tt.actual.headers)
			want := kmsgBatch([]testRecord{first, tt.actual}, noProducer)
			if got := b.Finish(BatchOptions{}); !bytes.Equal(got, want) {
				t.Fatalf("batch differs from kmsg")
			}
		})
	}
}

// TestBatchBuilderMove: a batch moved to a larger buffer mid-way continues there and
// finishes to the same bytes (CRC tracking included) as one built in a single buffer.
func TestBatchBuilderMove(t *testing.T) {
	for _, track := range []bool{false, true} {
		var whole, moved BatchBuilder
		whole.TrackCRC(track)
		moved.TrackCRC(track)
		whole.Reset(make([]byte, 0, 1<<16))
		moved.Reset(make([]byte, 0, 128))
		for i := range 200 {
			v := bytes.Repeat([]byte{byte(i)}, 50+i)
			whole.Append(int64(1000+i), []byte{byte(i)}, v, nil)
			if need := moved.Len() + moved.RecordSize(int64(1000+i), []byte{byte(i)}, v, nil); need > cap(moved.buf) {
				old := moved.buf
				moved.Move(make([]byte, 0, 2*need))
				clear(old[:cap(old)]) // the old buffer may be reused at once
			}
			moved.Append(int64(1000+i), []byte{byte(i)}, v, nil)
		}
		if a, b := whole.Finish(BatchOptions{}), moved.Finish(BatchOptions{}); !bytes.Equal(a, b) {
			t.Fatalf("track=%v: moved batch differs from one built whole", track)
		}
	}
}
