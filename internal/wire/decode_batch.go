package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// BatchHeader is the decoded 61-byte header of a v2 record batch.
type BatchHeader struct {
	BaseOffset int64
	// Length counts the bytes after the Length field itself.
	Length               int32
	PartitionLeaderEpoch int32
	Magic                int8
	CRC                  uint32
	Attributes           int16
	LastOffsetDelta      int32
	BaseTimestamp        int64
	MaxTimestamp         int64
	ProducerID           int64
	ProducerEpoch        int16
	BaseSequence         int32
	NumRecords           int32
}

// Codec returns the compression codec from the attributes.
func (h *BatchHeader) Codec() Codec { return Codec(h.Attributes & attrCodecMask) }

// LogAppendTime reports whether timestamps are the broker's append time.
func (h *BatchHeader) LogAppendTime() bool { return h.Attributes&attrLogAppendTime != 0 }

// Transactional reports the isTransactional attribute.
func (h *BatchHeader) Transactional() bool { return h.Attributes&attrTransactional != 0 }

// Control reports the isControl attribute.
func (h *BatchHeader) Control() bool { return h.Attributes&attrControl != 0 }

// ParseBatchHeader decodes the header at the start of b, checking only that
// 61 bytes are present and the magic is 2; Decode checks the rest.
func ParseBatchHeader(b []byte) (BatchHeader, error) {
	h, err := parseBatchHeader(b)
	if err != nil {
		return h, fmt.Errorf("kprod: %w", err)
	}
	return h, nil
}

// parseBatchHeader is ParseBatchHeader with an unprefixed error.
func parseBatchHeader(b []byte) (BatchHeader, error) {
	if len(b) < BatchHeaderSize {
		return BatchHeader{}, errShortBatch
	}
	be := binary.BigEndian
	h := BatchHeader{
		BaseOffset:           int64(be.Uint64(b[offBaseOffset:])),
		Length:               int32(be.Uint32(b[offBatchLength:])),
		PartitionLeaderEpoch: int32(be.Uint32(b[offLeaderEpoch:])),
		Magic:                int8(b[offMagic]),
		CRC:                  be.Uint32(b[offCRC:]),
		Attributes:           int16(be.Uint16(b[offAttributes:])),
		LastOffsetDelta:      int32(be.Uint32(b[offLastOffsetDelta:])),
		BaseTimestamp:        int64(be.Uint64(b[offBaseTimestamp:])),
		MaxTimestamp:         int64(be.Uint64(b[offMaxTimestamp:])),
		ProducerID:           int64(be.Uint64(b[offProducerID:])),
		ProducerEpoch:        int16(be.Uint16(b[offProducerEpoch:])),
		BaseSequence:         int32(be.Uint32(b[offBaseSequence:])),
		NumRecords:           int32(be.Uint32(b[offRecordCount:])),
	}
	if h.Magic != MagicV2 {
		return h, errBatchMagic
	}
	return h, nil
}

// Record is one decoded record. Key, Value and header values are views
// (nil when null, non-nil when empty) that stay valid only during the
// callback that received them.
type Record struct {
	Attributes     int8
	OffsetDelta    int32
	TimestampDelta int64
	// Offset and Timestamp add the deltas to the batch's bases.
	Offset    int64
	Timestamp int64
	Key       []byte
	Value     []byte
	Headers   []Header
}

// RecordBatch is one decoded batch: its header, its records and its raw
// bytes.
type RecordBatch struct {
	Header  BatchHeader
	Records []Record
	Raw     []byte
}

// DecompressFunc appends the decompressed form of src, compressed with
// codec, to dst and returns the result. It should bound its output, since a
// batch can claim any decompressed size.
type DecompressFunc func(codec Codec, dst, src []byte) ([]byte, error)

// BatchDecoder parses sequences of v2 record batches, for tests and for the
// benchmark sink's verify mode. It reuses its buffers across calls; one
// goroutine at a time.
type BatchDecoder struct {
	// Decompress is required for compressed batches.
	Decompress DecompressFunc
	// Strict also checks what every batch kprod produces satisfies:
	// baseOffset 0, partitionLeaderEpoch -1, CreateTime, offset deltas
	// 0..n-1 with lastOffsetDelta n-1, and maxTimestamp equal to the
	// largest record timestamp.
	Strict bool

	batch   RecordBatch
	headers []Header
	scratch []byte
}

// minRecordSize is the smallest record: length, attributes, timestamp and
// offset deltas, key and value lengths and header count, one byte each.
const minRecordSize = 7

var errRecordLength = errors.New("record length disagrees with its fields")

// Decode parses every batch in data, verifying length, magic, CRC32C and
// each record's framing, and calls fn (if non-nil) with each batch. The
// batch passed to fn is reused after fn returns.
func (d *BatchDecoder) Decode(data []byte, fn func(*RecordBatch) error) error {
	for i := 0; len(data) > 0; i++ {
		n, err := d.decodeOne(data)
		if err != nil {
			return fmt.Errorf("kprod: record batch %d: %w", i, err)
		}
		if fn != nil {
			if err := fn(&d.batch); err != nil {
				return err
			}
		}
		data = data[n:]
	}
	return nil
}

