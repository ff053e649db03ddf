package wire

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

// decodeAll collects copies of every record in data.
func decodeAll(t testing.TB, d *BatchDecoder, data []byte) ([]BatchHeader, []testRecord, error) {
	t.Helper()
	var headers []BatchHeader
	var recs []testRecord
	err := d.Decode(data, func(b *RecordBatch) error {
		headers = append(headers, b.Header)
		for _, r := range b.Records {
			tr := testRecord{ts: r.Timestamp, key: cloneNullable(r.Key), value: cloneNullable(r.Value)}
			for _, h := range r.Headers {
				tr.headers = append(tr.headers, Header{Key: h.Key, Value: cloneNullable(h.Value)})
			}
			recs = append(recs, tr)
		}
		return nil
	})
	return headers, recs, err
}

func cloneNullable(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// sameRecords compares records, telling nil from empty.
func sameRecords(t testing.TB, got, want []testRecord) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ts != w.ts || !sameNullable(g.key, w.key) || !sameNullable(g.value, w.value) || len(g.headers) != len(w.headers) {
			t.Fatalf("record %d: got ts=%d key=%q(nil=%v) value-nil=%v; want ts=%d key=%q(nil=%v) value-nil=%v",
				i, g.ts, g.key, g.key == nil, g.value == nil, w.ts, w.key, w.key == nil, w.value == nil)
		}
		for j := range w.headers {
			if g.headers[j].Key != w.headers[j].Key || !sameNullable(g.headers[j].Value, w.headers[j].Value) {
				t.Fatalf("record %d header %d: %+v, want %+v", i, j, g.headers[j], w.headers[j])
			}
		}
	}
}

func sameNullable(a, b []byte) bool { return (a == nil) == (b == nil) && bytes.Equal(a, b) }

func TestDecodeRoundTrip(t *testing.T) {
	recs := sampleRecords()
	first := buildBatch(t, recs, BatchOptions{})
	second := buildBatch(t, recs[:2], BatchOptions{Transactional: true})
	if err := StampProducer(second, 77, 3, 100); err != nil {
		t.Fatal(err)
	}
	// The kmsg-built batch checks the decoder against the oracle too.
	third := kmsgBatch(recs[2:], noProducer)
	data := append(append(append([]byte{}, first...), second...), third...)

	d := BatchDecoder{Strict: true}
	headers, got, err := decodeAll(t, &d, data)
	if err != nil {
		t.Fatal(err)
	}
	want := append(append(append([]testRecord{}, recs...), recs[:2]...), recs[2:]...)
	sameRecords(t, got, want)
	if len(headers) != 3 || !headers[1].Transactional() || headers[1].ProducerID != 77 ||
		headers[1].ProducerEpoch != 3 || headers[1].BaseSequence != 100 || headers[0].Transactional() {
		t.Fatalf("headers %+v", headers)
	}
}

func TestDecodeCompressed(t *testing.T) {
	recs := sampleRecords()
	var b BatchBuilder
	for _, r := range recs {
		b.Append(r.ts, r.key, r.value, r.headers)
	}
	batch, err := b.FinishCompressed(nil, CodecGzip, gzipCompress, BatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := BatchDecoder{Decompress: gzipDecompress, Strict: true}
	headers, got, err := decodeAll(t, &d, batch)
	if err != nil {
		t.Fatal(err)
	}
	sameRecords(t, got, recs)
	if headers[0].Codec() != CodecGzip {
		t.Fatalf("codec %d", headers[0].Codec())
	}
	if _, _, err := decodeAll(t, &BatchDecoder{}, batch); err == nil {
		t.Fatal("decoded a compressed batch without a decompressor")
	}
}

func TestDecodeRejects(t *testing.T) {
	good := buildBatch(t, sampleRecords(), BatchOptions{})
	mutate := func(f func(b []byte) []byte) []byte {
		return f(append([]byte{}, good...))
	}
	recrc := func(b []byte) []byte {
		if err := WriteCRC(b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name   string
		data   []byte
		strict bool
		want   string
	}{
		{"short header", good[:60], false, "shorter"},
		{"truncated", good[:len(good)-1], false, "length"},
		{"crc", mutate(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), false, "CRC32C"},
		{"magic", mutate(func(b []byte) []byte { b[offMagic] = 1; return b }), false, "magic"},
		{"length too small", mutate(func(b []byte) []byte { binary.BigEndian.PutUint32(b[offBatchLength:], 48); return b }), false, "length"},
		{"negative count", mutate(func(b []byte) []byte { binary.BigEndian.PutUint32(b[offRecordCount:], 0xffffffff); return recrc(b) }), false, "record count"},
		{"count too high", mutate(func(b []byte) []byte { binary.BigEndian.PutUint32(b[offRecordCount:], 7); return recrc(b) }), false, "record"},
		{"count too low", mutate(func(b []byte) []byte { binary.BigEndian.PutUint32(b[offRecordCount:], 5); return recrc(b) }), false, "after the last record"},
		{"unknown codec", mutate(func(b []byte) []byte { b[offAttributes+1] |= 7; return recrc(b) }), false, "codec"},
		{"record length", mutate(func(b []byte) []byte { b[BatchHeaderSize] += 2; return recrc(b) }), false, "record 0"},
		{"strict base offset", mutate(func(b []byte) []byte { b[7] = 1; return b }), true, "baseOffset"},
		{"strict leader epoch", mutate(func(b []byte) []byte { b[offLeaderEpoch] = 0; return b }), true, "partitionLeaderEpoch"},
		{"strict append time", mutate(func(b []byte) []byte { b[offAttributes+1] |= 8; return recrc(b) }), true, "LogAppendTime"},
		{"strict last delta", mutate(func(b []byte) []byte { b[offLastOffsetDelta+3]++; return recrc(b) }), true, "lastOffsetDelta"},
		{"strict max ts", mutate(func(b []byte) []byte { b[offMaxTimestamp+7]++; return recrc(b) }), true, "maxTimestamp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := BatchDecoder{Strict: tt.strict}
			err := d.Decode(tt.data, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "kprod: ") {
				t.Fatalf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestDecodeNullHeaderKey(t *testing.T) {
	// A record whose one header has key length -1.
	rec := []byte{0x10, 0, 0, 0, 1, 1, 2, 1, 1}
	section := append([]byte{}, rec...)
	batch := kmsgBatchWith(section, 1, 0, 0, 0, noProducer)
	if err := new(BatchDecoder).Decode(batch, nil); err == nil || !strings.Contains(err.Error(), "invalid length") {
		t.Fatalf("null header key: error %v", err)
	}
}

func TestDecodeSteadyStateAllocs(t *testing.T) {
	recs := sampleRecords()
	for i := range recs {
		recs[i].headers = nil // header keys are strings: decoding them allocates
	}
	batch := buildBatch(t, recs, BatchOptions{})
	var d BatchDecoder
	if err := d.Decode(batch, nil); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if err := d.Decode(batch, nil); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("decoding allocated %.1f times", allocs)
	}
}
