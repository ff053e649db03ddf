package wire

import "slices"

// Header is one record header (KIP-82). Key is never null on the wire; a nil
// Value is written as length -1 and read back as nil.
type Header struct {
	Key   string
	Value []byte
}

// A record inside a v2 batch (DefaultRecord.java) is:
//
//	length         varint  bytes that follow
//	attributes     int8    unused, always 0
//	timestampDelta varlong from the batch's baseTimestamp
//	offsetDelta    varint  from the batch's baseOffset
//	keyLength      varint  -1 for a null key
//	key            bytes
//	valueLength    varint  -1 for a null value (a tombstone)
//	value          bytes
//	headerCount    varint
//	headers        keyLength varint, key, valueLength varint, value

// nullableSize is the encoded size of a varint-length-prefixed byte slice,
// with nil written as length -1.
func nullableSize(b []byte) int {
	if b == nil {
		return 1
	}
	return SizeVarint(int32(len(b))) + len(b)
}

// recordBodySize is the size of everything after a record's length prefix.
func recordBodySize(offsetDelta int32, timestampDelta int64, key, value []byte, headers []Header) int {
	n := 1 + SizeVarlong(timestampDelta) + SizeVarint(offsetDelta) +
		nullableSize(key) + nullableSize(value) + SizeVarint(int32(len(headers)))
	if len(headers) > 0 {
		n += headersSize(headers)
	}
	return n
}

// headersSize is the encoded size of headers after their count, apart so
// that the header-less common case runs no loop.
func headersSize(headers []Header) int {
	n := 0
	for i := range headers {
		h := &headers[i]
		n += SizeVarint(int32(len(h.Key))) + len(h.Key) + nullableSize(h.Value)
	}
	return n
}

// RecordSize returns the exact number of bytes AppendRecord writes for these
// arguments, length prefix included, so a caller can check batch.size and
// buffer.memory before it appends. Callers keep every length within int32
// (they bound records by max.request.size first).
func RecordSize(offsetDelta int32, timestampDelta int64, key, value []byte, headers []Header) int {
	body := recordBodySize(offsetDelta, timestampDelta, key, value, headers)
	return SizeVarint(int32(body)) + body
}

// AppendRecord appends one v2 record to dst and returns the extended slice.
// A nil key or value is written as length -1 (a nil value is a tombstone);
// an empty non-nil one as length 0. It allocates only if dst lacks capacity.
func AppendRecord(dst []byte, offsetDelta int32, timestampDelta int64, key, value []byte, headers []Header) []byte {
	body := recordBodySize(offsetDelta, timestampDelta, key, value, headers)
	return appendRecordBody(dst, body, offsetDelta, timestampDelta, key, value, headers)
}

// appendRecordBody is AppendRecord with the body size already known. After
// one capacity check every field is an append that cannot reallocate;
// small varints, the common case, take a one- or two-byte fast path.
func appendRecordBody(dst []byte, body int, offsetDelta int32, timestampDelta int64, key, value []byte, headers []Header) []byte {
	total := SizeVarint(int32(body)) + body
	if cap(dst)-len(dst) < total {
		dst = slices.Grow(dst, total)
	}
	dst = appendUvarintFast(dst, uint64(zigzag32(int32(body))))
	dst = append(dst, 0) // attributes: no record-level attribute is defined
	dst = appendUvarintFast(dst, zigzag64(timestampDelta))
	dst = appendUvarintFast(dst, uint64(zigzag32(offsetDelta)))
	dst = appendNullable(dst, key)
	dst = appendNullable(dst, value)
	dst = appendUvarintFast(dst, uint64(zigzag32(int32(len(headers)))))
	for j := range headers {
		h := &headers[j]
		dst = appendUvarintFast(dst, uint64(zigzag32(int32(len(h.Key)))))
		dst = append(dst, h.Key...)
		dst = appendNullable(dst, h.Value)
	}
	return dst
}

// appendUvarintFast is AppendUvarlong with the one- and two-byte cases
// inlined.
func appendUvarintFast(dst []byte, v uint64) []byte {
	if v < 1<<7 {
		return append(dst, byte(v))
	}
	if v < 1<<14 {
		return append(dst, byte(v)|0x80, byte(v>>7))
	}
	return AppendUvarlong(dst, v)
}

// appendNullable appends a varint-length-prefixed slice, nil as -1.
func appendNullable(dst, v []byte) []byte {
	if v == nil {
		return append(dst, 1) // zigzag(-1)
	}
	dst = appendUvarintFast(dst, uint64(zigzag32(int32(len(v)))))
	return append(dst, v...)
}
