// Package compress compresses and decompresses the records section of a
// Kafka RecordBatch v2 with the semantics of the Java client's codecs
// (org.apache.kafka.common.compress) and the levels of KIP-390, on fast
// pure-Go libraries: klauspost/compress for gzip, snappy and zstd; for lz4,
// our own fast block compressor (lz4fast.go; pierrec/lz4 for the HC levels
// and decoding) inside a frame written the way Kafka writes it.
//
// Compressors are built once per (codec, level), keep their encoders in
// free lists and append into caller-recycled buffers, so compressing a
// batch allocates nothing in steady state; they are safe for concurrent
// use. Decompression is for tests, benchmark sinks and verification, and
// bounds the decompressed size so hostile input cannot allocate without
// limit.
package compress

import "fmt"

// Codec is a Kafka compression codec. Its value is the codec's id in bits
// 0-2 of a RecordBatch's attributes (DefaultRecordBatch.COMPRESSION_CODEC_MASK)
// and in CompressionType.id.
type Codec int8

// The codecs, with the ids Kafka puts on the wire.
const (
	// None leaves the records section as it is.
	None Codec = 0
	// Gzip is RFC 1952 gzip (java.util.zip, compression.type "gzip").
	Gzip Codec = 1
	// Snappy is Google snappy (snappy-java, compression.type "snappy").
	Snappy Codec = 2
	// LZ4 is the LZ4 frame format as Kafka writes it (compression.type "lz4").
	LZ4 Codec = 3
	// Zstd is Zstandard (zstd-jni, compression.type "zstd"; KIP-110, Kafka 2.1+).
	Zstd Codec = 4
)

// AttributeMask selects the codec bits of a RecordBatch's attributes.
const AttributeMask = 0x07

var codecNames = [...]string{None: "none", Gzip: "gzip", Snappy: "snappy", LZ4: "lz4", Zstd: "zstd"}

// String returns the codec's compression.type name, such as "lz4".
func (c Codec) String() string {
	if c.Valid() {
		return codecNames[c]
	}
	return fmt.Sprintf("codec(%d)", int8(c))
}

// Valid reports whether c is one of the five codecs Kafka defines.
func (c Codec) Valid() bool { return c >= None && c <= Zstd }

// ParseCodec maps a compression.type value to its codec. Like Java's
// ConfigDef.ValidString, which checks the producer's compression.type, the
// match is exact and case-sensitive: "none", "gzip", "snappy", "lz4", "zstd".
func ParseCodec(name string) (Codec, error) {
	for c, n := range codecNames {
		if n == name {
			return Codec(c), nil
		}
	}
	return None, fmt.Errorf("kprod: invalid compression.type %q: want one of none, gzip, snappy, lz4, zstd", name)
}