// decodeOne parses the batch at the start of data into d.batch and returns
// its size.
func (d *BatchDecoder) decodeOne(data []byte) (int, error) {
	h, err := parseBatchHeader(data)
	if err != nil {
		return 0, err
	}
	if h.Length < BatchHeaderSize-batchLengthOverhead || int64(h.Length) > int64(len(data)-batchLengthOverhead) {
		return 0, errBatchLength
	}
	size := int(h.Length) + batchLengthOverhead
	raw := data[:size:size]
	if got := crc32.Checksum(raw[offAttributes:], castagnoli); got != h.CRC {
		return 0, fmt.Errorf("CRC32C mismatch: header %#08x, computed %#08x", h.CRC, got)
	}
	section := raw[BatchHeaderSize:]
	if c := h.Codec(); c != CodecNone {
		if c > CodecZstd {
			return 0, fmt.Errorf("unknown compression codec %d", c)
		}
		if d.Decompress == nil {
			return 0, fmt.Errorf("batch compressed with codec %d but no decompressor given", c)
		}
		out, err := d.Decompress(c, d.scratch[:0], section)
		if err != nil {
			return 0, fmt.Errorf("decompressing: %w", err)
		}
		d.scratch = out
		section = out
	}
	d.batch.Header = h
	d.batch.Raw = raw
	if err := d.decodeRecords(section); err != nil {
		return 0, err
	}
	if d.Strict {
		if err := d.strictCheck(); err != nil {
			return 0, err
		}
	}
	return size, nil
}

// decodeRecords parses exactly NumRecords records filling section.
func (d *BatchDecoder) decodeRecords(section []byte) error {
	h := &d.batch.Header
	if h.NumRecords < 0 || int(h.NumRecords) > len(section)/minRecordSize {
		return fmt.Errorf("record count %d impossible in %d bytes", h.NumRecords, len(section))
	}
	d.batch.Records = reserve(d.batch.Records, int(h.NumRecords))
	d.headers = d.headers[:0]
	rd := reader{b: section}
	for i := int32(0); i < h.NumRecords; i++ {
		var rec *Record
		d.batch.Records, rec = next(d.batch.Records)
		if err := d.decodeRecord(&rd, rec); err != nil {
			return fmt.Errorf("record %d: %w", i, err)
		}
	}
	if rd.remaining() != 0 {
		return fmt.Errorf("%d bytes after the last record", rd.remaining())
	}
	return nil
}

// decodeRecord parses one record (DefaultRecord.java framing).
func (d *BatchDecoder) decodeRecord(rd *reader, rec *Record) error {
	length := rd.varint()
	if rd.err != nil {
		return rd.err
	}
	body := rd.span(int(length))
	if rd.err != nil {
		return rd.err
	}
	r := reader{b: body}
	rec.Attributes = r.int8()
	rec.TimestampDelta = r.varlong()
	rec.OffsetDelta = r.varint()
	rec.Key = r.nullableVarintBytes()
	rec.Value = r.nullableVarintBytes()
	nh := r.varint()
	if r.err == nil && (nh < 0 || int(nh) > r.remaining()/2) {
		r.fail(errBadLength)
	}
	start := len(d.headers)
	for j := int32(0); j < nh && r.err == nil; j++ {
		var hd *Header
		d.headers, hd = next(d.headers)
		kn := r.varint()
		if r.err == nil && kn < 0 {
			r.fail(errBadLength) // header keys are never null
		}
		hd.Key = string(r.span(int(kn)))
		hd.Value = r.nullableVarintBytes()
	}
	if r.err != nil {
		return r.err
	}
	if r.remaining() != 0 {
		return errRecordLength
	}
	rec.Headers = d.headers[start:len(d.headers):len(d.headers)]
	if nh == 0 {
		rec.Headers = nil
	}
	h := &d.batch.Header
	rec.Offset = h.BaseOffset + int64(rec.OffsetDelta)
	rec.Timestamp = h.BaseTimestamp + rec.TimestampDelta
	return nil
}

// nullableVarintBytes reads a varint-length-prefixed slice, -1 meaning nil.
func (r *reader) nullableVarintBytes() []byte {
	n := r.varint()
	if r.err != nil {
		return nil
	}
	if n == -1 {
		return nil
	}
	return r.span(int(n))
}

// strictCheck applies BatchDecoder.Strict's producer invariants.
func (d *BatchDecoder) strictCheck() error {
	h := &d.batch.Header
	switch {
	case h.BaseOffset != 0:
		return fmt.Errorf("producer batch has baseOffset %d, want 0", h.BaseOffset)
	case h.PartitionLeaderEpoch != -1:
		return fmt.Errorf("producer batch has partitionLeaderEpoch %d, want -1", h.PartitionLeaderEpoch)
	case h.LogAppendTime():
		return errors.New("producer batch uses LogAppendTime")
	case h.NumRecords > 0 && h.LastOffsetDelta != h.NumRecords-1:
		return fmt.Errorf("lastOffsetDelta %d with %d records", h.LastOffsetDelta, h.NumRecords)
	}
	maxTS := int64(-1)
	for i := range d.batch.Records {
		rec := &d.batch.Records[i]
		if rec.OffsetDelta != int32(i) {
			return fmt.Errorf("record %d has offset delta %d", i, rec.OffsetDelta)
		}
		if i == 0 || rec.Timestamp > maxTS {
			maxTS = rec.Timestamp
		}
	}
	if len(d.batch.Records) > 0 && maxTS != h.MaxTimestamp {
		return fmt.Errorf("maxTimestamp %d, largest record timestamp %d", h.MaxTimestamp, maxTS)
	}
	return nil
}
