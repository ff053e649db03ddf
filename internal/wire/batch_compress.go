package wire

import (
	"errors"
	"fmt"
)

// CompressFunc appends the compressed form of src to dst and returns the
// extended slice, reusing dst's capacity when it can. The compression
// package supplies one per codec.
type CompressFunc func(dst, src []byte) ([]byte, error)

var errCompressContract = errors.New("kprod: compressor did not append to the buffer it was given")

// FinishCompressed seals the batch with its records section compressed: it
// writes the header and compress's output into dst[:0] (a second recycled
// buffer, so the uncompressed one can be reused at once) and sets the codec
// bits. Only the records section is compressed; the header stays plain, as
// DefaultRecordBatch requires. Kafka keeps a compressed batch even when it
// is larger than the plain one, and so does this.
func (b *BatchBuilder) FinishCompressed(dst []byte, codec Codec, compress CompressFunc, opts BatchOptions) ([]byte, error) {
	if codec < CodecGzip || codec > CodecZstd {
		return nil, fmt.Errorf("kprod: cannot finish a batch with compression codec %d", codec)
	}
	if compress == nil {
		return nil, errors.New("kprod: no compressor given for a compressed batch")
	}
	if len(b.buf) < BatchHeaderSize {
		b.Reset(b.buf)
	}
	if cap(dst) < BatchHeaderSize {
		dst = make([]byte, 0, BatchHeaderSize+len(b.buf))
	}
	out, err := compress(dst[:BatchHeaderSize], b.buf[BatchHeaderSize:])
	if err != nil {
		return nil, fmt.Errorf("kprod: compressing record batch: %w", err)
	}
	if len(out) < BatchHeaderSize || len(out)-batchLengthOverhead > 1<<31-1 {
		return nil, errCompressContract
	}
	b.writeHeader(out, codec, opts)
	return out, nil
}
