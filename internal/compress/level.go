package compress

import (
	"errors"
	"fmt"
)

// Compression levels as Java 3.8+ defines them (KIP-390): the bounds and
// defaults of CompressionType.GZIP, LZ4 and ZSTD, which check the producer
// properties compression.gzip.level, compression.lz4.level and
// compression.zstd.level. Snappy and none have no level.
const (
	// GzipDefaultLevel is java.util.zip.Deflater.DEFAULT_COMPRESSION,
	// which zlib runs as level 6.
	GzipDefaultLevel = -1
	// GzipMinLevel is Deflater.BEST_SPEED.
	GzipMinLevel = 1
	// GzipMaxLevel is Deflater.BEST_COMPRESSION.
	GzipMaxLevel = 9

	// LZ4DefaultLevel is lz4-java's LZ4Constants.DEFAULT_COMPRESSION_LEVEL.
	// At this level, and only at it, Kafka uses the fast compressor.
	LZ4DefaultLevel = 9
	// LZ4MinLevel is the lowest level Kafka accepts for lz4.
	LZ4MinLevel = 1
	// LZ4MaxLevel is lz4-java's LZ4Constants.MAX_COMPRESSION_LEVEL.
	LZ4MaxLevel = 17

	// ZstdDefaultLevel is ZSTD_CLEVEL_DEFAULT.
	ZstdDefaultLevel = 3
	// ZstdMinLevel is ZSTD_minCLevel(), -(1<<17), which Java reads from
	// Zstd.minCompressionLevel().
	ZstdMinLevel = -131072
	// ZstdMaxLevel is ZSTD_MAX_CLEVEL.
	ZstdMaxLevel = 22
)

// ErrInvalidLevel is wrapped by every error ValidateLevel returns.
var ErrInvalidLevel = errors.New("kprod: invalid compression level")

// LevelProperty returns the producer property that sets c's level, or ""
// for codecs without levels (none, snappy).
func LevelProperty(c Codec) string {
	switch c {
	case Gzip:
		return "compression.gzip.level"
	case LZ4:
		return "compression.lz4.level"
	case Zstd:
		return "compression.zstd.level"
	}
	return ""
}

// DefaultLevel returns Java's default level for c; it is 0 for codecs
// without levels.
func DefaultLevel(c Codec) int {
	switch c {
	case Gzip:
		return GzipDefaultLevel
	case LZ4:
		return LZ4DefaultLevel
	case Zstd:
		return ZstdDefaultLevel
	}
	return 0
}

// ValidateLevel reports whether level is one Java accepts for c, with an
// error naming the property when it is not. Levels of codecs without levels
// are ignored, as Java ignores compression.gzip.level when lz4 is chosen.
// Note that 0 is out of range for gzip and lz4 (Java rejects it), while for
// zstd it is valid and means zstd's default; a config layer whose zero value
// means "unset" must substitute DefaultLevel first.
func ValidateLevel(c Codec, level int) error {
	if !c.Valid() {
		return fmt.Errorf("kprod: unknown compression codec %d", int8(c))
	}
	var lo, hi int
	switch c {
	case Gzip:
		if level == GzipDefaultLevel {
			return nil
		}
		lo, hi = GzipMinLevel, GzipMaxLevel
	case LZ4:
		lo, hi = LZ4MinLevel, LZ4MaxLevel
	case Zstd:
		lo, hi = ZstdMinLevel, ZstdMaxLevel
	default:
		return nil
	}
	if level < lo || level > hi {
		extra := ""
		if c == Gzip {
			extra = " or -1"
		}
		return fmt.Errorf("%w: %s=%d is outside [%d, %d]%s", ErrInvalidLevel, LevelProperty(c), level, lo, hi, extra)
	}
	return nil
}
