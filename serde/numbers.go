package serde

import (
	"encoding/binary"
	"math"
)

// Int16 returns the serializer of Java's ShortSerializer: two bytes, big-endian,
// two's complement.
func Int16() Serializer[int16] { return int16Serializer{} }

type int16Serializer struct{}

func (int16Serializer) Serialize(_ string, v int16) ([]byte, error) {
	return binary.BigEndian.AppendUint16(make([]byte, 0, 2), uint16(v)), nil
}

func (int16Serializer) AppendSerialize(dst []byte, _ string, v int16) ([]byte, error) {
	return binary.BigEndian.AppendUint16(dst, uint16(v)), nil
}

// Int32 returns the serializer of Java's IntegerSerializer: four bytes, big-endian,
// two's complement.
func Int32() Serializer[int32] { return int32Serializer{} }

type int32Serializer struct{}

func (int32Serializer) Serialize(_ string, v int32) ([]byte, error) {
	return binary.BigEndian.AppendUint32(make([]byte, 0, 4), uint32(v)), nil
}

func (int32Serializer) AppendSerialize(dst []byte, _ string, v int32) ([]byte, error) {
	return binary.BigEndian.AppendUint32(dst, uint32(v)), nil
}

// Int64 returns the serializer of Java's LongSerializer: eight bytes, big-endian,
// two's complement.
func Int64() Serializer[int64] { return int64Serializer{} }

type int64Serializer struct{}

func (int64Serializer) Serialize(_ string, v int64) ([]byte, error) {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), uint64(v)), nil
}

func (int64Serializer) AppendSerialize(dst []byte, _ string, v int64) ([]byte, error) {
	return binary.BigEndian.AppendUint64(dst, uint64(v)), nil
}

// Float32 returns the serializer of Java's FloatSerializer: the IEEE 754 binary32
// bits, big-endian. Java takes them with Float.floatToRawIntBits, so a NaN keeps its
// sign and payload, and so does this serializer.
func Float32() Serializer[float32] { return float32Serializer{} }

type float32Serializer struct{}

func (float32Serializer) Serialize(_ string, v float32) ([]byte, error) {
	return binary.BigEndian.AppendUint32(make([]byte, 0, 4), math.Float32bits(v)), nil
}

func (float32Serializer) AppendSerialize(dst []byte, _ string, v float32) ([]byte, error) {
	return binary.BigEndian.AppendUint32(dst, math.Float32bits(v)), nil
}

// Float64 returns the serializer of Java's DoubleSerializer: the IEEE 754 binary64
// bits, big-endian. Java takes them with Double.doubleToLongBits, which collapses
// every NaN to the canonical 0x7ff8000000000000, so this serializer does too (Go's
// math.NaN() has another payload, 0x7ff8000000000001). Unlike Float32, where Java
// keeps a NaN's raw bits.
func Float64() Serializer[float64] { return float64Serializer{} }

type float64Serializer struct{}

// canonicalNaN64 is the bit pattern Double.doubleToLongBits gives every NaN.
const canonicalNaN64 = 0x7ff8000000000000

func float64Bits(v float64) uint64 {
	if v != v {
		return canonicalNaN64
	}
	return math.Float64bits(v)
}

func (float64Serializer) Serialize(_ string, v float64) ([]byte, error) {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), float64Bits(v)), nil
}

func (float64Serializer) AppendSerialize(dst []byte, _ string, v float64) ([]byte, error) {
	return binary.BigEndian.AppendUint64(dst, float64Bits(v)), nil
}

// Bool returns the serializer of Java's BooleanSerializer: one byte, 0x01 for true
// and 0x00 for false.
func Bool() Serializer[bool] { return boolSerializer{} }

type boolSerializer struct{}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

func (boolSerializer) Serialize(_ string, v bool) ([]byte, error) {
	return []byte{boolByte(v)}, nil
}

func (boolSerializer) AppendSerialize(dst []byte, _ string, v bool) ([]byte, error) {
	return append(dst, boolByte(v)), nil
}
