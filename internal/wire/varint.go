package wire

import "math/bits"

// Kafka's variable-length integers follow protobuf: 7 bits per byte, low
// group first, high bit set on every byte but the last. Signed varints
// (record fields, KIP-98) are zigzag-encoded first so small negative numbers
// such as the -1 of a null key stay one byte; unsigned varints (compact
// lengths and tagged fields of flexible versions, KIP-482) are not.

const (
	// MaxVarintLen is the longest encoding of a 32-bit varint.
	MaxVarintLen = 5
	// MaxVarlongLen is the longest encoding of a 64-bit varint.
	MaxVarlongLen = 10
)

// zigzag32 maps signed to unsigned so that small magnitudes stay small.
func zigzag32(v int32) uint32 { return uint32(v<<1) ^ uint32(v>>31) }

// zigzag64 is zigzag32 for 64-bit values.
func zigzag64(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }

// SizeUvarint returns the number of bytes AppendUvarint writes for v.
func SizeUvarint(v uint32) int {
	// 9*bits/64 + 1 equals ceil(bits/7) for 1..64 bits without a division.
	return int((9*uint(bits.Len32(v|1)) + 64) / 64)
}

// SizeUvarlong returns the number of bytes AppendUvarlong writes for v.
func SizeUvarlong(v uint64) int {
	return int((9*uint(bits.Len64(v|1)) + 64) / 64)
}

// SizeVarint returns the number of bytes AppendVarint writes for v, as
// Kafka's ByteUtils.sizeOfVarint.
func SizeVarint(v int32) int { return SizeUvarint(zigzag32(v)) }

// SizeVarlong returns the number of bytes AppendVarlong writes for v, as
// Kafka's ByteUtils.sizeOfVarlong.
func SizeVarlong(v int64) int { return SizeUvarlong(zigzag64(v)) }

// AppendUvarint appends v as an unsigned varint (ByteUtils.writeUnsignedVarint).
func AppendUvarint(dst []byte, v uint32) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}

// AppendUvarlong appends v as an unsigned 64-bit varint.
func AppendUvarlong(dst []byte, v uint64) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}

// AppendVarint appends v zigzag-encoded (ByteUtils.writeVarint).
func AppendVarint(dst []byte, v int32) []byte { return AppendUvarint(dst, zigzag32(v)) }

// AppendVarlong appends v zigzag-encoded (ByteUtils.writeVarlong).
func AppendVarlong(dst []byte, v int64) []byte { return AppendUvarlong(dst, zigzag64(v)) }

// ReadUvarint decodes an unsigned 32-bit varint from the start of b. It
// returns the value and the bytes consumed; n is 0 if b is truncated and -1
// if the encoding is longer than 5 bytes or overflows 32 bits.
func ReadUvarint(b []byte) (v uint32, n int) {
	var shift uint
	for i := 0; i < len(b); i++ {
		c := b[i]
		if i == MaxVarintLen-1 && c > 0x0f {
			return 0, -1
		}
		v |= uint32(c&0x7f) << shift
		if c < 0x80 {
			return v, i + 1
		}
		shift += 7
	}
	return 0, 0
}

// ReadUvarlong decodes an unsigned 64-bit varint from the start of b, with
// ReadUvarint's conventions for n.
func ReadUvarlong(b []byte) (v uint64, n int) {
	var shift uint
	for i := 0; i < len(b); i++ {
		c := b[i]
		if i == MaxVarlongLen-1 && c > 0x01 {
			return 0, -1
		}
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v, i + 1
		}
		shift += 7
	}
	return 0, 0
}

// ReadVarint decodes a zigzag varint (ByteUtils.readVarint) with
// ReadUvarint's conventions for n.
func ReadVarint(b []byte) (v int32, n int) {
	u, n := ReadUvarint(b)
	return int32(u>>1) ^ -int32(u&1), n
}

// ReadVarlong decodes a zigzag varlong (ByteUtils.readVarlong) with
// ReadUvarint's conventions for n.
func ReadVarlong(b []byte) (v int64, n int) {
	u, n := ReadUvarlong(b)
	return int64(u>>1) ^ -int64(u&1), n
}
