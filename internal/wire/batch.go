package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// A v2 record batch (DefaultRecordBatch.java, KIP-98) starts with a fixed
// 61-byte header; the offsets below index into it.
const (
	offBaseOffset       = 0  // int64, 0 from a producer: the broker assigns offsets
	offBatchLength      = 8  // int32, bytes after this field
	offLeaderEpoch      = 12 // int32, partitionLeaderEpoch, -1 from a producer
	offMagic            = 16 // int8, 2
	offCRC              = 17 // uint32, CRC32C of attributes..end
	offAttributes       = 21 // int16
	offLastOffsetDelta  = 23 // int32
	offBaseTimestamp    = 27 // int64
	offMaxTimestamp     = 35 // int64
	offProducerID       = 43 // int64
	offProducerEpoch    = 51 // int16
	offBaseSequence     = 53 // int32
	offRecordCount      = 57 // int32
	batchLengthOverhead = offLeaderEpoch
)

// BatchHeaderSize is the size of a v2 record batch header: the bytes before
// the first record.
const BatchHeaderSize = 61

// MagicV2 is the magic byte of the v2 record batch format.
const MagicV2 = 2

// Batch attribute bits (DefaultRecordBatch.java).
const (
	attrCodecMask     = 0x07 // bits 0-2: compression codec
	attrLogAppendTime = 0x08 // bit 3: timestampType, 0 = CreateTime
	attrTransactional = 0x10 // bit 4: isTransactional (KIP-98)
	attrControl       = 0x20 // bit 5: isControl (commit/abort markers)
)

// Codec is the compression codec stored in bits 0-2 of a batch's attributes.
type Codec int8

// Codecs defined by Kafka; zstd needs Produce v7+ (KIP-110).
const (
	CodecNone   Codec = 0
	CodecGzip   Codec = 1
	CodecSnappy Codec = 2
	CodecLZ4    Codec = 3
	CodecZstd   Codec = 4
)

// castagnoli is the CRC32C table; hash/crc32 uses SSE4.2/ARM CRC
// instructions for it, the fastest checksum available in the standard library.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var (
	errShortBatch  = errors.New("record batch shorter than its 61-byte header")
	errBatchLength = errors.New("record batch length field disagrees with its size")
	errBatchMagic  = errors.New("record batch magic is not 2")
)

// BatchOptions are the attributes Finish writes that records do not
// determine.
type BatchOptions struct {
	// Transactional sets the isTransactional attribute (KIP-98).
	Transactional bool
	// Control sets the isControl attribute; producers never set it, tests do.
	Control bool
	// DeferCRC leaves the CRC zero because StampProducer will write the
	// producer fields and the CRC later; it spares a second pass over the
	// batch for idempotent producers.
	DeferCRC bool
}

// BatchBuilder encodes one RecordBatch v2 into a caller-recycled buffer at
// append time: it reserves the header, appends records contiguously and
// uncompressed, and patches the header on Finish. The zero value is ready
// to use; one goroutine at a time.
type BatchBuilder struct {
	buf           []byte
	count         int32
	baseTimestamp int64
	maxTimestamp  int64

	// The accumulator asks RecordSize and then calls Append with the same
	// header-less record; remembering the answer spares computing it twice.
	// A header-less record's size depends only on the timestamp and on the
	// key's and value's lengths (-1 for nil), so those are the cache key.
	sized     bool
	sizedTS   int64
	sizedKLen int
	sizedVLen int
	sizedBody int

	// With trackCRC, recordsCRC is the CRC32C of buf[BatchHeaderSize:crcTo], updated
	// every crcChunk appended bytes while they are in cache (see crc.go).
	trackCRC   bool
	recordsCRC uint32
	crcTo      int
}

// TrackCRC makes the builder checksum records as it appends them, for batches that
// will be sent uncompressed (a compressed batch's CRC covers the compressed bytes, so
// tracking would be wasted). It applies from the next Reset on.
func (b *BatchBuilder) TrackCRC(on bool) { b.trackCRC = on }

// sumRecords brings recordsCRC up to the end of the records.
func (b *BatchBuilder) sumRecords() {
	b.recordsCRC = crc32.Update(b.recordsCRC, castagnoli, b.buf[b.crcTo:])
	b.crcTo = len(b.buf)
}

// batchCRC returns the CRC32C of a finished batch: from the tracked records CRC when
// batch is this builder's own uncompressed batch and tracking covered at least one chunk
// (a small batch costs less to checksum whole than to combine), else over the whole batch.
func (b *BatchBuilder) batchCRC(batch []byte) uint32 {
	if !b.trackCRC || b.crcTo <= BatchHeaderSize || len(batch) != len(b.buf) || &batch[0] != &b.buf[0] {
		return crc32.Checksum(batch[offAttributes:], castagnoli)
	}
	if b.crcTo < len(b.buf) {
		b.sumRecords()
	}
	return headerCRC(batch, b.recordsCRC)
}

