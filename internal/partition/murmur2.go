package partition

import "encoding/binary"

// murmur2Seed and murmur2M are the seed and mixing constant of Java's
// Utils.murmur2; changing either would move every keyed record to another
// partition than the one a Java producer picks.
const (
	murmur2Seed uint32 = 0x9747b28c
	murmur2M    uint32 = 0x5bd1e995
	murmur2R           = 24
)

// Murmur2 returns the 32-bit murmur2 hash of key exactly as Java's
// org.apache.kafka.common.utils.Utils.murmur2 computes it. Java does the
// arithmetic on signed ints with wrap-around and unsigned shifts (>>>); the
// same bits come out of uint32 arithmetic, so the result is only reinterpreted
// as int32 at the end. A nil key hashes like an empty one.
func Murmur2(key []byte) int32 {
	length := len(key)
	// Java's int length: keys are far below 2 GiB, truncation matches Java.
	h := murmur2Seed ^ uint32(length)

	tail := length &^ 3
	for i := 0; i < tail; i += 4 {
		k := binary.LittleEndian.Uint32(key[i : i+4])
		k *= murmur2M
		k ^= k >> murmur2R
		k *= murmur2M
		h *= murmur2M
		h ^= k
	}

	// The remaining 1..3 bytes, the fall-through switch of the Java code.
	switch length & 3 {
	case 3:
		h ^= uint32(key[tail+2]) << 16
		h ^= uint32(key[tail+1]) << 8
		h ^= uint32(key[tail])
		h *= murmur2M
	case 2:
		h ^= uint32(key[tail+1]) << 8
		h ^= uint32(key[tail])
		h *= murmur2M
	case 1:
		h ^= uint32(key[tail])
		h *= murmur2M
	}

	h ^= h >> 13
	h *= murmur2M
	h ^= h >> 15
	return int32(h)
}

// ToPositive maps n to a non-negative int32 by clearing the sign bit, as
// Java's Utils.toPositive does. It is not the absolute value: -1 maps to
// 0x7fffffff. The default partitioner depends on this exact mapping.
func ToPositive(n int32) int32 {
	return n & 0x7fffffff
}

// KeyPartition returns the partition Java's producer assigns to a record with
// the serialized key: toPositive(murmur2(key)) % numPartitions, counted over
// ALL partitions of the topic whether or not their leader is known, so a key
// keeps its partition while a broker is down. It returns UnknownPartition when
// numPartitions is not positive.
//
// Java distinguishes a null key (sticky partitioning) from an empty one
// (hashed here); callers must keep that distinction.
func KeyPartition(key []byte, numPartitions int32) int32 {
	if numPartitions <= 0 {
		return UnknownPartition
	}
	return ToPositive(Murmur2(key)) % numPartitions
}
