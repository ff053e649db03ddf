package compress

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/klauspost/compress/zstd"
)

// Zstd level mapping. Java passes compression.zstd.level to zstd-jni
// (libzstd), whose levels run from -131072 to 22. klauspost's encoder has
// four strategies, and zstd.EncoderLevelFromZstd maps libzstd levels onto
// them as their author calibrated them: below 3 SpeedFastest (negative
// "fast" levels included), 3-5 SpeedDefault (libzstd's default 3), 6-9
// SpeedBetterCompression, 10 and up SpeedBestCompression. We use that
// mapping, so the default level is SpeedDefault, as Java's is libzstd 3.
// Level 0 first becomes 3: libzstd reads 0 as "the default level".
//
// Frame options, matched to what zstd-jni's ZstdOutputStream writes:
//   - no content checksum (libzstd's default; Kafka's batch CRC covers the
//     compressed bytes already);
//   - an empty input still yields a complete frame, as Java's stream
//     writes one on close;
//   - a 1 MiB window: larger than a batch of the default
//     max.request.size, so it costs no ratio in practice, while each
//     pooled encoder's history stays near 2 MiB rather than the 16 MiB an
//     8 MiB window would take for batches above 128 KiB. franz-go's 64 KiB
//     window was 3% faster on 1 KiB events and 4% slower at 100 B
//     (bench/PROFILES.md), but a record can only be matched against a
//     similar one within the window: six versions of a 150 KB document
//     compressed to a fifth with 1 MiB and not at all with 64 KiB.
const zstdWindow = 1 << 20

// zstdDecoderWindow is the largest window the decoder accepts: libzstd's
// ZSTD_WINDOWLOG_LIMIT_DEFAULT (2^27), which zstd-jni readers and so Kafka
// brokers keep.
const zstdDecoderWindow = 1 << 27

// zstdEncoder compresses with one klauspost Encoder: EncodeAll is safe for
// concurrent use and keeps GOMAXPROCS block encoders of its own, reused
// across calls, so it needs no free list.
type zstdEncoder struct {
	enc *zstd.Encoder
}

func zstdLibLevel(level int) zstd.EncoderLevel {
	if level == 0 {
		level = ZstdDefaultLevel
	}
	return zstd.EncoderLevelFromZstd(level)
}

func newZstdEncoder(level int) (*zstdEncoder, error) {
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstdLibLevel(level)),
		zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)),
		zstd.WithWindowSize(zstdWindow),
		zstd.WithEncoderCRC(false),
		zstd.WithZeroFrames(true),
	)
	if err != nil {
		return nil, fmt.Errorf("kprod: zstd encoder: %w", err)
	}
	return &zstdEncoder{enc: enc}, nil
}

func (e *zstdEncoder) compress(dst, src []byte) ([]byte, error) {
	// With MaxEncodedSize spare bytes, EncodeAll appends in place.
	dst = grow(dst, e.enc.MaxEncodedSize(len(src)))
	return e.enc.EncodeAll(src, dst), nil
}

func newZstdDecoder(limit int) (*zstd.Decoder, error) {
	dec, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(runtime.GOMAXPROCS(0)),
		zstd.WithDecoderMaxMemory(uint64(limit)),
		zstd.WithDecoderMaxWindow(zstdDecoderWindow),
	)
	if err != nil {
		return nil, fmt.Errorf("kprod: zstd decoder: %w", err)
	}
	return dec, nil
}

// decompressZstd appends the content of every zstd frame in src to dst.
// The decoder's max-memory bound rejects a frame that declares more than
// the limit (in content or window size) before allocating for it, and stops
// one that outgrows it.
func (d *Decompressor) decompressZstd(dst, src []byte) ([]byte, error) {
	dec, err := d.zstdDecoder()
	if err != nil {
		return dst, err
	}
	start := len(dst)
	out, err := dec.DecodeAll(src, dst)
	if errors.Is(err, zstd.ErrDecoderSizeExceeded) || errors.Is(err, zstd.ErrWindowSizeExceeded) {
		return dst[:start], ErrTooLarge
	}
	if err != nil {
		return dst[:start], corrupt(Zstd, err)
	}
	return out, nil
}