// nullableLen is len(b), or -1 for nil.
func nullableLen(b []byte) int {
	if b == nil {
		return -1
	}
	return len(b)
}

// Reset starts a new batch in buf[:0], reusing its capacity. The previous
// batch's bytes must no longer be in use if they share buf's array.
func (b *BatchBuilder) Reset(buf []byte) {
	if cap(buf) < BatchHeaderSize {
		buf = make([]byte, 0, BatchHeaderSize)
	}
	b.buf = buf[:BatchHeaderSize]
	clear(b.buf)
	b.count = 0
	b.baseTimestamp = 0
	b.maxTimestamp = 0
	b.sized = false
	b.recordsCRC, b.crcTo = 0, BatchHeaderSize
}

// Move copies the batch so far into buf[:0] and continues it there, for a caller that
// grows its buffers itself: Append would otherwise grow the buffer with append, outside
// the caller's accounting. The old buffer is no longer used and may be reused.
func (b *BatchBuilder) Move(buf []byte) {
	if len(b.buf) < BatchHeaderSize {
		b.Reset(buf)
		return
	}
	b.buf = append(buf[:0], b.buf...)
}

// NumRecords returns the number of records appended since Reset.
func (b *BatchBuilder) NumRecords() int { return int(b.count) }

// Len returns the encoded size of the batch so far, header included; it is
// the size Finish returns for an uncompressed batch.
func (b *BatchBuilder) Len() int {
	if len(b.buf) < BatchHeaderSize {
		return BatchHeaderSize
	}
	return len(b.buf)
}

// BaseTimestamp returns the first record's timestamp, the batch's
// baseTimestamp, or 0 if the batch is empty.
func (b *BatchBuilder) BaseTimestamp() int64 { return b.baseTimestamp }

// MaxTimestamp returns the largest record timestamp, or 0 if empty.
func (b *BatchBuilder) MaxTimestamp() int64 { return b.maxTimestamp }

// RecordSize returns the bytes Append would add for this record, so the
// accumulator can check batch.size and its byte budget before appending.
func (b *BatchBuilder) RecordSize(timestamp int64, key, value []byte, headers []Header) int {
	delta := int64(0)
	if b.count > 0 {
		delta = timestamp - b.baseTimestamp
	}
	// recordBodySize, spelled out so that the header-less case needs no call.
	body := 1 + SizeVarlong(delta) + SizeVarint(b.count) + nullableSize(key) + nullableSize(value) +
		SizeVarint(int32(len(headers)))
	if len(headers) > 0 {
		body += headersSize(headers)
	} else {
		b.sized = true
		b.sizedTS = timestamp
		b.sizedKLen, b.sizedVLen = nullableLen(key), nullableLen(value)
		b.sizedBody = body
	}
	return SizeVarint(int32(body)) + body
}

// Append encodes one record at the end of the batch. The first record's
// timestamp becomes baseTimestamp; later ones are stored as deltas from it,
// which may be negative.
func (b *BatchBuilder) Append(timestamp int64, key, value []byte, headers []Header) {
	if len(b.buf) < BatchHeaderSize {
		b.Reset(b.buf)
	}
	if b.count == 0 {
		b.baseTimestamp = timestamp
		b.maxTimestamp = timestamp
	} else if timestamp > b.maxTimestamp {
		b.maxTimestamp = timestamp
	}
	delta := timestamp - b.baseTimestamp
	var body int
	if b.sized && len(headers) == 0 && timestamp == b.sizedTS &&
		nullableLen(key) == b.sizedKLen && nullableLen(value) == b.sizedVLen {
		body = b.sizedBody
	} else {
		body = recordBodySize(b.count, delta, key, value, headers)
	}
	b.sized = false
	b.buf = appendRecordBody(b.buf, body, b.count, delta, key, value, headers)
	b.count++
	if b.trackCRC && len(b.buf)-b.crcTo >= crcChunk {
		b.sumRecords()
	}
}

// Records returns the encoded records section, valid until the next Reset.
func (b *BatchBuilder) Records() []byte {
	if len(b.buf) < BatchHeaderSize {
		return nil
	}
	return b.buf[BatchHeaderSize:]
}

