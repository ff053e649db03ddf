package wire

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// FuzzDecodeProduceResponse checks that no input panics the decoder and,
// where kmsg also accepts the input, that both read the same fields.
func FuzzDecodeProduceResponse(f *testing.F) {
	for v := int16(MinProduceVersion); v <= MaxProduceVersion; v++ {
		f.Add(v, kmsgResponse(v).AppendTo(nil))
		f.Add(v, kmsg.NewPtrProduceResponse().AppendTo(nil))
	}
	var resp ProduceResponse
	f.Fuzz(func(t *testing.T, version int16, body []byte) {
		err := resp.Decode(version, body)
		if err != nil || version < MinProduceVersion || version > MaxProduceVersion {
			return
		}
		k := kmsg.ProduceResponse{Version: version}
		if k.ReadFrom(body) != nil {
			return // kmsg is laxer in places (null strings), never stricter
		}
		checkAgainstKmsg(t, version, &resp, &k)
	})
}

// FuzzReadResponseHeader checks the header splitter never panics and
// returns a suffix of its input.
func FuzzReadResponseHeader(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0}, true)
	f.Add([]byte{0, 0, 0, 1, 1, 3, 2, 9, 9, 0xcc}, true)
	f.Add([]byte{0, 0, 0, 7}, false)
	f.Fuzz(func(t *testing.T, frame []byte, flexible bool) {
		id, body, err := ReadResponseHeader(frame, flexible)
		if err != nil {
			return
		}
		if id != int32(binary.BigEndian.Uint32(frame)) || !bytes.HasSuffix(frame, body) {
			t.Fatalf("id %d body %x from %x", id, body, frame)
		}
	})
}

// FuzzBatchDecoder feeds arbitrary bytes to the batch decoder, with a
// decompressor, in both modes. With fix set it first makes the length and
// CRC of the first batch consistent, so the fuzzer reaches record parsing.
func FuzzBatchDecoder(f *testing.F) {
	recs := sampleRecords()
	f.Add(kmsgBatch(recs, noProducer), false, true)
	f.Add(kmsgBatch(recs[:1], noProducer), true, false)
	var b BatchBuilder
	for _, r := range recs {
		b.Append(r.ts, r.key, r.value, r.headers)
	}
	if gz, err := b.FinishCompressed(nil, CodecGzip, gzipCompress, BatchOptions{}); err == nil {
		f.Add(gz, true, true)
	}
	d := BatchDecoder{Decompress: gzipDecompress}
	f.Fuzz(func(t *testing.T, data []byte, strict, fix bool) {
		if fix && len(data) >= BatchHeaderSize {
			binary.BigEndian.PutUint32(data[offBatchLength:], uint32(len(data)-12))
			data[offMagic] = MagicV2
			_ = WriteCRC(data)
		}
		d.Strict = strict
		_ = d.Decode(data, func(rb *RecordBatch) error {
			if len(rb.Records) != int(rb.Header.NumRecords) {
				t.Fatalf("%d records, header says %d", len(rb.Records), rb.Header.NumRecords)
			}
			return nil
		})
	})
}

// FuzzVarint checks ReadUvarlong against encoding/binary and round trips.
func FuzzVarint(f *testing.F) {
	f.Add([]byte{0x80, 0x01}, int64(-1))
	f.Fuzz(func(t *testing.T, in []byte, v int64) {
		got, n := ReadUvarlong(in)
		want, wn := binary.Uvarint(in)
		if n > 0 && (wn != n || want != got) {
			t.Fatalf("ReadUvarlong(%x) = %d,%d; binary.Uvarint = %d,%d", in, got, n, want, wn)
		}
		if back, m := ReadVarlong(AppendVarlong(nil, v)); back != v || m != SizeVarlong(v) {
			t.Fatalf("varlong %d round trip gave %d", v, back)
		}
		if back, m := ReadVarint(AppendVarint(nil, int32(v))); back != int32(v) || m != SizeVarint(int32(v)) {
			t.Fatalf("varint %d round trip gave %d", int32(v), back)
		}
	})
}

// FuzzRecordRoundTrip encodes arbitrary records through the builder,
// compares with kmsg, and decodes them back with nil and empty preserved.
func FuzzRecordRoundTrip(f *testing.F) {
	f.Add(int64(0), int64(5), []byte("k"), []byte("v"), false, false, "h", []byte("x"), false, uint8(1))
	f.Add(int64(-1), int64(-100), []byte{}, []byte{}, true, true, "", []byte{}, true, uint8(3))
	var d BatchDecoder
	f.Fuzz(func(t *testing.T, ts0, dts int64, key, value []byte, nilKey, nilValue bool, hk string, hv []byte, nilHV bool, n uint8) {
		if nilKey {
			key = nil
		} else if key == nil {
			key = []byte{}
		}
		if nilValue {
			value = nil
		} else if value == nil {
			value = []byte{}
		}
		if nilHV {
			hv = nil
		} else if hv == nil {
			hv = []byte{}
		}
		headers := []Header{{Key: hk, Value: hv}}
		var recs []testRecord
		for i := 0; i < int(n%8)+1; i++ {
			recs = append(recs, testRecord{ts: ts0 + int64(i)*dts, key: key, value: value, headers: headers[:i%2]})
		}
		got := buildBatch(t, recs, BatchOptions{})
		if want := kmsgBatch(recs, noProducer); !bytes.Equal(got, want) {
			t.Fatalf("batch differs from kmsg")
		}
		_, back, err := decodeAll(t, &d, got)
		if err != nil {
			t.Fatal(err)
		}
		sameRecords(t, back, recs)
	})
}

// FuzzProduceRequest compares request encoding with kmsg for arbitrary
// names, ids and batch bytes.
func FuzzProduceRequest(f *testing.F) {
	f.Add(int16(3), "client", "txn", true, "topic", int32(0), []byte("batch"), false, 100)
	f.Add(int16(12), "", "", false, "", int32(-1), []byte{}, true, 0)
	f.Fuzz(func(t *testing.T, v int16, client, txn string, hasTxn bool, topic string, part int32, batch []byte, nilBatch bool, copyBelow int) {
		if v < MinProduceVersion || v > MaxProduceVersion {
			v = MinProduceVersion + (v&0x7fff)%(MaxProduceVersion-MinProduceVersion+1)
		}
		if nilBatch {
			batch = nil
		} else if batch == nil {
			batch = []byte{}
		}
		req := ProduceRequest{Version: v, ClientID: client, Acks: 1, TimeoutMillis: 1000, Topics: []ProduceTopic{
			{Name: topic, Partitions: []ProducePartition{{Partition: part, Records: batch}, {Partition: part + 1, Records: batch}}},
		}}
		if hasTxn {
			req.TransactionalID = &txn
		}
		got, err := req.AppendTo(nil)
		if err != nil {
			t.Fatal(err)
		}
		PatchCorrelationID(got, 5)
		if want := kmsgFrame(&req, 5); !bytes.Equal(got, want) {
			t.Fatalf("v%d: frame differs from kmsg", v)
		}
		_, segs, err := req.AppendSegments(nil, nil, copyBelow)
		if err != nil {
			t.Fatal(err)
		}
		PatchCorrelationID(segs[0], 5)
		if !bytes.Equal(bytes.Join(segs, nil), got) {
			t.Fatalf("v%d copyBelow %d: segments differ", v, copyBelow)
		}
	})
}