// Finish patches the header of the uncompressed batch and returns it; the
// bytes live in the buffer given to Reset (or its grown copy) and stay valid
// until the next Reset. Producer id, epoch and base sequence are -1; use
// StampProducer to set them.
func (b *BatchBuilder) Finish(opts BatchOptions) []byte {
	if len(b.buf) < BatchHeaderSize {
		b.Reset(b.buf)
	}
	b.writeHeader(b.buf, CodecNone, opts)
	return b.buf
}

// writeHeader fills the 61-byte header of batch, whose records section is
// already in place.
func (b *BatchBuilder) writeHeader(batch []byte, codec Codec, opts BatchOptions) {
	h := batch[:BatchHeaderSize]
	be := binary.BigEndian
	be.PutUint64(h[offBaseOffset:], 0)
	be.PutUint32(h[offBatchLength:], uint32(len(batch)-batchLengthOverhead))
	be.PutUint32(h[offLeaderEpoch:], 0xffffffff)
	h[offMagic] = MagicV2
	attrs := uint16(codec) & attrCodecMask // CreateTime: bit 3 stays 0
	if opts.Transactional {
		attrs |= attrTransactional
	}
	if opts.Control {
		attrs |= attrControl
	}
	be.PutUint16(h[offAttributes:], attrs)
	be.PutUint32(h[offLastOffsetDelta:], uint32(b.count-1))
	base, maxTS := b.baseTimestamp, b.maxTimestamp
	if b.count == 0 {
		base, maxTS = -1, -1 // RecordBatch.NO_TIMESTAMP
	}
	be.PutUint64(h[offBaseTimestamp:], uint64(base))
	be.PutUint64(h[offMaxTimestamp:], uint64(maxTS))
	be.PutUint64(h[offProducerID:], 0xffffffffffffffff)
	be.PutUint16(h[offProducerEpoch:], 0xffff)
	be.PutUint32(h[offBaseSequence:], 0xffffffff)
	be.PutUint32(h[offRecordCount:], uint32(b.count))
	if opts.DeferCRC {
		be.PutUint32(h[offCRC:], 0)
		return
	}
	be.PutUint32(h[offCRC:], b.batchCRC(batch))
}

// checkSealed validates the framing of a finished batch.
func checkSealed(batch []byte) error {
	if len(batch) < BatchHeaderSize {
		return errShortBatch
	}
	if int64(int32(binary.BigEndian.Uint32(batch[offBatchLength:])))+batchLengthOverhead != int64(len(batch)) {
		return errBatchLength
	}
	if batch[offMagic] != MagicV2 {
		return errBatchMagic
	}
	return nil
}

// StampProducer writes the producer id, epoch and base sequence into a
// finished batch and recomputes its CRC, without re-encoding records. The
// sender calls it when it first drains a batch, which is when the sequence
// is known (KIP-98; sequences wrap at math.MaxInt32 to 0 per the broker).
func StampProducer(batch []byte, producerID int64, producerEpoch int16, baseSequence int32) error {
	var untracked BatchBuilder // checksums batch whole
	return untracked.StampProducer(batch, producerID, producerEpoch, baseSequence)
}

// StampProducer is the package's StampProducer for a batch this builder finished
// uncompressed: it uses the records' checksum taken while appending when it has one.
func (b *BatchBuilder) StampProducer(batch []byte, producerID int64, producerEpoch int16, baseSequence int32) error {
	if err := checkSealed(batch); err != nil {
		return fmt.Errorf("kprod: %w", err)
	}
	be := binary.BigEndian
	be.PutUint64(batch[offProducerID:], uint64(producerID))
	be.PutUint16(batch[offProducerEpoch:], uint16(producerEpoch))
	be.PutUint32(batch[offBaseSequence:], uint32(baseSequence))
	be.PutUint32(batch[offCRC:], b.batchCRC(batch))
	return nil
}

// SetTransactional sets or clears the isTransactional attribute of a
// finished batch without touching its CRC; call StampProducer or WriteCRC
// afterwards.
func SetTransactional(batch []byte, transactional bool) error {
	if err := checkSealed(batch); err != nil {
		return fmt.Errorf("kprod: %w", err)
	}
	attrs := binary.BigEndian.Uint16(batch[offAttributes:])
	if transactional {
		attrs |= attrTransactional
	} else {
		attrs &^= attrTransactional
	}
	binary.BigEndian.PutUint16(batch[offAttributes:], attrs)
	return nil
}

// WriteCRC recomputes the CRC32C of a finished batch, for batches sealed
// with DeferCRC that will not be stamped.
func WriteCRC(batch []byte) error {
	if err := checkSealed(batch); err != nil {
		return fmt.Errorf("kprod: %w", err)
	}
	binary.BigEndian.PutUint32(batch[offCRC:], crc32.Checksum(batch[offAttributes:], castagnoli))
	return nil
}
